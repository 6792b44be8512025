/**
 * The simulator's AccessKey APIs (sim/access-keys.ts) over real HTTP, signed by the test signer
 * (never lib/): Alibaba Cloud IMS 2019-08-15 and Tencent Cloud CAM 2019-01-16. The 2-key limit
 * with each vendor's code, the propagation delay of a new key, an Inactive or deleted key
 * refused by every signed call (the credential operations too), last use kept per key, and the
 * test hooks the rotation's tests use.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SIMULATOR_DEFAULT_KEYS, startVendorSimulator, type VendorSimulator } from '../../sim/vendor-simulator.js';
import { type AliyunTestKey, send, signAliyunRpc, signAliyunV3, signTencent, type TencentTestKey } from '../support/sign-for-tests.js';

const ALIYUN = SIMULATOR_DEFAULT_KEYS.aliyun;
const TENCENT = SIMULATOR_DEFAULT_KEYS.tencent;
/** Long enough that a call right after CreateAccessKey surely comes before it ends, on a loaded machine too. */
const DELAY_MS = 1500;

let sim: VendorSimulator;
beforeAll(async () => {
  sim = await startVendorSimulator({ keyPropagationMs: DELAY_MS });
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.reset();
  sim.setKeys({ aliyun: [ALIYUN], tencent: [TENCENT] });
  sim.setKeyPropagationMs(DELAY_MS);
});

