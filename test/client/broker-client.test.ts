/**
 * createBrokerClient against a real local HTTP front (test/support/broker-front.ts) that runs the
 * broker's real function handlers on the vendor simulator: typed answers, the broker's errors
 * (403, 429, 502) as BrokerCallError with no secret in the message, and the base URL rules.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerCallError, createBrokerClient } from '../../client/broker-client.js';
import { type LoopbackServer, listenOnLoopback } from '../../sim/loopback-server.js';
import { SIMULATOR_DEFAULT_KEYS } from '../../sim/vendor-simulator.js';
import { useBrokerEnv } from '../support/broker-env.js';
import { type BrokerFront, startBrokerFront } from '../support/broker-front.js';
import { STS_POLICY, useStsPolicy } from '../support/client-world.js';

const broker = useBrokerEnv({ table: false, env: STS_POLICY.env });
useStsPolicy(broker);
let front: BrokerFront;
let dir: string;
let tokenFile: string;

beforeAll(async () => {
  front = await startBrokerFront('jwt');
  dir = await mkdtemp(join(tmpdir(), 'broker-client-'));
  tokenFile = join(dir, 'token');
  await writeFile(tokenFile, 'tenant-a.v1\n');
});
afterAll(async () => {
  await front?.close();
  await rm(dir, { recursive: true, force: true });
});

const client = () => createBrokerClient({ broker: front.url, auth: { kind: 'jwt-file', path: tokenFile } });

/** What must never appear in an error message: the master keys and the bearer token. */
const SECRETS = () => [SIMULATOR_DEFAULT_KEYS.aliyun.accessKeySecret, SIMULATOR_DEFAULT_KEYS.tencent.secretKey, 'tenant-a.v1'];

async function callError(promise: Promise<unknown>): Promise<BrokerCallError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BrokerCallError);
  const message = (error as Error).message;
  for (const secret of SECRETS()) expect(message).not.toContain(secret);
  return error as BrokerCallError;
}

describe('createBrokerClient', () => {
  it('posts a route and answers with its typed data, expiresAt and refreshAfter', async () => {
    const answer = await client().post('/v1/aliyun/sts/assume-role', { durationSeconds: 900 });
    expect(answer.operation).toBe('aliyun-sts:AssumeRole');
    expect(answer.data?.accessKeyId).toMatch(/^STS\./);
    expect(broker.sim.issuedCredentials(answer.data!.accessKeyId)?.securityToken).toBe(answer.data?.securityToken);
    expect(Date.parse(answer.refreshAfter!)).toBeLessThan(Date.parse(answer.expiresAt!));
    const tencent = await client().post('/v1/tencent/sts/assume-role', {});
    expect(tencent.data?.credentials.tmpSecretId).toBeTruthy();
  });

  it('403 Forbidden (the caller policy refuses the caller) is a BrokerCallError with the code and status', async () => {
    await writeFile(tokenFile, 'intruder.v1');
    try {
      const error = await callError(client().post('/v1/aliyun/sts/assume-role', {}));
      expect(error).toMatchObject({ status: 403, code: 'Forbidden' });
      expect(error.message).toMatch(/^broker \/v1\/aliyun\/sts\/assume-role answered 403 Forbidden/);
      expect(error.requestId).toBeTruthy();
    } finally {
      await writeFile(tokenFile, 'tenant-a.v1');
    }
  });

  it('429 Throttled carries retryAfterMs from Retry-After', async () => {
    broker.sim.script({ action: 'AssumeRole', times: 10, fault: { kind: 'aliyunError', status: 400, code: 'Throttling.User' } });
    const error = await callError(client().post('/v1/aliyun/sts/assume-role', { durationSeconds: 1800 }));
    expect(error).toMatchObject({ status: 429, code: 'Throttled' });
    expect(error.retryAfterMs).toBeGreaterThanOrEqual(1000);
  });

  it('502 VendorError (the vendor answered nonsense) names the code, not the answer', async () => {
    broker.sim.script({
      action: 'AssumeRole',
      times: 10,
      fault: { kind: 'malformed', body: '{"Credentials":{"AccessKeySecret":"leak-me"' },
    });
    const error = await callError(client().post('/v1/aliyun/sts/assume-role', { durationSeconds: 3600 }));
    expect(error).toMatchObject({ status: 502, code: 'VendorError' });
    expect(error.message).not.toContain('leak-me');
  });

  it('an answer that is not the broker’s, and a broker that cannot be reached, are BrokerCallErrors too', async () => {
    const impostor: LoopbackServer = await listenOnLoopback(
      createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"accessKeySecret":"leak-me"}')),
    );
    try {
      const error = await callError(
        createBrokerClient({ broker: impostor.url, auth: { kind: 'none' } }).post('/v1/aliyun/sts/assume-role', {}),
      );
      expect(error.message).toContain('not the broker');
      expect(error.message).not.toContain('leak-me');
    } finally {
      await impostor.close();
    }
    const gone = await callError(
      createBrokerClient({ broker: impostor.url, auth: { kind: 'none' } }).post('/v1/aliyun/sts/assume-role', {}),
    );
    expect(gone.status).toBeUndefined();
    expect(gone.message).toMatch(/unreachable/);
  });

  it('takes https, or plain http on loopback only', () => {
    expect(() => createBrokerClient({ broker: 'http://broker.example.com', auth: { kind: 'none' } })).toThrow(/https/);
    expect(() => createBrokerClient({ broker: 'not a url', auth: { kind: 'none' } })).toThrow(/absolute URL/);
    expect(() => createBrokerClient({ broker: 'https://abc.execute-api.eu-west-1.amazonaws.com/', auth: { kind: 'none' } })).not.toThrow();
    expect(() => createBrokerClient({ broker: 'http://127.0.0.1:3000', auth: { kind: 'none' } })).not.toThrow();
  });
});
