/**
 * The simulator as Tencent Cloud (API 3.0): TC3-HMAC-SHA256 verified the way the vendor
 * does (its own keys, the UTC date of X-TC-Timestamp, its own service name), refusals and
 * chaos in the vendor's `{"Response": {"Error": ...}}` shape, and the vendor's own SDK
 * (tencentcloud-sdk-nodejs-common) accepted.
 */
import { createHash } from 'node:crypto';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectedTc3Signature, tc3CanonicalRequest } from '../../sim/tencent-signature.js';
import { SIMULATOR_DEFAULT_KEYS, startVendorSimulator, type VendorSimulator } from '../../sim/vendor-simulator.js';
import { loopbackAgent } from '../support/loopback-agent.js';
import { send, signTencent, type TencentTestInput, tc3SignatureForTests } from '../support/sign-for-tests.js';
import { TC3_EXAMPLE, TC3_EXAMPLE_WITH_ACTION } from '../support/vendor-examples.js';

const KEY = SIMULATOR_DEFAULT_KEYS.tencent;
const STS = { action: 'AssumeRole', version: '2018-08-13' } as const;
const ROLE = { RoleArn: 'qcs::cam::uin/100000000001:roleName/app-uploader', RoleSessionName: 'broker-test' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let sim: VendorSimulator;
beforeAll(async () => {
  sim = await startVendorSimulator();
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.reset();
  sim.setKeys({ tencent: [KEY] });
});

type Call = Partial<Omit<TencentTestInput, 'baseUrl'>>;
const request = (input: Call = {}) => signTencent({ baseUrl: sim.url, key: KEY, ...STS, params: ROLE, ...input });
const call = (input: Call = {}) => send(request(input));
const now = () => Math.floor(Date.now() / 1000);

/** The vendor's SDK, keeping the real host (and so the service `sts` it signs) while its sockets reach the simulator. */
function sdkClient(credential = KEY) {
  return new CommonClient('sts.tencentcloudapi.com', STS.version, {
    credential,
    region: 'ap-guangzhou',
    profile: { httpProfile: { protocol: 'http://', agent: loopbackAgent(() => sim.port), reqTimeout: 10 } },
  });
}

describe('TC3 math on the vendor example', () => {
  it("the simulator's and the test signer's math both give the documented signatures", () => {
    const base = {
      method: 'POST',
      path: '/',
      query: '',
      headers: { 'content-type': TC3_EXAMPLE.contentType, host: TC3_EXAMPLE.host },
      signedHeaders: ['content-type', 'host'],
      body: TC3_EXAMPLE.payload,
      timestamp: TC3_EXAMPLE.timestamp,
      service: 'cvm',
    };
    expect(tc3CanonicalRequest(base)).toBe(TC3_EXAMPLE.canonicalRequest);
    expect(expectedTc3Signature(base, TC3_EXAMPLE.credentials.secretKey)).toBe(TC3_EXAMPLE.signature);
    const withAction = {
      ...base,
      headers: { ...base.headers, 'x-tc-action': TC3_EXAMPLE.action },
      signedHeaders: ['content-type', 'host', 'x-tc-action'],
    };
    expect(createHash('sha256').update(tc3CanonicalRequest(withAction)).digest('hex')).toBe(TC3_EXAMPLE_WITH_ACTION.hashedCanonicalRequest);
    expect(expectedTc3Signature(withAction, TC3_EXAMPLE_WITH_ACTION.secretKey)).toBe(TC3_EXAMPLE_WITH_ACTION.signature);
    const forTests = tc3SignatureForTests({
      secretKey: TC3_EXAMPLE.credentials.secretKey,
      canonicalHeaders: base.headers,
      body: TC3_EXAMPLE.payload,
      timestamp: TC3_EXAMPLE.timestamp,
      date: '2019-02-25',
      service: 'cvm',
    });
    expect(forTests).toEqual({ signature: TC3_EXAMPLE.signature, signedHeaders: 'content-type;host' });
  });
});

describe('good signatures are accepted', () => {
  it('a request signed content-type;host gets the Tencent answer shape, and the call is recorded', async () => {
    const answer = await call();
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.json)).toEqual(['Response']);
    expect(answer.json.Response.RequestId).toMatch(UUID);
    expect(answer.json.Response.Error).toBeUndefined();
    expect(sim.calls[0]).toMatchObject({
      vendor: 'tencent',
      action: 'AssumeRole',
      signatureMethod: 'TC3-HMAC-SHA256',
      secretId: KEY.secretId,
      signature: expect.stringMatching(/^[0-9a-f]{64}$/),
      params: ROLE,
      code: 'OK',
      status: 200,
    });
  });

  it('extra signed headers (x-tc-action, as the current docs sign) and the plain application/json type', async () => {
    const answer = await call({ signedExtra: { 'X-TC-Action': 'AssumeRole' }, contentType: 'application/json' });
    expect(answer.json.Response.Error).toBeUndefined();
    expect(answer.json.Response.Credentials).toBeDefined();
  });

  it('a timestamp 4 minutes off either way', async () => {
    for (const skew of [-240, 240]) {
      const answer = await call({ timestamp: now() + skew });
      expect(answer.json.Response.Error, `skew ${skew}`).toBeUndefined();
    }
  });

  it("accepts the official SDK's request (tencentcloud-sdk-nodejs-common CommonClient), URL-encoded Policy included", async () => {
    const policy = {
      version: '2.0',
      statement: [{ effect: 'allow', action: ['cos:PutObject'], resource: ['qcs::cos:ap-guangzhou:uid/1:b/*'] }],
    };
    const response = (await sdkClient().request('AssumeRole', {
      ...ROLE,
      DurationSeconds: 900,
      Policy: encodeURIComponent(JSON.stringify(policy)),
    })) as { Credentials: Record<string, string>; ExpiredTime: number; RequestId: string };
    expect(Object.keys(response.Credentials).sort()).toEqual(['TmpSecretId', 'TmpSecretKey', 'Token']);
    expect(response.ExpiredTime - now()).toBeGreaterThan(890);
    expect(response.ExpiredTime - now()).toBeLessThanOrEqual(900);
    expect(sim.calls[0]).toMatchObject({ vendor: 'tencent', code: 'OK', secretId: KEY.secretId });
    expect(sim.assumeRoleCalls).toEqual([
      expect.objectContaining({ vendor: 'tencent', roleArn: ROLE.RoleArn, roleSessionName: ROLE.RoleSessionName, policyDocument: policy }),
    ]);
  });
});

