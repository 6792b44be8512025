/**
 * N vendor accounts give N times the per-account limit: four CAMS accounts (each its own
 * AccessKey, the simulator holding each to 5 calls per second as the vendor does) are asked at
 * the same time through two instances on one table, and each holds its own 5 per second while
 * together they go well past one account's limit. Real seconds of load: in the SLOW list.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LambdaHandler } from '../../lib/spec/operation.js';
import { httpApiEvent, lambdaContext } from '../../sim/lambda-events.js';
import { type TableItems, tableItems } from '../../sim/table-items.js';
import { SIMULATOR_DEFAULT_KEYS } from '../../sim/vendor-simulator.js';
import { KEY_PARAMETERS, useBrokerEnv } from '../support/broker-env.js';
import { busiestWindow } from '../support/busiest-window.js';
import { type HttpAnswer, invokeHttp } from '../support/invoke-http.js';

const CAMS = '/v1/aliyun/cams/upload-authorization';
const ACTION = 'GetChatappUploadAuthorization';
const POLICY = '/cloud-token-broker/test/policy';
const ACCOUNTS = ['a', 'b', 'c', 'd'] as const;
/** CAMS's per-account limit (the spec's ratePerSecond, the vendor's quota). */
const LIMIT = 5;
const PER_ACCOUNT = 16;
const keyOf = (account: string) => ({ accessKeyId: `sim-aliyun-${account}`, accessKeySecret: `sim-aliyun-${account}-secret-3e7c` });

const broker = useBrokerEnv({
  env: { POLICY_PARAMETER: POLICY, ALIYUN_ACCOUNTS: ACCOUNTS.join(',') },
  simulator: {
    aliyunKeys: [{ ...SIMULATOR_DEFAULT_KEYS.aliyun }, ...ACCOUNTS.map(keyOf)],
    accountRateLimit: { perSecond: LIMIT, actions: [ACTION] },
  },
});
let items: TableItems;
beforeAll(() => {
  items = tableItems(broker.table!);
});
afterAll(() => items.close());
beforeEach(() => {
  for (const account of ACCOUNTS) broker.ssm.put(`${KEY_PARAMETERS.aliyun}/${account}`, keyOf(account));
  // Each caller is its own tenant (no `tenant`), so no tenant's share limits the account's calls.
  broker.ssm.put(POLICY, {
    version: 1,
    rules: [{ id: 'by-org', callers: [{ claims: { org: '*' } }], operations: ['cams:*'], account: '${org}' }],
  });
});

async function startInstances(n: number): Promise<LambdaHandler[]> {
  const instances: LambdaHandler[] = [];
  for (let i = 0; i < n; i++) {
    vi.resetModules();
    instances.push((await import('../../functions/cams-get-upload-authorization.js')).handler);
  }
  return instances;
}

describe('rate budgets per account, across instances', () => {
  it(`four accounts each hold ${LIMIT} calls per second at the same time, ${4 * LIMIT} per second in all at most`, async () => {
    // Two instances: across instances is the point. A third process on two cores made the
    // simulator (in this process) stall now and then, and a stalled simulator stamps requests
    // that arrived on their slots as one burst (a CI run saw two Throttling.User so).
    const instances = await startInstances(2);
    let n = 0;
    const asks: Promise<HttpAnswer>[] = [];
    for (let i = 0; i < PER_ACCOUNT; i++) {
      for (const account of ACCOUNTS) {
        const instance = instances[n++ % instances.length]!;
        const claims = { iss: 'https://issuer.example.test', sub: `user-${account}-${i}`, org: account };
        const event = httpApiEvent(CAMS, { custSpaceId: `cs-${account}-${i}` }, { authorizer: { jwt: { claims, scopes: null } } });
        // Generous deadlines: 16 calls at 4 a second take 4 s; a loaded machine may take longer.
        asks.push(invokeHttp(instance, event, lambdaContext(25_000)));
      }
    }
    const answers = await Promise.all(asks);
    expect(answers.filter((a) => a.statusCode !== 200).map((a) => a.json)).toEqual([]);
    const calls = broker.sim.callsTo(ACTION);
    // The simulator throttled nothing: no account went past its own limit at the vendor.
    expect(calls.filter((c) => c.code !== 'OK').map((c) => c.code)).toEqual([]);
    expect(calls).toHaveLength(ACCOUNTS.length * PER_ACCOUNT);
    const busiest: Record<string, number> = {};
    for (const account of ACCOUNTS) {
      const mine = calls.filter((c) => c.accessKeyId === keyOf(account).accessKeyId);
      expect(mine).toHaveLength(PER_ACCOUNT);
      expect(mine.every((c) => String(c.params.CustSpaceId).startsWith(`cs-${account}-`))).toBe(true);
      busiest[account] = busiestWindow(mine.map((c) => c.receivedAt));
      expect(busiest[account]).toBeLessThanOrEqual(LIMIT);
    }
    // Together they went past what one account allows: the accounts' budgets are separate.
    const all = busiestWindow(calls.map((c) => c.receivedAt));
    expect(all, JSON.stringify({ all, busiest })).toBeGreaterThan(2 * LIMIT);
    expect(all).toBeLessThanOrEqual(ACCOUNTS.length * LIMIT);
    // Each account's slots are its own items, under the function's name.
    const slots = (await items.keys()).filter((pk) => pk.includes('#rate#'));
    for (const account of ACCOUNTS) {
      expect(slots.some((pk) => pk.startsWith(`cams-get-upload-authorization#rate#${account}#`))).toBe(true);
    }
    expect(slots.some((pk) => /#rate#\d+$/.test(pk))).toBe(false);
  }, 60_000);
});
