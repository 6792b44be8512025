/**
 * client/auth.ts: the `--auth` flag, a bearer JWT read from its file at every call (a rotated
 * token arrives at the next call), and SigV4 for `execute-api` with the AWS default credential
 * chain, verified by a front that re-signs the request with @smithy/signature-v4.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, parseAuth } from '../../client/auth.js';
import { createBrokerClient } from '../../client/broker-client.js';
import { useBrokerEnv } from '../support/broker-env.js';
import { type BrokerFront, FRONT_AWS_CREDENTIALS, FRONT_REGION, startBrokerFront } from '../support/broker-front.js';
import { STS_POLICY, useStsPolicy } from '../support/client-world.js';

const broker = useBrokerEnv({ table: false, env: STS_POLICY.env });
useStsPolicy(broker);
let jwtFront: BrokerFront;
let iamFront: BrokerFront;
let dir: string;

beforeAll(async () => {
  [jwtFront, iamFront] = await Promise.all([startBrokerFront('jwt'), startBrokerFront('iam')]);
  dir = await mkdtemp(join(tmpdir(), 'broker-auth-'));
  // What the default chain reads first; the fake SSM and KMS take any credentials.
  process.env.AWS_ACCESS_KEY_ID = FRONT_AWS_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = FRONT_AWS_CREDENTIALS.secretAccessKey;
  process.env.AWS_REGION = FRONT_REGION;
});
afterAll(async () => {
  await Promise.all([jwtFront?.close(), iamFront?.close()]);
  await rm(dir, { recursive: true, force: true });
});

describe('parseAuth', () => {
  it('reads iam, jwt-file=<path> and none, and refuses anything else clearly', () => {
    expect(parseAuth('iam')).toEqual({ kind: 'iam' });
    expect(parseAuth('none')).toEqual({ kind: 'none' });
    expect(parseAuth('jwt-file=/run/secrets/broker-token')).toEqual({ kind: 'jwt-file', path: '/run/secrets/broker-token' });
    expect(() => parseAuth('jwt-file=')).toThrow('needs the path');
    expect(() => parseAuth('jwt')).toThrow('--auth must be iam, jwt-file=<path> or none');
    expect(() => parseAuth('IAM')).toThrow('--auth must be');
  });
});

describe('a bearer JWT from a file', () => {
  it('is read at every call: a rotated token arrives at the next call', async () => {
    const file = join(dir, 'rotating');
    const client = createBrokerClient({ broker: jwtFront.url, auth: { kind: 'jwt-file', path: file } });
    await writeFile(file, 'tenant-a.first\n');
    await client.post('/v1/aliyun/sts/assume-role', {});
    await writeFile(file, '  tenant-a.second  ');
    await client.post('/v1/aliyun/sts/assume-role', {});
    expect(jwtFront.requests.map((r) => [r.authorization, r.status])).toEqual([
      ['Bearer tenant-a.first', 200],
      ['Bearer tenant-a.second', 200],
    ]);
  });

  it('a missing or empty file is a clear error naming the path, never the token', async () => {
    const missing = join(dir, 'missing');
    const request = { url: `${jwtFront.url}/v1/aliyun/sts/assume-role`, method: 'POST', headers: {}, body: '{}' };
    await expect(authorize(request, { kind: 'jwt-file', path: missing })).rejects.toThrow(
      `cannot read the broker token file ${missing} (ENOENT)`,
    );
    const empty = join(dir, 'empty');
    await writeFile(empty, ' \n');
    await expect(authorize(request, { kind: 'jwt-file', path: empty })).rejects.toThrow(`the broker token file ${empty} is empty`);
  });
});

describe('IAM: SigV4 for execute-api with the default credential chain', () => {
  it('signs so that a re-signing front accepts it, and the broker sees the IAM caller', async () => {
    const client = createBrokerClient({ broker: iamFront.url, auth: { kind: 'iam' } });
    const answer = await client.post('/v1/aliyun/sts/assume-role', { durationSeconds: 900 });
    expect(answer.data?.accessKeyId).toMatch(/^STS\./);
    expect(iamFront.requests.at(-1)).toMatchObject({ signatureValid: true, status: 200 });
    expect(iamFront.requests.at(-1)?.authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${FRONT_AWS_CREDENTIALS.accessKeyId}/\\d{8}/${FRONT_REGION}/execute-api/aws4_request, SignedHeaders=`,
      ),
    );
    // The broker matched the IAM principal's own rule: its session policy reached the vendor.
    expect(broker.sim.assumeRoleCalls.at(-1)?.policy).toContain('uploads/iam-app/*');
  });

  it('a request changed after signing is refused by the front (the check can fail)', async () => {
    const signed = await authorize(
      { url: `${iamFront.url}/v1/aliyun/sts/assume-role`, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
      { kind: 'iam' },
    );
    const answer = await fetch(signed.url, { method: 'POST', headers: signed.headers, body: '{"durationSeconds":3600}' });
    expect(answer.status).toBe(403);
    expect(iamFront.requests.at(-1)).toMatchObject({ signatureValid: false, status: 403 });
  });

  it('without AWS_REGION it says so', async () => {
    const saved = process.env.AWS_REGION;
    delete process.env.AWS_REGION;
    try {
      await expect(authorize({ url: `${iamFront.url}/v1/x`, method: 'POST', headers: {}, body: '{}' }, { kind: 'iam' })).rejects.toThrow(
        '--auth iam needs AWS_REGION',
      );
    } finally {
      process.env.AWS_REGION = saved;
    }
  });
});