describe('bad requests are refused as the vendor refuses them (HTTP 200, Response.Error)', () => {
  async function refusal(input: Call | ReturnType<typeof request>) {
    const answer = 'url' in input ? await send(input) : await call(input);
    expect(answer.status).toBe(200);
    expect(answer.json.Response.RequestId).toMatch(UUID);
    return answer.json.Response.Error as { Code: string; Message: string };
  }

  it('a body changed after signing: AuthFailure.SignatureFailure', async () => {
    const signed = request();
    const error = await refusal({ ...signed, body: signed.body!.replace('broker-test', 'broker-tesu') });
    expect(error.Code).toBe('AuthFailure.SignatureFailure');
    expect(sim.assumeRoleCalls).toEqual([]);
  });

  it('the wrong secret: AuthFailure.SignatureFailure, also through the SDK', async () => {
    expect((await refusal({ key: { ...KEY, secretKey: 'not-the-secret' } })).Code).toBe('AuthFailure.SignatureFailure');
    await expect(sdkClient({ ...KEY, secretKey: 'not-the-secret' }).request('AssumeRole', ROLE)).rejects.toMatchObject({
      code: 'AuthFailure.SignatureFailure',
    });
  });

  it('an unknown SecretId: AuthFailure.SecretIdNotFound', async () => {
    expect((await refusal({ key: { secretId: 'AKIDunknown', secretKey: KEY.secretKey } })).Code).toBe('AuthFailure.SecretIdNotFound');
  });

  it('a key rotated away at the vendor is refused, the new one accepted', async () => {
    const rotated = { secretId: 'sim-tencent-rotated', secretKey: 'sim-tencent-rotated-secret' };
    sim.setKeys({ tencent: [rotated] });
    expect((await refusal({})).Code).toBe('AuthFailure.SecretIdNotFound');
    expect((await call({ key: rotated })).json.Response.Error).toBeUndefined();
  });

  it('a timestamp more than 5 minutes off: AuthFailure.SignatureExpire', async () => {
    expect((await refusal({ timestamp: now() - 330 })).Code).toBe('AuthFailure.SignatureExpire');
    expect((await refusal({ timestamp: now() + 330 })).Code).toBe('AuthFailure.SignatureExpire');
  });

  it('a credential scope dated in local time (UTC+8) or naming another service: AuthFailure.SignatureFailure', async () => {
    const timestamp = now();
    const beijing = new Date((timestamp + 8 * 3600) * 1000).toISOString().slice(0, 10);
    const utc = new Date(timestamp * 1000).toISOString().slice(0, 10);
    if (beijing !== utc) expect((await refusal({ timestamp, date: beijing })).Code).toBe('AuthFailure.SignatureFailure');
    expect((await refusal({ timestamp, date: '2019-02-25' })).Code).toBe('AuthFailure.SignatureFailure');
    expect((await refusal({ service: 'cvm' })).Code).toBe('AuthFailure.SignatureFailure');
  });

  it('the host signed with its port: AuthFailure.SignatureFailure (the vendor and its SDK sign the host name)', async () => {
    const good = request();
    const timestamp = Number(good.headers['x-tc-timestamp']);
    const { signature } = tc3SignatureForTests({
      secretKey: KEY.secretKey,
      canonicalHeaders: { 'content-type': good.headers['content-type']!, host: new URL(sim.url).host },
      body: good.body!,
      timestamp,
      date: new Date(timestamp * 1000).toISOString().slice(0, 10),
      service: 'sts',
    });
    const authorization = good.headers.authorization!.replace(/Signature=[0-9a-f]{64}$/, `Signature=${signature}`);
    expect(authorization).not.toBe(good.headers.authorization);
    expect((await refusal({ ...good, headers: { ...good.headers, authorization } })).Code).toBe('AuthFailure.SignatureFailure');
  });

  it('content-type left unsigned, or no Authorization: AuthFailure.InvalidAuthorization', async () => {
    const signed = request();
    const hostOnly = signed.headers.authorization!.replace('SignedHeaders=content-type;host', 'SignedHeaders=host');
    expect((await refusal({ ...signed, headers: { ...signed.headers, authorization: hostOnly } })).Code).toBe(
      'AuthFailure.InvalidAuthorization',
    );
    const { authorization: _dropped, ...unsigned } = signed.headers;
    expect((await refusal({ ...signed, headers: unsigned })).Code).toBe('AuthFailure.InvalidAuthorization');
  });

  it('an unknown action, another version, no region: InvalidAction, NoSuchVersion, MissingParameter', async () => {
    expect((await refusal({ action: 'AssumeRoleWithMagic' })).Code).toBe('InvalidAction');
    expect((await refusal({ version: '2017-03-12' })).Code).toBe('NoSuchVersion');
    expect((await refusal({ region: undefined })).Code).toBe('MissingParameter');
    expect(sim.calls.map((c) => c.code)).toEqual(['InvalidAction', 'NoSuchVersion', 'MissingParameter']);
  });
});

