/**
 * An app's view (docs/app-credentials.md): ali-oss, the vendor's own storage client, takes the
 * broker's STS answer as its credentials and, through `refreshSTSToken`, asks the broker again
 * before they expire. The broker's function answers behind a small HTTP front (what API Gateway
 * and its JWT authorizer do); the object store (sim/object-storage.ts) accepts only requests
 * signed with credentials the vendor simulator issued, unexpired and within their session
 * policy. The clock is moved by the test (Date only), through a simulated hour.
 */
import { createServer } from 'node:http';
import OSS from 'ali-oss';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as assumeRole } from '../../functions/aliyun-sts-assume-role.js';
import { httpApiEvent, lambdaContext } from '../../sim/lambda-events.js';
import { type LoopbackServer, listenOnLoopback } from '../../sim/loopback-server.js';
import { type ObjectStorage, startObjectStorage } from '../../sim/object-storage.js';
import { useBrokerEnv } from '../support/broker-env.js';

const ROUTE = '/v1/aliyun/sts/assume-role';
const POLICY = '/cloud-token-broker/test/policy';
const BUCKET = 'uploads';
const LIFETIME_S = 900;
const MINUTE = 60_000;

const broker = useBrokerEnv(
  { table: false, env: { POLICY_PARAMETER: POLICY, ALIYUN_STS_ROLE_ARN: 'acs:ram::1234567890123456:role/app-uploads' } },
  { resetEach: false },
);
let front: LoopbackServer;
let store: ObjectStorage;

beforeAll(async () => {
  broker.ssm.put(POLICY, {
    version: 1,
    rules: [
      {
        id: 'tenant-uploads',
        callers: [{ claims: { tenant: 'tenant-*' } }],
        operations: ['aliyun-sts:AssumeRole'],
        sessionPolicy: {
          Version: '1',
          Statement: [{ Effect: 'Allow', Action: ['oss:PutObject', 'oss:GetObject'], Resource: [`acs:oss:*:*:${BUCKET}/\${tenant}/*`] }],
        },
      },
    ],
  });
  // API Gateway with a JWT authorizer, in miniature: the bearer token here is just the tenant's name.
  front = await listenOnLoopback(
    createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const tenant = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
      const claims = { iss: 'https://issuer.example.test', sub: `app-of-${tenant}`, tenant };
      const event = httpApiEvent(ROUTE, JSON.parse(Buffer.concat(chunks).toString() || '{}'), {
        authorizer: { jwt: { claims, scopes: null } },
      });
      const answer = (await assumeRole(event, lambdaContext())) as { statusCode: number; headers: Record<string, string>; body: string };
      res.writeHead(answer.statusCode, answer.headers).end(answer.body);
    }),
  );
  store = await startObjectStorage({ bucket: BUCKET, lookup: (id) => broker.sim.issuedCredentials(id) });
});
afterAll(async () => {
  await Promise.all([front?.close(), store?.close()]);
});
beforeEach(() => {
  broker.coldStart();
  broker.sim.reset();
  store.requests.length = 0;
});
afterEach(() => vi.useRealTimers());

/** The app's side, as docs/app-credentials.md writes it: the broker's answer as ali-oss's credentials. */
async function brokerCredentials(tenant: string) {
  const answer = await fetch(`${front.url}${ROUTE}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant}` },
    body: JSON.stringify({ durationSeconds: LIFETIME_S }),
  });
  if (!answer.ok) throw new Error(`broker answered ${answer.status}`);
  const { data } = (await answer.json()) as { data: { accessKeyId: string; accessKeySecret: string; securityToken: string } };
  return { accessKeyId: data.accessKeyId, accessKeySecret: data.accessKeySecret, stsToken: data.securityToken };
}

async function ossClient(tenant: string, refresh: boolean) {
  const first = await brokerCredentials(tenant);
  return new OSS({
    endpoint: store.url,
    bucket: BUCKET,
    ...first,
    // A fifth of the lifetime: a cached answer may have only a quarter of its lifetime left.
    refreshSTSTokenInterval: (LIFETIME_S * 1000) / 5,
    ...(refresh && { refreshSTSToken: () => brokerCredentials(tenant) }),
  });
}

describe('ali-oss on the broker’s STS credentials', () => {
  it('works for an hour on credentials that live 15 minutes, refreshing before each set expires', async () => {
    const now = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now });
    // Two instances of one app (one scope, so the broker serves the second from its cache, with
    // less than the whole lifetime left): the refresh interval must cover that case too.
    const first = await ossClient('tenant-a', true);
    let second: OSS | undefined;
    for (let minute = 0; minute <= 60; minute++) {
      vi.setSystemTime(now + minute * MINUTE);
      if (minute === 7) second = await ossClient('tenant-a', true);
      for (const client of [first, second]) await client?.put(`tenant-a/minute-${minute}.txt`, Buffer.from(`minute ${minute}`));
    }
    expect(store.requests.filter((r) => r.status !== 200)).toEqual([]);
    expect(store.requests).toHaveLength(61 + 54);
    // Each set of credentials came from the vendor through the broker, and was replaced before it expired.
    const keys = [...new Set(store.requests.map((r) => r.accessKeyId!))];
    expect(keys.length).toBeGreaterThanOrEqual(4);
    expect(broker.sim.assumeRoleCalls.map((call) => call.issued?.accessKeyId)).toEqual(expect.arrayContaining(keys));
  });

  it('fails without the refresh once the first credentials expire: the store does hold clients to expiry', async () => {
    const now = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now });
    const client = await ossClient('tenant-a', false);
    await client.put('tenant-a/early.txt', Buffer.from('x'));
    vi.setSystemTime(now + 16 * MINUTE);
    await expect(client.put('tenant-a/late.txt', Buffer.from('x'))).rejects.toMatchObject({ code: 'SecurityTokenExpired' });
  });

  it("keeps each tenant's credentials inside its own prefix", async () => {
    const client = await ossClient('tenant-b', true);
    await client.put('tenant-b/mine.txt', Buffer.from('x'));
    await expect(client.put('tenant-a/theirs.txt', Buffer.from('x'))).rejects.toMatchObject({ code: 'AccessDenied' });
    expect(store.objects.has('tenant-a/theirs.txt')).toBe(false);
  });
});