/** Waits until the simulator says the key has propagated (it decides by its own clock). */
async function untilPropagated(vendor: 'aliyun' | 'tencent', keyId: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!sim.accessKeys(vendor).find((k) => k.keyId === keyId)?.propagated) {
    if (Date.now() > deadline) throw new Error(`${keyId} never propagated`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('Alibaba Cloud IMS AccessKeys', () => {
  const ims = (action: string, query: Record<string, string> = {}, key: AliyunTestKey = ALIYUN) =>
    send(signAliyunV3({ baseUrl: sim.url, key, action, version: '2019-08-15', query }));
  const body = (response: { json: unknown }) => response.json as Record<string, any>;
  const create = async () => {
    const response = await ims('CreateAccessKey');
    expect(response.status).toBe(200);
    const { AccessKeyId, AccessKeySecret } = body(response).AccessKey as Record<string, string>;
    return { accessKeyId: AccessKeyId!, accessKeySecret: AccessKeySecret! };
  };
  /** A credential operation: BPStudio GetToken. */
  const getToken = (key: AliyunTestKey) => send(signAliyunV3({ baseUrl: sim.url, key, action: 'GetToken', version: '2021-09-31' }));

  it('lists the seeded key, Active, in the vendor shape', async () => {
    const response = await ims('ListAccessKeys');
    expect(response.status).toBe(200);
    const keys = body(response).AccessKeys.AccessKey as Record<string, string>[];
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ AccessKeyId: ALIYUN.accessKeyId, Status: 'Active' });
    expect(keys[0]!.CreateDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(JSON.stringify(body(response))).not.toContain(ALIYUN.accessKeySecret);
  });

  it('creates a key that signed calls refuse until it has propagated, then accept', async () => {
    const created = await create();
    expect(created.accessKeyId).toMatch(/^sim-aliyun-ak-/);
    expect(sim.accessKeys('aliyun').map((k) => [k.keyId, k.status, k.propagated])).toEqual([
      [ALIYUN.accessKeyId, 'Active', true],
      [created.accessKeyId, 'Active', false],
    ]);
    const early = await ims('ListAccessKeys', {}, created);
    expect([early.status, body(early).Code]).toEqual([404, 'InvalidAccessKeyId.NotFound']);
    await untilPropagated('aliyun', created.accessKeyId);
    expect((await ims('ListAccessKeys', {}, created)).status).toBe(200);
    expect((await getToken(created)).status).toBe(200);
  });

  it('refuses a third key with LimitExceeded.User.AccessKey (409) and changes nothing', async () => {
    await create();
    const before = sim.accessKeys('aliyun');
    const refused = await ims('CreateAccessKey');
    expect([refused.status, body(refused).Code]).toEqual([409, 'LimitExceeded.User.AccessKey']);
    expect(sim.accessKeys('aliyun').map((k) => k.keyId)).toEqual(before.map((k) => k.keyId));
  });

  it('an Inactive key is refused by every signed call, V3 and RPC, key APIs and credential operations alike; Active again, it works', async () => {
    sim.setKeyPropagationMs(0);
    const other = await create();
    expect((await ims('UpdateAccessKey', { UserAccessKeyId: ALIYUN.accessKeyId, Status: 'Inactive' }, other)).status).toBe(200);
    expect(sim.accessKeys('aliyun').find((k) => k.keyId === ALIYUN.accessKeyId)?.status).toBe('Inactive');
    for (const response of [
      await ims('ListAccessKeys'),
      await getToken(ALIYUN),
      await send(signAliyunRpc({ baseUrl: sim.url, key: ALIYUN, action: 'GetToken', version: '2021-09-31' })),
      await send(
        signAliyunRpc({
          baseUrl: sim.url,
          key: ALIYUN,
          action: 'AssumeRole',
          version: '2015-04-01',
          query: { RoleArn: 'acs:ram::1234567890123456:role/app', RoleSessionName: 'test' },
        }),
      ),
    ]) {
      expect([response.status, body(response).Code]).toEqual([400, 'InvalidAccessKeyId.Inactive']);
    }
    expect(sim.assumeRoleCalls).toEqual([]);
    expect((await ims('UpdateAccessKey', { UserAccessKeyId: ALIYUN.accessKeyId, Status: 'Active' }, other)).status).toBe(200);
    expect((await getToken(ALIYUN)).status).toBe(200);
  });

  it('a deleted key is refused by every signed call, and a second delete finds nothing', async () => {
    sim.setKeyPropagationMs(0);
    const other = await create();
    expect((await ims('DeleteAccessKey', { UserAccessKeyId: ALIYUN.accessKeyId }, other)).status).toBe(200);
    expect(sim.accessKeys('aliyun').map((k) => k.keyId)).toEqual([other.accessKeyId]);
    for (const response of [await ims('ListAccessKeys'), await getToken(ALIYUN)]) {
      expect([response.status, body(response).Code]).toEqual([404, 'InvalidAccessKeyId.NotFound']);
    }
    const again = await ims('DeleteAccessKey', { UserAccessKeyId: ALIYUN.accessKeyId }, other);
    expect([again.status, body(again).Code]).toEqual([404, 'EntityNotExist.User.AccessKey']);
    // With one key left, a new one may be made again.
    expect((await ims('CreateAccessKey', {}, other)).status).toBe(200);
  });

  it('keeps the last accepted use per key, and GetAccessKeyLastUsed says it', async () => {
    sim.setKeyPropagationMs(0);
    const other = await create();
    const fresh = await ims('GetAccessKeyLastUsed', { UserAccessKeyId: other.accessKeyId });
    expect(body(fresh).AccessKeyLastUsed.LastUsedDate).toBeUndefined();
    const before = Date.now() - 1000;
    expect((await getToken(other)).status).toBe(200);
    const view = sim.accessKeys('aliyun').find((k) => k.keyId === other.accessKeyId)!;
    expect(Date.parse(view.lastUsedAt!)).toBeGreaterThanOrEqual(before);
    const used = await ims('GetAccessKeyLastUsed', { UserAccessKeyId: other.accessKeyId });
    expect(Date.parse(body(used).AccessKeyLastUsed.LastUsedDate)).toBeGreaterThanOrEqual(before);
    // A refused signature is no use of the key.
    const forged = await getToken({ ...other, accessKeySecret: 'not-the-secret' });
    expect(body(forged).Code).toBe('SignatureDoesNotMatch');
    expect(sim.accessKeys('aliyun').find((k) => k.keyId === other.accessKeyId)!.lastUsedAt).toBe(view.lastUsedAt);
  });

  it('refuses a malformed Status, an unknown key and another user, in the vendor codes', async () => {
    const bad = await ims('UpdateAccessKey', { UserAccessKeyId: ALIYUN.accessKeyId, Status: 'Disabled' });
    expect([bad.status, body(bad).Code]).toEqual([400, 'InvalidParameter.Status']);
    const unknown = await ims('UpdateAccessKey', { UserAccessKeyId: 'sim-aliyun-ak-none', Status: 'Inactive' });
    expect([unknown.status, body(unknown).Code]).toEqual([404, 'EntityNotExist.User.AccessKey']);
    const missing = await ims('DeleteAccessKey');
    expect([missing.status, body(missing).Code]).toEqual([400, 'MissingUserAccessKeyId']);
    const otherUser = await ims('ListAccessKeys', { UserPrincipalName: 'someone@example.onaliyun.com' });
    expect([otherUser.status, body(otherUser).Code]).toEqual([404, 'EntityNotExist.User']);
  });
});

describe('Tencent Cloud CAM AccessKeys', () => {
  const camCall = (action: string, params: Record<string, unknown> = {}, key: TencentTestKey = TENCENT) =>
    send(signTencent({ baseUrl: sim.url, key, action, version: '2019-01-16', service: 'cam', params }));
  const response = (r: { json: unknown }) => (r.json as { Response: Record<string, any> }).Response;
  const code = (r: { json: unknown }) => response(r).Error?.Code as string | undefined;
  const create = async () => {
    const r = await camCall('CreateAccessKey', { Description: 'test' });
    expect(code(r)).toBeUndefined();
    const { AccessKeyId, SecretAccessKey } = response(r).AccessKey as Record<string, string>;
    return { secretId: AccessKeyId!, secretKey: SecretAccessKey! };
  };
  /** A credential operation: STS AssumeRole. */
  const assumeRole = (key: TencentTestKey) =>
    send(
      signTencent({
        baseUrl: sim.url,
        key,
        action: 'AssumeRole',
        version: '2018-08-13',
        params: { RoleArn: 'qcs::cam::uin/100000000001:roleName/app', RoleSessionName: 'test' },
      }),
    );

  it('lists the seeded key, Active, with a CreateTime in the vendor form', async () => {
    const r = await camCall('ListAccessKeys');
    expect(code(r)).toBeUndefined();
    expect(response(r).AccessKeys).toEqual([
      { AccessKeyId: TENCENT.secretId, Status: 'Active', CreateTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/) },
    ]);
  });

  it('creates a key refused (AuthFailure.SecretIdNotFound) until it has propagated, then accepted', async () => {
    const created = await create();
    expect(code(await camCall('ListAccessKeys', {}, created))).toBe('AuthFailure.SecretIdNotFound');
    await untilPropagated('tencent', created.secretId);
    expect(code(await camCall('ListAccessKeys', {}, created))).toBeUndefined();
    expect(code(await assumeRole(created))).toBeUndefined();
  });

  it('refuses a third key with OperationDenied.AccessKeyOverLimit and changes nothing', async () => {
    await create();
    expect(code(await camCall('CreateAccessKey'))).toBe('OperationDenied.AccessKeyOverLimit');
    expect(sim.accessKeys('tencent')).toHaveLength(2);
  });

  it('an Inactive or deleted key is refused by every signed call (CAM and STS) with AuthFailure.SecretIdNotFound', async () => {
    sim.setKeyPropagationMs(0);
    const other = await create();
    expect(code(await camCall('UpdateAccessKey', { AccessKeyId: TENCENT.secretId, Status: 'Inactive' }, other))).toBeUndefined();
    expect(code(await camCall('ListAccessKeys'))).toBe('AuthFailure.SecretIdNotFound');
    expect(code(await assumeRole(TENCENT))).toBe('AuthFailure.SecretIdNotFound');
    expect(sim.assumeRoleCalls).toEqual([]);
    expect(code(await camCall('DeleteAccessKey', { AccessKeyId: TENCENT.secretId }, other))).toBeUndefined();
    expect(code(await assumeRole(TENCENT))).toBe('AuthFailure.SecretIdNotFound');
    expect(sim.accessKeys('tencent').map((k) => k.keyId)).toEqual([other.secretId]);
    expect(code(await camCall('DeleteAccessKey', { AccessKeyId: TENCENT.secretId }, other))).toBe('FailedOperation.Accesskey');
  });

  it('keeps the last accepted use per key, and GetSecurityLastUsed says it (epoch ms and day)', async () => {
    sim.setKeyPropagationMs(0);
    const other = await create();
    const never = await camCall('GetSecurityLastUsed', { SecretIdList: [other.secretId] });
    expect(response(never).SecretIdLastUsedRows).toEqual([{ SecretId: other.secretId, LastUsedDate: null, LastSecretUsedDate: null }]);
    const before = Date.now() - 1000;
    expect(code(await assumeRole(other))).toBeUndefined();
    const used = await camCall('GetSecurityLastUsed', { SecretIdList: [other.secretId, 'sim-tencent-ak-none'] });
    const rows = response(used).SecretIdLastUsedRows as { SecretId: string; LastUsedDate: string; LastSecretUsedDate: number }[];
    expect(rows.map((row) => row.SecretId)).toEqual([other.secretId]);
    expect(rows[0]!.LastSecretUsedDate).toBeGreaterThanOrEqual(before);
    expect(rows[0]!.LastUsedDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Date.parse(sim.accessKeys('tencent').find((k) => k.keyId === other.secretId)!.lastUsedAt!)).toBe(rows[0]!.LastSecretUsedDate);
  });

  it('checks parameters as API 3.0 does: unknown, missing, mistyped, another user', async () => {
    expect(code(await camCall('ListAccessKeys', { targetUin: 1 }))).toBe('UnknownParameter');
    expect(code(await camCall('UpdateAccessKey', { AccessKeyId: TENCENT.secretId }))).toBe('MissingParameter');
    expect(code(await camCall('UpdateAccessKey', { AccessKeyId: TENCENT.secretId, Status: 'Off' }))).toBe('InvalidParameter.ParamError');
    expect(code(await camCall('ListAccessKeys', { TargetUin: '100000000001' }))).toBe('InvalidParameter');
    expect(code(await camCall('ListAccessKeys', { TargetUin: 200000000002 }))).toBe('InvalidParameter.UserNotExist');
    expect(code(await camCall('ListAccessKeys', { TargetUin: 100000000001 }))).toBeUndefined();
  });
});