describe('scripted faults and chaos in the Tencent shape', () => {
  it('a scripted tencentError answers HTTP 200 with that code, once', async () => {
    sim.script({ action: 'AssumeRole', fault: { kind: 'tencentError', code: 'ResourceNotFound.RoleNotFound' } });
    const first = await call();
    expect([first.status, first.json.Response.Error.Code]).toEqual([200, 'ResourceNotFound.RoleNotFound']);
    expect((await call()).json.Response.Error).toBeUndefined();
    expect(sim.assumeRoleCalls).toHaveLength(1);
  });

  it.each([
    ['throttleRate', 'throttle', 'RequestLimitExceeded'],
    ['serverErrorRate', 'serverError', 'InternalError'],
    ['rejectRate', 'reject', 'InvalidParameter'],
  ] as const)('%s 1: every answer is %s as %s', async (rate, kind, code) => {
    sim.setChaos({ [rate]: 1 });
    const answer = await call();
    expect([answer.status, answer.json.Response.Error.Code]).toEqual([200, code]);
    expect(sim.calls[0]).toMatchObject({ chaos: kind, code, fault: 'tencentError' });
    expect(sim.assumeRoleCalls).toEqual([]);
  });
});

describe('temporary credentials it issued (GetCallerIdentity)', () => {
  const issue = async () =>
    (await sdkClient().request('AssumeRole', { ...ROLE, DurationSeconds: 900 })) as {
      Credentials: { TmpSecretId: string; TmpSecretKey: string; Token: string };
    };

  it('accepts GetCallerIdentity signed with them and their token, as the role', async () => {
    const { Credentials: c } = await issue();
    const identity = (await sdkClient({ secretId: c.TmpSecretId, secretKey: c.TmpSecretKey, token: c.Token } as typeof KEY).request(
      'GetCallerIdentity',
      {},
    )) as { Type: string; UserId: string };
    expect(identity).toMatchObject({ Type: 'CAMRole', UserId: c.TmpSecretId });
  });

  it('refuses them without their token, or for AssumeRole (only master keys assume roles here)', async () => {
    const { Credentials: c } = await issue();
    const noToken = sdkClient({ secretId: c.TmpSecretId, secretKey: c.TmpSecretKey } as typeof KEY);
    await expect(noToken.request('GetCallerIdentity', {})).rejects.toMatchObject({ code: 'AuthFailure.TokenFailure' });
    const withToken = sdkClient({ secretId: c.TmpSecretId, secretKey: c.TmpSecretKey, token: c.Token } as typeof KEY);
    await expect(withToken.request('AssumeRole', { ...ROLE })).rejects.toMatchObject({ code: 'AuthFailure.SecretIdNotFound' });
  });

  it('scales the lifetime it issues by stsLifetimeScale (SIM_LIFETIME_SCALE), the asked duration still checked unscaled', async () => {
    const scaled = await startVendorSimulator({ stsLifetimeScale: 1 / 60 });
    try {
      const client = new CommonClient('sts.tencentcloudapi.com', STS.version, {
        credential: KEY,
        region: 'ap-guangzhou',
        profile: { httpProfile: { protocol: 'http://', agent: loopbackAgent(() => scaled.port), reqTimeout: 10 } },
      });
      const answer = (await client.request('AssumeRole', { ...ROLE, DurationSeconds: 900 })) as { ExpiredTime: number };
      expect(answer.ExpiredTime - now()).toBeGreaterThanOrEqual(14);
      expect(answer.ExpiredTime - now()).toBeLessThanOrEqual(15);
      await expect(client.request('AssumeRole', { ...ROLE, DurationSeconds: 43_201 })).rejects.toMatchObject({
        code: 'InvalidParameter.OverTimeError',
      });
    } finally {
      await scaled.close();
    }
  });
});
