import { fork } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { camsGetUploadAuthorization } from '../../lib/operations/cams-get-upload-authorization.js';
import type { LambdaHandler } from '../../lib/spec/operation.js';
import { bodyKey } from '../../lib/state/body-key.js';
import { LEASE_MS, tokenKey } from '../../lib/state/token-lease.js';
import { httpApiEvent, lambdaContext } from '../../sim/lambda-events.js';
import { type TableItems, tableItems } from '../../sim/table-items.js';
import { useBrokerEnv } from '../support/broker-env.js';
import { busiestWindow } from '../support/busiest-window.js';
import { type HttpAnswer, invokeHttp } from '../support/invoke-http.js';

/**
 * Several Lambda instances against one local token table and one vendor simulator. Each
 * instance is a fresh copy of the function's modules (memory, table client, rate budget:
 * nothing shared but the table), or a child process where an instance must die.
 */
const CAMS = '/v1/aliyun/cams/upload-authorization';
const ACTION = 'GetChatappUploadAuthorization';

const broker = useBrokerEnv();
let items: TableItems;
beforeAll(() => {
  items = tableItems(broker.table!);
});
afterAll(() => items.close());

/** A new instance: the function module and everything it imports, evaluated afresh. */
async function startInstance(): Promise<LambdaHandler> {
  vi.resetModules();
  const module = await import('../../functions/cams-get-upload-authorization.js');
  return module.handler;
}
/** One after the other: a reset only makes the imports after it, up to the next reset, a new instance. */
async function startInstances(n: number): Promise<LambdaHandler[]> {
  const instances: LambdaHandler[] = [];
  for (let i = 0; i < n; i++) instances.push(await startInstance());
  expect(new Set(instances).size).toBe(n);
  return instances;
}

const ask = (
  instance: LambdaHandler,
  custSpaceId: string,
  remainingMs = 10_000,
  authorizer?: Record<string, unknown>,
): Promise<HttpAnswer> =>
  invokeHttp(instance, httpApiEvent(CAMS, { custSpaceId }, authorizer && { authorizer }), lambdaContext(remainingMs));
/** An IAM caller: its own tenant of the rate budget (lib/access/tenant.ts). */
const iamCaller = (n: number) => ({ iam: { userArn: `arn:aws:iam::123456789012:user/caller-${n}`, accountId: '123456789012' } });

describe('several instances, one table', () => {
  it('200 concurrent requests for one new body over 4 instances make one vendor call, and all get the same credentials', async () => {
    const instances = await startInstances(4);
    await broker.table!.resetRequests();
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => ask(instances[i % 4]!, 'burst-shared')));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(200).fill(200));
    expect(broker.sim.callsTo(ACTION)).toHaveLength(1);
    // Four instances, each one reader of the table for its 50 requests: single flight inside each.
    const requests = await broker.table!.requests();
    expect(requests.GetItem).toBeGreaterThanOrEqual(4);
    expect(requests.GetItem).toBeLessThan(50);
    const credentials = new Set(answers.map((a) => JSON.stringify(a.json.data)));
    expect(credentials.size).toBe(1);
    expect(new Set(answers.map((a) => a.json.expiresAt)).size).toBe(1);
  });

  it('a fresh instance serves a body another instance fetched, with no vendor call', async () => {
    const [first, second] = await startInstances(2);
    const fetched = await ask(first!, 'fetched-elsewhere');
    await broker.table!.resetRequests();
    const served = await ask(second!, 'fetched-elsewhere');
    expect(served.statusCode).toBe(200);
    expect(await broker.table!.requests()).toEqual({ GetItem: 1 });
    expect(served.json.data).toEqual(fetched.json.data);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(1);
  });

  it('40 distinct CAMS bodies over 4 instances never put more than 5 calls into any second, as the vendor received them', async () => {
    const instances = await startInstances(4);
    // Ten callers, each its own tenant, so the account's limit is what binds, not one tenant's share.
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => ask(instances[i % 4]!, `rate-${i}`, 30_000, iamCaller(i % 10))));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(40).fill(200));
    const calls = broker.sim.callsTo(ACTION);
    expect(calls).toHaveLength(40);
    const times = calls.map((c) => c.receivedAt).sort((a, b) => a - b);
    expect(busiestWindow(times)).toBeLessThanOrEqual(5);
  }, 40_000);

  it('a request that cannot get a rate slot before its deadline answers 429 Throttled with Retry-After', async () => {
    const instances = await startInstances(2);
    // 1.5 s to live, less the deadline margin: room for about five slots, not twelve.
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => ask(instances[i % 2]!, `late-${i}`, 1_500)));
    const throttled = answers.filter((a) => a.statusCode === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.statusCode === 200).length).toBeGreaterThan(0);
    for (const answer of throttled) {
      expect(answer.json.error.code).toBe('Throttled');
      expect(Number(answer.headers!['Retry-After'])).toBeGreaterThanOrEqual(1);
    }
    expect(answers.every((a) => a.statusCode === 200 || a.statusCode === 429)).toBe(true);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(12 - throttled.length);
  });

  it('a lease whose holder died mid-call is taken over within seconds', async () => {
    const body = { custSpaceId: 'holder-dies' };
    const pk = tokenKey(camsGetUploadAuthorization, bodyKey(body));
    // The first instance's vendor call never comes back...
    broker.sim.script({ action: ACTION, params: { CustSpaceId: body.custSpaceId }, fault: { kind: 'hang' } });
    const holder = fork(new URL('../support/instance-process.ts', import.meta.url).pathname, [CAMS, JSON.stringify(body)], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    try {
      // ...and it dies while holding the lease.
      await vi.waitFor(
        async () => {
          expect(broker.sim.callsTo(ACTION)).toHaveLength(1);
          expect((await items.get(pk))?.leaseOwner).toEqual(expect.any(String));
        },
        { timeout: 15_000, interval: 50 },
      );
    } finally {
      holder.kill('SIGKILL');
    }
    const diedAt = Date.now();
    const answer = await ask(await startInstance(), body.custSpaceId);
    expect(answer.statusCode).toBe(200);
    expect(Date.now() - diedAt).toBeLessThan(LEASE_MS + 1_000);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(2);
    expect((await items.token(pk))?.token?.data).toEqual(answer.json.data);
  }, 30_000);
});
