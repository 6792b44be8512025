import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LambdaHandler } from '../../lib/spec/operation.js';
import { tenantHash } from '../../lib/state/rate-budget.js';
import { httpApiEvent, lambdaContext } from '../../sim/lambda-events.js';
import { type TableItems, tableItems } from '../../sim/table-items.js';
import { useBrokerEnv } from '../support/broker-env.js';
import { busiestWindow } from '../support/busiest-window.js';
import { type HttpAnswer, invokeHttp } from '../support/invoke-http.js';

/**
 * Fair shares of CAMS's account-wide budget (5 calls/s) between tenants, against the local
 * table, the vendor simulator and several instances of the function (docs/contracts.md,
 * "Shared state"): one tenant asking for many distinct bodies does not starve another.
 */
const CAMS = '/v1/aliyun/cams/upload-authorization';
const ACTION = 'GetChatappUploadAuthorization';
const POLICY = '/cloud-token-broker/test/policy';

/** IAM callers are their own tenants; JWT callers of the `orgs` rule share their organisation's. */
const policy = {
  version: 1,
  rules: [
    { id: 'account-roles', callers: [{ principal: 'arn:aws:sts::123456789012:assumed-role/*' }], operations: ['cams:*'] },
    { id: 'orgs', callers: [{ claims: { scope: 'uploads' } }], operations: ['cams:*'], tenant: 'org-${org}' },
  ],
};

const broker = useBrokerEnv({ env: { POLICY_PARAMETER: POLICY } });
let items: TableItems;
beforeAll(() => {
  items = tableItems(broker.table!);
});
afterAll(() => items.close());
beforeEach(() => {
  broker.ssm.put(POLICY, policy);
});

async function startInstances(n: number): Promise<LambdaHandler[]> {
  const instances: LambdaHandler[] = [];
  for (let i = 0; i < n; i++) {
    vi.resetModules();
    instances.push((await import('../../functions/cams-get-upload-authorization.js')).handler);
  }
  return instances;
}

const role = (name: string) => ({ iam: { userArn: `arn:aws:sts::123456789012:assumed-role/${name}/session`, accountId: '123456789012' } });
const member = (org: string | undefined, sub: string) => ({
  jwt: { claims: { iss: 'https://issuer.example.test', sub, scope: 'uploads', ...(org !== undefined && { org }) }, scopes: null },
});

function ask(
  instance: LambdaHandler,
  custSpaceId: string,
  authorizer: Record<string, unknown>,
  remainingMs: number,
): Promise<HttpAnswer & { at: number }> {
  return invokeHttp(instance, httpApiEvent(CAMS, { custSpaceId }, { authorizer }), lambdaContext(remainingMs)).then((answer) => ({
    ...answer,
    at: Date.now(),
  }));
}

const FLOOD = 40;
/** The flood's requests live 5 s: on the old first-come-first-served budget they took every slot that long. */
const FLOOD_MS = 5_000;
/** The other tenant's one request lives 3 s: well past its share's next slot, far short of the flood's end. */
const LONE_MS = 3_000;

describe('fair shares of a rate budget across instances', () => {
  it("one IAM caller flooding 40 distinct bodies over 2 instances: another caller's request is still served within its deadline", async () => {
    // No `tenant` in the policy: each caller is its own tenant.
    broker.ssm.put(POLICY, { version: 1, rules: [policy.rules[0]] });
    const [first, second] = await startInstances(2);
    const flood = Promise.all(
      Array.from({ length: FLOOD }, (_, i) => ask(i % 2 === 0 ? first! : second!, `flood-${i}`, role('bulk-importer'), FLOOD_MS)),
    );
    // The flood has asked for its slots first.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const asked = Date.now();
    const lone = await ask(second!, 'lone-1', role('web-app'), LONE_MS);
    expect(lone.statusCode, JSON.stringify(lone.json)).toBe(200);
    expect(lone.at - asked).toBeLessThan(LONE_MS);
    const flooded = await flood;
    // The flooder is served at its share and refused (429) past its deadline, never an error.
    expect(flooded.every((a) => a.statusCode === 200 || a.statusCode === 429)).toBe(true);
    expect(flooded.filter((a) => a.statusCode === 429).length).toBeGreaterThan(0);
    // Its vendor calls took its share (2 of CAMS's 5 per second, counted by the second a slot starts
    // in) and no more: at most 2 per second of its requests' lives, and 4 in any sliding second.
    const calls = broker.sim.callsTo(ACTION);
    const floodCalls = calls.filter((c) => String(c.params.CustSpaceId).startsWith('flood-')).map((c) => c.receivedAt);
    expect(floodCalls.length).toBe(flooded.filter((a) => a.statusCode === 200).length);
    expect(floodCalls.length).toBeLessThanOrEqual(2 * (FLOOD_MS / 1_000 + 1));
    expect(busiestWindow(floodCalls)).toBeLessThanOrEqual(4);
    // The account's own limit held throughout.
    expect(busiestWindow(calls.map((c) => c.receivedAt))).toBeLessThanOrEqual(5);
  }, 30_000);

  it("the caller policy's tenant: members of one organisation share one share, another organisation's member is served", async () => {
    const [first, second] = await startInstances(2);
    // Forty members of one organisation, each asking once: one tenant, not forty.
    const flood = Promise.all(
      Array.from({ length: FLOOD }, (_, i) => ask(i % 2 === 0 ? first! : second!, `org-flood-${i}`, member('acme', `user-${i}`), FLOOD_MS)),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const lone = await ask(first!, 'org-lone', member('globex', 'user-0'), LONE_MS);
    expect(lone.statusCode, JSON.stringify(lone.json)).toBe(200);
    const flooded = await flood;
    expect(flooded.filter((a) => a.statusCode === 429).length).toBeGreaterThan(0);
    // The table counts tickets per tenant under the function's own keys, the tenant hashed.
    const acme = tenantHash('policy:org-acme');
    const keys = (await items.keys()).filter((pk) => pk.includes('#share#'));
    expect(keys.length).toBeGreaterThan(0);
    for (const pk of keys) expect(pk).toMatch(/^cams-get-upload-authorization#share#[0-9a-f]{32}#\d+$/);
    expect(keys.some((pk) => pk.includes(acme))).toBe(true);
    expect(keys.join(' ')).not.toContain('acme');
  }, 30_000);

  it('a rule whose tenant names a claim the caller lacks refuses it (403, naming the claim), before any vendor call', async () => {
    const [instance] = await startInstances(1);
    const answer = await ask(instance!, 'no-org', member(undefined, 'user-x'), 5_000);
    expect(answer.statusCode).toBe(403);
    expect(answer.json.error.code).toBe('Forbidden');
    expect(answer.json.error.message).toContain('org');
    const emptyOrg = await ask(instance!, 'no-org', member('', 'user-y'), 5_000);
    expect(emptyOrg.statusCode).toBe(403);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(0);
  });
});
