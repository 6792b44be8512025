/**
 * client/ali-oss.ts: ali-oss, the vendor's own storage client, on the options the helper gives it
 * (the app sets no refresh interval), fed by the broker's STS answers (its real function behind a
 * JWT front) or by a credentials agent's `/aliyun/credentials`. The object store
 * (sim/object-storage.ts) accepts only requests signed with credentials the vendor simulator
 * issued, unexpired and within their session policy. The test moves Date through a simulated hour.
 */
import { createServer } from 'node:http';
import OSS from 'ali-oss';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ALI_OSS_CHECK_INTERVAL_MS, agentAliyunCredentials, aliOssCredentials, aliyunStsCredentials } from '../../client/ali-oss.js';
import { createBrokerClient } from '../../client/broker-client.js';
import { type LoopbackServer, listenOnLoopback } from '../../sim/loopback-server.js';
import { type ObjectStorage, startObjectStorage } from '../../sim/object-storage.js';
import { useBrokerEnv } from '../support/broker-env.js';
import { type BrokerFront, startBrokerFront } from '../support/broker-front.js';
import { OSS_BUCKET, STS_POLICY, useStsPolicy, useTenantTokens } from '../support/client-world.js';

const MINUTE = 60_000;
const broker = useBrokerEnv({ table: false, env: STS_POLICY.env }, { resetEach: false });
useStsPolicy(broker);
const tenantAuth = useTenantTokens();
let front: BrokerFront;
let store: ObjectStorage;

beforeAll(async () => {
  front = await startBrokerFront('jwt');
  store = await startObjectStorage({ bucket: OSS_BUCKET, lookup: (id) => broker.sim.issuedCredentials(id) });
});
afterAll(async () => {
  await Promise.all([front?.close(), store?.close()]);
});
beforeEach(() => {
  broker.coldStart();
  broker.sim.reset();
  store.requests.length = 0;
  front.requests.length = 0;
});
afterEach(() => vi.useRealTimers());

/** The app's whole credential wiring, as docs/app-credentials.md writes it. */
async function ossClient(tenant: string) {
  const client = createBrokerClient({ broker: front.url, auth: await tenantAuth(tenant) });
  return new OSS({
    endpoint: store.url,
    bucket: OSS_BUCKET,
    ...(await aliOssCredentials(aliyunStsCredentials(client, { durationSeconds: 900 }))),
  });
}

