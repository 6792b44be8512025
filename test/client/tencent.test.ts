/**
 * client/tencent.ts: Tencent STS credentials from the broker (its real function behind a JWT front)
 * as a tencentcloud-sdk-nodejs `credential`: the official CommonClient signs with them, and a
 * loopback Tencent Cloud API checks the TC3 signature (sim/tencent-signature.ts) with the
 * temporary secret the vendor simulator issued, and the token; after refreshAfter the SDK signs
 * with fresh credentials. And the agent's `/tencent/credentials` as a source.
 */
import { createServer } from 'node:http';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBrokerClient } from '../../client/broker-client.js';
import { agentTencentCredentials, tencentCloudCredential, tencentStsCredentials } from '../../client/tencent.js';
import { type LoopbackServer, listenOnLoopback } from '../../sim/loopback-server.js';
import { expectedTc3Signature, parseTc3Authorization } from '../../sim/tencent-signature.js';
import { useBrokerEnv } from '../support/broker-env.js';
import { type BrokerFront, startBrokerFront } from '../support/broker-front.js';
import { STS_POLICY, useStsPolicy, useTenantTokens } from '../support/client-world.js';
import { loopbackAgent } from '../support/loopback-agent.js';

const broker = useBrokerEnv({ table: false, env: STS_POLICY.env });
useStsPolicy(broker);
const tenantAuth = useTenantTokens();
let front: BrokerFront;
let api: LoopbackServer;
/** What the loopback API saw: the SecretId and whether signature and token held. */
const seen: { secretId: string; valid: boolean }[] = [];

beforeAll(async () => {
  front = await startBrokerFront('jwt');
  api = await listenOnLoopback(
    createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const auth = parseTc3Authorization(req.headers.authorization);
      const issued = auth && broker.sim.issuedCredentials(auth.secretId);
      const headers = Object.fromEntries(auth?.signedHeaders.map((name) => [name, String(req.headers[name] ?? '')]) ?? []);
      const valid =
        !!auth &&
        !!issued &&
        req.headers['x-tc-token'] === issued.securityToken &&
        Date.now() < issued.expiresAt &&
        expectedTc3Signature(
          {
            method: req.method!,
            path: '/',
            query: '',
            headers,
            signedHeaders: auth.signedHeaders,
            body: Buffer.concat(chunks),
            timestamp: Number(req.headers['x-tc-timestamp']),
            service: auth.service,
          },
          issued.accessKeySecret,
        ) === auth.signature;
      seen.push({ secretId: auth?.secretId ?? '', valid });
      const body = valid
        ? { Response: { TotalCount: 0, InstanceSet: [], RequestId: 'r-ok' } }
        : { Response: { Error: { Code: 'AuthFailure.SignatureFailure', Message: 'refused' }, RequestId: 'r-no' } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    }),
  );
});
afterAll(async () => {
  await Promise.all([front?.close(), api?.close()]);
});
afterEach(() => vi.useRealTimers());

describe('tencentCloudCredential', () => {
  it('lets the official SDK sign with the broker’s temporary credentials, fresh ones after refreshAfter', async () => {
    const now = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now });
    const credentials = tencentStsCredentials(createBrokerClient({ broker: front.url, auth: await tenantAuth('tenant-a') }), {
      durationSeconds: 900,
    });
    const cvm = new CommonClient('cvm.tencentcloudapi.com', '2017-03-12', {
      credential: tencentCloudCredential(credentials),
      region: 'ap-guangzhou',
      profile: { httpProfile: { protocol: 'http://', agent: loopbackAgent(() => api.port), reqTimeout: 10 } },
    });
    await cvm.request('DescribeInstances', {});
    vi.setSystemTime(credentials.last!.refreshAfter);
    await cvm.request('DescribeInstances', {});
    expect(seen.map((s) => s.valid)).toEqual([true, true]);
    expect(new Set(seen.map((s) => s.secretId)).size).toBe(2);
  });

  it('reads the agent’s /tencent/credentials, and refuses a broken answer', async () => {
    const held = tencentStsCredentials(createBrokerClient({ broker: front.url, auth: await tenantAuth('tenant-b') }));
    const agent = await listenOnLoopback(
      createServer(async (req, res) => {
        if (req.url !== '/tencent/credentials') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"TmpSecretId":""}');
        const { data, expiresAt } = await held.get();
        const body = {
          TmpSecretId: data.tmpSecretId,
          TmpSecretKey: data.tmpSecretKey,
          Token: data.token,
          ExpiredTime: Math.floor(expiresAt / 1000),
        };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      }),
    );
    try {
      const fromAgent = await agentTencentCredentials(`${agent.url}/tencent/credentials`).get();
      expect(fromAgent.data).toEqual(held.last?.data);
      expect(fromAgent.expiresAt).toBe(Math.floor(held.last!.expiresAt / 1000) * 1000);
      // Asked again within a minute: the agent refreshes ahead itself.
      expect(fromAgent.refreshAfter - Date.now()).toBeLessThanOrEqual(60_000);
      await expect(agentTencentCredentials(`${agent.url}/other`).get()).rejects.toThrow('without the credentials');
    } finally {
      await agent.close();
    }
  });
});