describe('test hooks', () => {
  it('seeds an unknown Active key beyond the limit, usable at once, and lists it with its age', async () => {
    const createdAt = new Date(Date.now() - 100 * 86_400_000);
    const seeded = sim.seedAccessKey('aliyun', { createdAt });
    const lastUsedAt = new Date(Date.now() - 3_600_000);
    sim.seedAccessKey('aliyun', { status: 'Inactive', lastUsedAt });
    const keys = sim.accessKeys('aliyun');
    expect(keys.map((k) => k.status)).toEqual(['Active', 'Active', 'Inactive']);
    expect(keys[1]).toMatchObject({ keyId: seeded.keyId, createdAt: createdAt.toISOString(), propagated: true });
    expect(keys[1]!.lastUsedAt).toBeUndefined();
    expect(keys[2]!.lastUsedAt).toBe(lastUsedAt.toISOString());
    const signed = await send(
      signAliyunV3({
        baseUrl: sim.url,
        key: { accessKeyId: seeded.keyId, accessKeySecret: seeded.secret },
        action: 'ListAccessKeys',
        version: '2019-08-15',
      }),
    );
    expect(signed.status).toBe(200);
    expect(JSON.stringify(keys)).not.toContain(seeded.secret);
  });

  it('a seeded key can wait for its propagation, and the delay can be changed', async () => {
    sim.setKeyPropagationMs(60_000);
    const waiting = sim.seedAccessKey('tencent', { propagated: false });
    expect(sim.accessKeys('tencent').find((k) => k.keyId === waiting.keyId)?.propagated).toBe(false);
    expect(() => sim.setKeyPropagationMs(-1)).toThrow(RangeError);
  });
});
