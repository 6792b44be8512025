/**
 * Alibaba Cloud's MasterKeyApi (IMS 2019-08-15) against the simulator over real HTTP: the shared
 * suite (test/support/master-key-api.ts) with IMS's codes, and what is IMS's own: both signature
 * methods, the parameters in the query as the official client sends them, no UserPrincipalName.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { aliyunMasterKeyApi } from '../../../../lib/rotation/vendors/aliyun.js';
import { SIMULATOR_DEFAULT_KEYS } from '../../../../sim/vendor-simulator.js';
import { describeMasterKeyApi } from '../../../support/master-key-api.js';

const SEED = { ...SIMULATOR_DEFAULT_KEYS.aliyun };

const broker = describeMasterKeyApi({
  vendor: 'aliyun',
  api: aliyunMasterKeyApi,
  seed: SEED,
  setSimKeys: (env) => env.sim.setKeys({ aliyun: [SEED] }),
  codes: {
    limit: 'LimitExceeded.User.AccessKey',
    notYetValid: 'InvalidAccessKeyId.NotFound',
    inactive: { code: 'InvalidAccessKeyId.Inactive', failure: 'denied' },
  },
  faults: {
    throttled: { kind: 'aliyunError', status: 400, code: 'Throttling.User' },
    transient: { kind: 'aliyunError', status: 503, code: 'ServiceUnavailable' },
  },
  malformedCreate: '{"RequestId":"R-1","AccessKey":{"AccessKeySecret":"leak-me-0123456789"}}',
});

describe('aliyun MasterKeyApi: IMS as the official client calls it', () => {
  afterEach(() => {
    delete process.env.ALIYUN_SIGNATURE;
  });

  it.each(['ACS3-HMAC-SHA256', 'HMAC-SHA1'] as const)(
    'signs with %s, IMS 2019-08-15, parameters in the query, no UserPrincipalName',
    async (method) => {
      process.env.ALIYUN_SIGNATURE = method;
      broker.sim.setKeyPropagationMs(0);
      const made = await aliyunMasterKeyApi.create(SEED);
      await aliyunMasterKeyApi.setStatus(SEED, made.keyId, 'Inactive');
      await aliyunMasterKeyApi.lastUsed(SEED, made.keyId);
      await aliyunMasterKeyApi.remove(SEED, made.keyId);
      const calls = broker.sim.calls.filter((call) => call.vendor === 'aliyun');
      expect(calls.map((call) => [call.action, call.code, call.signatureMethod])).toEqual([
        ['CreateAccessKey', 'OK', method],
        ['UpdateAccessKey', 'OK', method],
        ['GetAccessKeyLastUsed', 'OK', method],
        ['DeleteAccessKey', 'OK', method],
      ]);
      expect(calls[1]!.query).toMatchObject({ UserAccessKeyId: made.keyId, Status: 'Inactive' });
      expect(calls[3]!.query).toMatchObject({ UserAccessKeyId: made.keyId });
      expect(calls.every((call) => !('UserPrincipalName' in call.params) && Object.keys(call.body).length === 0)).toBe(true);
    },
  );
});
