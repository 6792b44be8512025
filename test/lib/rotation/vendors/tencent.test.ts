/**
 * Tencent Cloud's MasterKeyApi (CAM 2019-01-16) against the simulator over real HTTP: the shared
 * suite (test/support/master-key-api.ts) with CAM's codes, and what is CAM's own: the service
 * `cam` in the signature, no TargetUin, CreateTime read as Beijing time, and its vague
 * FailedOperation.Accesskey told apart by the key list.
 */
import { describe, expect, it } from 'vitest';
import { tencentMasterKeyApi } from '../../../../lib/rotation/vendors/tencent.js';
import { SIMULATOR_DEFAULT_KEYS } from '../../../../sim/vendor-simulator.js';
import { describeMasterKeyApi, keyApiError } from '../../../support/master-key-api.js';

const SEED = { ...SIMULATOR_DEFAULT_KEYS.tencent };

const broker = describeMasterKeyApi({
  vendor: 'tencent',
  api: tencentMasterKeyApi,
  seed: SEED,
  setSimKeys: (env) => env.sim.setKeys({ tencent: [SEED] }),
  codes: {
    limit: 'OperationDenied.AccessKeyOverLimit',
    notYetValid: 'AuthFailure.SecretIdNotFound',
    // The vendor's one code for a key unknown, deleted or disabled.
    inactive: { code: 'AuthFailure.SecretIdNotFound', failure: 'notYetValid' },
  },
  faults: {
    throttled: { kind: 'tencentError', code: 'RequestLimitExceeded' },
    transient: { kind: 'tencentError', code: 'InternalError' },
  },
  malformedCreate: '{"Response":{"RequestId":"r-1","AccessKey":{"SecretAccessKey":"leak-me-0123456789"}}}',
});

describe('tencent MasterKeyApi: CAM as the official client calls it', () => {
  it('signs for the service cam, version 2019-01-16, without TargetUin, and describes the keys it makes', async () => {
    broker.sim.setKeyPropagationMs(0);
    const made = await tencentMasterKeyApi.create(SEED);
    await tencentMasterKeyApi.setStatus(SEED, made.keyId, 'Inactive');
    await tencentMasterKeyApi.lastUsed(SEED, made.keyId);
    await tencentMasterKeyApi.remove(SEED, made.keyId);
    const calls = broker.sim.calls.filter((call) => call.vendor === 'tencent');
    expect(calls.map((call) => [call.action, call.code])).toEqual([
      ['CreateAccessKey', 'OK'],
      ['UpdateAccessKey', 'OK'],
      ['GetSecurityLastUsed', 'OK'],
      ['DeleteAccessKey', 'OK'],
    ]);
    expect(calls[0]!.params).toEqual({ Description: 'cloud-token-broker-rotation' });
    expect(calls[1]!.params).toEqual({ AccessKeyId: made.keyId, Status: 'Inactive' });
    expect(calls[2]!.params).toEqual({ SecretIdList: JSON.stringify([made.keyId]) });
    expect(calls.every((call) => !('TargetUin' in call.params))).toBe(true);
  });

  it('reads CreateTime (no zone) as Beijing time', async () => {
    const createdAt = new Date('2026-01-02T03:04:05Z');
    const seeded = broker.sim.seedAccessKey('tencent', { createdAt });
    const listed = (await tencentMasterKeyApi.list(SEED)).find((key) => key.keyId === seeded.keyId);
    expect(listed).toEqual({ keyId: seeded.keyId, status: 'Active', createdAt: createdAt.toISOString() });
  });

  it('FailedOperation.Accesskey for a key still listed stays `other`: only a key gone is notFound', async () => {
    broker.sim.script({ action: 'DeleteAccessKey', fault: { kind: 'tencentError', code: 'FailedOperation.Accesskey' } });
    const error = await keyApiError(tencentMasterKeyApi.remove(SEED, SEED.secretId));
    expect([error.failure, error.vendorCode]).toEqual(['other', 'FailedOperation.Accesskey']);
    expect(broker.sim.accessKeys('tencent').map((key) => key.keyId)).toEqual([SEED.secretId]);
  });
});
