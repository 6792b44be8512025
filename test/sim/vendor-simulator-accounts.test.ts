/**
 * The simulator's vendor accounts: each AccessKey held to its own rate limit (one account's
 * calls never use up another's), a role that demands an ExternalId refusing AssumeRole without
 * it, and SourceIdentity and Tencent Cloud's Tags checked and recorded.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SIMULATOR_DEFAULT_KEYS, startVendorSimulator, type VendorSimulator } from '../../sim/vendor-simulator.js';
import { send, signAliyunV3, signTencent } from '../support/sign-for-tests.js';

const OTHER = { accessKeyId: 'sim-aliyun-other', accessKeySecret: 'sim-aliyun-other-secret-11aa' };
const ALIYUN_ROLE = 'acs:ram::1234567890123456:role/tenant-owned';
const TENCENT_ROLE = 'qcs::cam::uin/100000000001:roleName/tenant-owned';

let sim: VendorSimulator;
beforeAll(async () => {
  sim = await startVendorSimulator({
    aliyunKeys: [{ ...SIMULATOR_DEFAULT_KEYS.aliyun }, OTHER],
    accountRateLimit: { perSecond: 2, actions: ['GetChatappUploadAuthorization'] },
    stsRoles: { [ALIYUN_ROLE]: { externalId: 'ext-123' }, [TENCENT_ROLE]: { externalId: 'ext-123' } },
  });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const cams = (key: typeof OTHER, space: string) =>
  send(
    signAliyunV3({
      baseUrl: sim.url,
      key,
      action: 'GetChatappUploadAuthorization',
      version: '2020-06-06',
      query: { CustSpaceId: space },
    }),
  );
const aliyunSts = (query: Record<string, string>) =>
  send(signAliyunV3({ baseUrl: sim.url, key: SIMULATOR_DEFAULT_KEYS.aliyun, action: 'AssumeRole', version: '2015-04-01', query }));
const tencentSts = (params: Record<string, unknown>) =>
  send(signTencent({ baseUrl: sim.url, key: SIMULATOR_DEFAULT_KEYS.tencent, action: 'AssumeRole', version: '2018-08-13', params }));

describe('per-account rate limits', () => {
  it("throttles a key past its own limit in a second, and not another key's calls", async () => {
    const mine = [];
    for (let i = 0; i < 3; i++) mine.push(await cams(SIMULATOR_DEFAULT_KEYS.aliyun, `cs-${i}`));
    const other = [await cams(OTHER, 'cs-a'), await cams(OTHER, 'cs-b')];
    expect(mine.map((answer) => answer.status)).toEqual([200, 200, 400]);
    expect(mine[2]!.json.Code).toBe('Throttling.User');
    expect(other.map((answer) => answer.status)).toEqual([200, 200]);
  });
});

describe('ExternalId, SourceIdentity and Tags', () => {
  it('Alibaba Cloud: a role demanding an ExternalId refuses a call without it or with another, and takes the right one', async () => {
    const base = { RoleArn: ALIYUN_ROLE, RoleSessionName: 'caller-1', SourceIdentity: 'caller-1' };
    const missing = await aliyunSts(base);
    const wrong = await aliyunSts({ ...base, ExternalId: 'ext-999' });
    const right = await aliyunSts({ ...base, ExternalId: 'ext-123' });
    expect([missing.status, wrong.status, right.status]).toEqual([403, 403, 200]);
    expect(sim.assumeRoleCalls.map((call) => call.code)).toEqual(['NoPermission', 'NoPermission', 'OK']);
    expect(sim.assumeRoleCalls[2]).toMatchObject({ externalId: 'ext-123', sourceIdentity: 'caller-1' });
    const badIdentity = await aliyunSts({ ...base, ExternalId: 'ext-123', SourceIdentity: 'a b' });
    expect(badIdentity.json.Code).toBe('InvalidParameter.SourceIdentity');
  });

  it('Tencent Cloud: ExternalId enforced, SourceIdentity (a uin) and Tags checked and recorded', async () => {
    const base = { RoleArn: TENCENT_ROLE, RoleSessionName: 'caller-1', SourceIdentity: '100000000001' };
    const tags = [{ Key: 'broker-account', Value: 'acme' }];
    const missing = await tencentSts({ ...base, Tags: tags });
    const right = await tencentSts({ ...base, ExternalId: 'ext-123', Tags: tags });
    const badTags = await tencentSts({ ...base, ExternalId: 'ext-123', Tags: [{ Key: '', Value: 'x' }] });
    const twice = await tencentSts({ ...base, ExternalId: 'ext-123', Tags: [...tags, ...tags] });
    const notUin = await tencentSts({ ...base, ExternalId: 'ext-123', SourceIdentity: 'caller-1' });
    expect(twice.json.Response.Error.Code).toBe('InvalidParameter.ParamError');
    expect(notUin.json.Response.Error.Code).toBe('InvalidParameter.ParamError');
    expect(missing.json.Response.Error.Code).toBe('InvalidParameter.ExternalIdError');
    expect(right.json.Response.Error).toBeUndefined();
    expect(badTags.json.Response.Error.Code).toBe('InvalidParameter.ParamError');
    expect(sim.assumeRoleCalls[1]).toMatchObject({ code: 'OK', externalId: 'ext-123', sourceIdentity: '100000000001', tags });
  });
});