describe('ali-oss on the helper’s options', () => {
  it('works for an hour on 15-minute credentials with no interval set by the app, two instances sharing the broker’s cache', async () => {
    const now = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now });
    // The second instance starts at minute 7: the broker serves it the first one's cached credentials,
    // with less than their whole lifetime left. refreshAfter covers that case; no interval rule does.
    const first = await ossClient('tenant-a');
    let second: OSS | undefined;
    for (let minute = 0; minute <= 60; minute++) {
      vi.setSystemTime(now + minute * MINUTE);
      if (minute === 7) second = await ossClient('tenant-a');
      for (const client of [first, second]) await client?.put(`tenant-a/minute-${minute}.txt`, Buffer.from(`minute ${minute}`));
    }
    expect(store.requests.filter((r) => r.status !== 200)).toEqual([]);
    expect(store.requests).toHaveLength(61 + 54);
    // Each set came from the vendor through the broker and was replaced before it expired.
    const keys = [...new Set(store.requests.map((r) => r.accessKeyId!))];
    expect(keys.length).toBeGreaterThanOrEqual(4);
    expect(broker.sim.assumeRoleCalls.map((call) => call.issued?.accessKeyId)).toEqual(expect.arrayContaining(keys));
    // Both instances asked the broker about once per set, not once per request.
    expect(front.requests.length).toBeLessThanOrEqual(2 * keys.length + 2);
  });

  it('sets a short interval itself and fetches only once refreshAfter has passed', async () => {
    const now = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now });
    const client = createBrokerClient({ broker: front.url, auth: await tenantAuth('tenant-a') });
    const credentials = aliyunStsCredentials(client, { durationSeconds: 900 });
    const options = await aliOssCredentials(credentials);
    expect(options.refreshSTSTokenInterval).toBe(ALI_OSS_CHECK_INTERVAL_MS);
    vi.setSystemTime(credentials.last!.refreshAfter - 1);
    expect(await options.refreshSTSToken()).toEqual({
      accessKeyId: options.accessKeyId,
      accessKeySecret: options.accessKeySecret,
      stsToken: options.stsToken,
    });
    expect(front.requests).toHaveLength(1);
    vi.setSystemTime(credentials.last!.refreshAfter);
    expect((await options.refreshSTSToken()).accessKeyId).not.toBe(options.accessKeyId);
    expect(front.requests).toHaveLength(2);
  });

  it('fails without the refresh once the first credentials expire: the store does hold clients to expiry', async () => {
    const now = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now });
    const client = createBrokerClient({ broker: front.url, auth: await tenantAuth('tenant-a') });
    const { accessKeyId, accessKeySecret, stsToken } = await aliOssCredentials(aliyunStsCredentials(client, { durationSeconds: 900 }));
    const oss = new OSS({
      endpoint: store.url,
      bucket: OSS_BUCKET,
      accessKeyId,
      accessKeySecret,
      stsToken,
      refreshSTSTokenInterval: MINUTE,
    });
    await oss.put('tenant-a/early.txt', Buffer.from('x'));
    vi.setSystemTime(now + 16 * MINUTE);
    await expect(oss.put('tenant-a/late.txt', Buffer.from('x'))).rejects.toMatchObject({ code: 'SecurityTokenExpired' });
  });

  it("keeps each tenant's credentials inside its own prefix", async () => {
    const oss = await ossClient('tenant-b');
    await oss.put('tenant-b/mine.txt', Buffer.from('x'));
    await expect(oss.put('tenant-a/theirs.txt', Buffer.from('x'))).rejects.toMatchObject({ code: 'AccessDenied' });
    expect(store.objects.has('tenant-a/theirs.txt')).toBe(false);
  });
});

describe('ali-oss on a credentials agent’s /aliyun/credentials', () => {
  let agent: LoopbackServer;
  let agentCalls = 0;

  beforeAll(async () => {
    // The agent's endpoint in its documented answer format (docs/agent.md), here in a few lines over
    // the same broker client; the agent itself is tested on its own.
    const client = createBrokerClient({ broker: front.url, auth: await tenantAuth('tenant-c') });
    const held = aliyunStsCredentials(client, { durationSeconds: 900 });
    agent = await listenOnLoopback(
      createServer(async (_req, res) => {
        agentCalls += 1;
        const { data, expiresAt } = await held.get();
        const body = {
          Code: 'Success',
          AccessKeyId: data.accessKeyId,
          AccessKeySecret: data.accessKeySecret,
          SecurityToken: data.securityToken,
          Expiration: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        };
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
      }),
    );
  });
  afterAll(() => agent?.close());

  it('keeps ali-oss on live credentials for an hour, asking the agent about once a minute', async () => {
    const now = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now });
    const oss = new OSS({
      endpoint: store.url,
      bucket: OSS_BUCKET,
      ...(await aliOssCredentials(agentAliyunCredentials(`${agent.url}/aliyun/credentials`))),
    });
    for (let minute = 0; minute <= 60; minute++) {
      vi.setSystemTime(now + minute * MINUTE);
      await oss.put(`tenant-c/minute-${minute}.txt`, Buffer.from(`minute ${minute}`));
    }
    expect(store.requests.filter((r) => r.status !== 200)).toEqual([]);
    expect(new Set(store.requests.map((r) => r.accessKeyId)).size).toBeGreaterThanOrEqual(4);
    expect(agentCalls).toBeGreaterThanOrEqual(30);
    expect(agentCalls).toBeLessThanOrEqual(62);
  });
});
