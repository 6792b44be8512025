/**
 * STS AssumeRole in the simulator, for Alibaba Cloud (2015-04-01, both signature methods)
 * and Tencent Cloud (2018-08-13): the vendors' answer shapes, expiry from DurationSeconds,
 * fresh credentials per call, parameters refused as each vendor documents, and the record
 * of what was sent (RoleArn, RoleSessionName, the session policy as the vendor read it).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SIMULATOR_DEFAULT_KEYS, startVendorSimulator, type VendorSimulator } from '../../sim/vendor-simulator.js';
import { type AliyunTestInput, send, signAliyunRpc, signAliyunV3, signTencent } from '../support/sign-for-tests.js';

const ALIYUN_STS = { action: 'AssumeRole', version: '2015-04-01' } as const;
const TENCENT_STS = { action: 'AssumeRole', version: '2018-08-13' } as const;
const ALIYUN_ROLE = { RoleArn: 'acs:ram::1234567890123456:role/app-uploader', RoleSessionName: 'broker.test@example-1' };
const TENCENT_ROLE = { RoleArn: 'qcs::cam::uin/100000000001:roleName/app-uploader', RoleSessionName: 'broker-test' };
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

let sim: VendorSimulator;
beforeAll(async () => {
  sim = await startVendorSimulator();
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const nowSeconds = () => Math.floor(Date.now() / 1000);
const secondsUntil = (iso: string) => Math.round(Date.parse(iso) / 1000) - nowSeconds();

const SIGNERS = { v3: signAliyunV3, rpc: signAliyunRpc };
function aliyun(style: keyof typeof SIGNERS, query: Record<string, string>, input: Partial<AliyunTestInput> = {}) {
  return send(SIGNERS[style]({ baseUrl: sim.url, key: SIMULATOR_DEFAULT_KEYS.aliyun, ...ALIYUN_STS, query, ...input }));
}
function tencent(params: Record<string, unknown>) {
  return send(signTencent({ baseUrl: sim.url, key: SIMULATOR_DEFAULT_KEYS.tencent, ...TENCENT_STS, params }));
}

describe.each(['v3', 'rpc'] as const)('Alibaba Cloud AssumeRole (%s)', (style) => {
  it('answers the documented shape, expiring after DurationSeconds (3600 by default), fresh credentials each call', async () => {
    const first = await aliyun(style, ALIYUN_ROLE);
    const second = await aliyun(style, { ...ALIYUN_ROLE, DurationSeconds: '900' });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(Object.keys(first.json).sort()).toEqual(['AssumedRoleUser', 'Credentials', 'RequestId']);
    expect(Object.keys(first.json.Credentials).sort()).toEqual(['AccessKeyId', 'AccessKeySecret', 'Expiration', 'SecurityToken']);
    expect(first.json.Credentials.AccessKeyId).toMatch(/^STS\./);
    expect(first.json.Credentials.Expiration).toMatch(ISO_SECONDS);
    expect(secondsUntil(first.json.Credentials.Expiration)).toBeGreaterThan(3590);
    expect(secondsUntil(first.json.Credentials.Expiration)).toBeLessThanOrEqual(3600);
    expect(secondsUntil(second.json.Credentials.Expiration)).toBeLessThanOrEqual(900);
    expect(secondsUntil(second.json.Credentials.Expiration)).toBeGreaterThan(890);
    for (const field of ['AccessKeyId', 'AccessKeySecret', 'SecurityToken']) {
      expect(first.json.Credentials[field]).not.toBe(second.json.Credentials[field]);
    }
    expect(first.json.AssumedRoleUser).toEqual({
      Arn: `${ALIYUN_ROLE.RoleArn}/${ALIYUN_ROLE.RoleSessionName}`,
      AssumedRoleId: expect.stringMatching(new RegExp(`^\\d+:${ALIYUN_ROLE.RoleSessionName}$`)),
    });
  });

  it('records RoleArn, RoleSessionName, DurationSeconds and the Policy as received, parsed', async () => {
    const policy = {
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: ['oss:PutObject'], Resource: ['acs:oss:*:*:bucket/uploads/*'] }],
    };
    const answer = await aliyun(style, { ...ALIYUN_ROLE, DurationSeconds: '1800', Policy: JSON.stringify(policy) });
    expect(answer.status).toBe(200);
    expect(sim.assumeRoleCalls).toEqual([
      {
        vendor: 'aliyun',
        roleArn: ALIYUN_ROLE.RoleArn,
        roleSessionName: ALIYUN_ROLE.RoleSessionName,
        durationSeconds: 1800,
        policy: JSON.stringify(policy),
        policySent: JSON.stringify(policy),
        policyDocument: policy,
        code: 'OK',
        issued: { accessKeyId: answer.json.Credentials.AccessKeyId, expiration: answer.json.Credentials.Expiration },
      },
    ]);
  });

  it.each([
    ['a one-character RoleSessionName', { RoleSessionName: 'a' }, 'InvalidParameter.RoleSessionName'],
    ['a 65-character RoleSessionName', { RoleSessionName: 'a'.repeat(65) }, 'InvalidParameter.RoleSessionName'],
    ['a RoleSessionName with *', { RoleSessionName: 'app*' }, 'InvalidParameter.RoleSessionName'],
    ['a RoleSessionName with =', { RoleSessionName: 'app=1' }, 'InvalidParameter.RoleSessionName'],
    ['a user ARN for RoleArn', { RoleArn: 'acs:ram::1234567890123456:user/alice' }, 'InvalidParameter.RoleArn'],
    ['DurationSeconds 899', { DurationSeconds: '899' }, 'InvalidParameter.DurationSeconds'],
    ['DurationSeconds over MaxSessionDuration', { DurationSeconds: '3601' }, 'InvalidParameter.DurationSeconds'],
    ['DurationSeconds not a number', { DurationSeconds: '1h' }, 'InvalidParameter.DurationSeconds'],
    ['a Policy that is not JSON', { Policy: '{Version: 1' }, 'InvalidParameter.PolicyGrammar'],
    ['a Policy without Statement', { Policy: '{"Version":"1"}' }, 'InvalidParameter.PolicyGrammar'],
    [
      'a Policy over 2048 bytes',
      { Policy: JSON.stringify({ Version: '1', Statement: [], Pad: 'é'.repeat(1020) }) },
      'InvalidParameter.PolicySize',
    ],
  ])('refuses %s with 400 %s, and records the call', async (_case, change, code) => {
    const answer = await aliyun(style, { ...ALIYUN_ROLE, ...change });
    expect([answer.status, answer.json.Code]).toEqual([400, code]);
    expect(sim.assumeRoleCalls).toEqual([expect.objectContaining({ vendor: 'aliyun', code })]);
    expect(sim.assumeRoleCalls[0]!.issued).toBeUndefined();
  });

  it('refuses a missing RoleArn or RoleSessionName (MissingRoleArn, MissingRoleSessionName)', async () => {
    expect((await aliyun(style, { RoleSessionName: 'abc' })).json.Code).toBe('MissingRoleArn');
    expect((await aliyun(style, { RoleArn: ALIYUN_ROLE.RoleArn })).json.Code).toBe('MissingRoleSessionName');
  });

  it('accepts the bounds: 2 and 64 characters of [\\w.@-], 900 seconds', async () => {
    for (const query of [
      { ...ALIYUN_ROLE, RoleSessionName: 'ab' },
      { ...ALIYUN_ROLE, RoleSessionName: `${'a'.repeat(60)}.@-_` },
      { ...ALIYUN_ROLE, DurationSeconds: '900' },
    ]) {
      expect((await aliyun(style, query)).status).toBe(200);
    }
  });

  it('refuses another API version (InvalidVersion) without reaching the action', async () => {
    const answer = await aliyun(style, ALIYUN_ROLE, { version: '2019-04-01' });
    expect(answer.json.Code).toBe('InvalidVersion');
    expect(sim.assumeRoleCalls).toEqual([]);
  });
});

describe('Alibaba Cloud AssumeRole up to the role MaxSessionDuration', () => {
  it('accepts 43200 seconds when the role allows it, not one more', async () => {
    const own = await startVendorSimulator({ aliyunMaxSessionDurationSeconds: 43_200 });
    try {
      const call = (duration: string) =>
        send(
          signAliyunV3({
            baseUrl: own.url,
            key: SIMULATOR_DEFAULT_KEYS.aliyun,
            ...ALIYUN_STS,
            query: { ...ALIYUN_ROLE, DurationSeconds: duration },
          }),
        );
      const long = await call('43200');
      expect(long.status).toBe(200);
      expect(secondsUntil(long.json.Credentials.Expiration)).toBeGreaterThan(43_190);
      expect((await call('43201')).json.Code).toBe('InvalidParameter.DurationSeconds');
    } finally {
      await own.close();
    }
  });
});

describe('Tencent Cloud AssumeRole', () => {
  it('answers the documented shape, expiring after DurationSeconds (7200 by default), fresh credentials each call', async () => {
    const first = await tencent(TENCENT_ROLE);
    const second = await tencent({ ...TENCENT_ROLE, DurationSeconds: 43_200 });
    const a = first.json.Response;
    const b = second.json.Response;
    expect(Object.keys(a).sort()).toEqual(['Credentials', 'Expiration', 'ExpiredTime', 'RequestId']);
    expect(Object.keys(a.Credentials).sort()).toEqual(['TmpSecretId', 'TmpSecretKey', 'Token']);
    expect(a.ExpiredTime - nowSeconds()).toBeGreaterThan(7190);
    expect(a.ExpiredTime - nowSeconds()).toBeLessThanOrEqual(7200);
    expect(b.ExpiredTime - nowSeconds()).toBeGreaterThan(43_190);
    expect(a.Expiration).toMatch(ISO_SECONDS);
    expect(Date.parse(a.Expiration) / 1000).toBe(a.ExpiredTime);
    for (const field of ['Token', 'TmpSecretId', 'TmpSecretKey']) expect(a.Credentials[field]).not.toBe(b.Credentials[field]);
  });

  it('URL-decodes Policy as the vendor does and records it decoded, as sent, and parsed', async () => {
    const policy = {
      version: '2.0',
      statement: [
        { effect: 'allow', action: ['cos:PutObject'], resource: ['qcs::cos:ap-guangzhou:uid/1:b-1/uploads/*'], note: '50% + more' },
      ],
    };
    const sent = encodeURIComponent(JSON.stringify(policy));
    const answer = await tencent({ ...TENCENT_ROLE, Policy: sent, ExternalId: 'ext-1' });
    expect(answer.json.Response.Error).toBeUndefined();
    expect(sim.assumeRoleCalls).toEqual([
      {
        vendor: 'tencent',
        roleArn: TENCENT_ROLE.RoleArn,
        roleSessionName: TENCENT_ROLE.RoleSessionName,
        externalId: 'ext-1',
        policy: JSON.stringify(policy),
        policySent: sent,
        policyDocument: policy,
        code: 'OK',
        issued: { accessKeyId: answer.json.Response.Credentials.TmpSecretId, expiration: answer.json.Response.Expiration },
      },
    ]);
  });

  it('shows a Policy sent without URL-encoding: decoded differently from what was meant, or refused', async () => {
    const policy = { version: '2.0', statement: [{ effect: 'allow', action: ['cos:*'], resource: ['*'], note: 'a+b' }] };
    const plain = await tencent({ ...TENCENT_ROLE, Policy: JSON.stringify(policy) });
    expect(plain.json.Response.Error).toBeUndefined();
    // The vendor's URL-decoding turns the + into a space: a test sees the broker forgot to encode.
    expect(sim.assumeRoleCalls[0]!.policy).toBe(JSON.stringify(policy).replace('a+b', 'a b'));
    const withPercent = await tencent({ ...TENCENT_ROLE, Policy: JSON.stringify({ ...policy, statement: [{ note: '100%' }] }) });
    expect(withPercent.json.Response.Error.Code).toBe('InvalidParameter.ParamError');
  });

  it.each([
    ['a one-character RoleSessionName', { RoleSessionName: 'a' }, 'InvalidParameter.ParamError'],
    ['a 129-character RoleSessionName', { RoleSessionName: 'a'.repeat(129) }, 'InvalidParameter.ParamError'],
    ['a RoleSessionName with a space', { RoleSessionName: 'app one' }, 'InvalidParameter.ParamError'],
    ['a RoleSessionName with *', { RoleSessionName: 'app*' }, 'InvalidParameter.ParamError'],
    ['an Alibaba RoleArn', { RoleArn: 'acs:ram::1234567890123456:role/app' }, 'InvalidParameter.ParamError'],
    ['a RoleSessionName that is not a string', { RoleSessionName: 42 }, 'InvalidParameter'],
    ['DurationSeconds over 43200', { DurationSeconds: 43_201 }, 'InvalidParameter.OverTimeError'],
    ['DurationSeconds as a string', { DurationSeconds: '3600' }, 'InvalidParameter'],
    ['DurationSeconds 0', { DurationSeconds: 0 }, 'InvalidParameter.ParamError'],
    [
      'a Policy that is not a CAM policy',
      { Policy: encodeURIComponent('{"Version":"1","Statement":[]}') },
      'InvalidParameter.StrategyFormatError',
    ],
    [
      'a Policy with a principal',
      { Policy: encodeURIComponent('{"version":"2.0","statement":[{"effect":"allow","principal":{"qcs":["*"]}}]}') },
      'InvalidParameter.StrategyInvalid',
    ],
    ['an unknown parameter (lowerCamelCase)', { roleArn: TENCENT_ROLE.RoleArn }, 'UnknownParameter'],
  ])('refuses %s with %s, and records the call', async (_case, change, code) => {
    const answer = await tencent({ ...TENCENT_ROLE, ...change });
    expect(answer.status).toBe(200);
    expect(answer.json.Response.Error.Code).toBe(code);
    expect(sim.assumeRoleCalls).toEqual([expect.objectContaining({ vendor: 'tencent', code })]);
  });

  it('refuses a missing RoleSessionName with MissingParameter', async () => {
    const answer = await tencent({ RoleArn: TENCENT_ROLE.RoleArn });
    expect(answer.json.Response.Error.Code).toBe('MissingParameter');
  });

  it('accepts the bounds: 2 and 128 characters of [\\w+=,.@-], 43200 seconds, service roles', async () => {
    for (const params of [
      { ...TENCENT_ROLE, RoleSessionName: 'ab' },
      { ...TENCENT_ROLE, RoleSessionName: `${'a'.repeat(122)}+=,.@-` },
      { ...TENCENT_ROLE, DurationSeconds: 43_200 },
      { ...TENCENT_ROLE, RoleArn: 'qcs::cam::uin/12345678:role/tencentcloudServiceRole/4611686018427397920' },
    ]) {
      expect((await tencent(params)).json.Response.Error).toBeUndefined();
    }
    expect(sim.assumeRoleCalls.map((record) => record.code)).toEqual(['OK', 'OK', 'OK', 'OK']);
  });
});

describe('the AssumeRole record', () => {
  it('keeps both vendors in order and is cleared by reset() (the same array)', async () => {
    const records = sim.assumeRoleCalls;
    await aliyun('v3', ALIYUN_ROLE);
    await tencent(TENCENT_ROLE);
    expect(records.map((record) => [record.vendor, record.roleSessionName])).toEqual([
      ['aliyun', ALIYUN_ROLE.RoleSessionName],
      ['tencent', TENCENT_ROLE.RoleSessionName],
    ]);
    sim.reset();
    expect(sim.assumeRoleCalls).toBe(records);
    expect(records).toEqual([]);
  });

  it('never holds an issued secret or token', async () => {
    const a = await aliyun('rpc', ALIYUN_ROLE);
    const t = await tencent(TENCENT_ROLE);
    const recorded = JSON.stringify(sim.assumeRoleCalls);
    for (const secret of [
      a.json.Credentials.AccessKeySecret,
      a.json.Credentials.SecurityToken,
      t.json.Response.Credentials.TmpSecretKey,
      t.json.Response.Credentials.Token,
    ]) {
      expect(recorded).not.toContain(secret);
    }
  });
});
