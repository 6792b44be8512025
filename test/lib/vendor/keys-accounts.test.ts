/**
 * Each vendor's key schema takes an account's STS settings (`stsRoleArn`, `externalId`,
 * Alibaba Cloud's `maxSessionSeconds`) and refuses them when malformed; the vendors' own
 * limits hold (ExternalId: Alibaba Cloud 2 to 1,224 characters, Tencent Cloud 2 to 128).
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { aliyunApi } from '../../../lib/vendor/aliyun.js';
import { tencentApi } from '../../../lib/vendor/tencent.js';
import { ucloudApi } from '../../../lib/vendor/ucloud.js';

const aliyun = { accessKeyId: 'id', accessKeySecret: 'secret' };
const tencent = { secretId: 'id', secretKey: 'secret' };

describe('account settings in key parameters', () => {
  it('keeps what an account says', () => {
    const parsed = z.parse(aliyunApi.keys, {
      ...aliyun,
      stsRoleArn: 'acs:ram::1111111111111111:role/acme',
      externalId: 'x'.repeat(1224),
      maxSessionSeconds: 43_200,
    });
    expect(parsed).toMatchObject({ stsRoleArn: 'acs:ram::1111111111111111:role/acme', maxSessionSeconds: 43_200 });
    expect(z.parse(tencentApi.keys, { ...tencent, stsRoleArn: 'qcs::cam::uin/1:roleName/acme', externalId: 'ab' })).toMatchObject({
      externalId: 'ab',
    });
    expect(z.safeParse(ucloudApi.keys, { publicKey: 'p', privateKey: 'k', stsRoleArn: 'x', externalId: 'ab' }).success).toBe(true);
  });

  it.each([
    ['aliyun', { ...aliyun, externalId: 'x'.repeat(1225) }],
    ['aliyun', { ...aliyun, externalId: 'x' }],
    ['aliyun', { ...aliyun, externalId: 42 }],
    ['aliyun', { ...aliyun, stsRoleArn: 'qcs::cam::uin/1:roleName/acme' }],
    ['aliyun', { ...aliyun, maxSessionSeconds: 43_201 }],
    ['aliyun', { ...aliyun, maxSessionSeconds: '3600' }],
    ['tencent', { ...tencent, externalId: 'x'.repeat(129) }],
    ['tencent', { ...tencent, stsRoleArn: 'acs:ram::1:role/acme' }],
    ['tencent', { ...tencent, externalId: ['ab'] }],
    ['ucloud', { publicKey: 'p', privateKey: 'k', stsRoleArn: 7 }],
  ])('refuses a wrong %s setting: %j', (vendor, value) => {
    const api = { aliyun: aliyunApi, tencent: tencentApi, ucloud: ucloudApi }[vendor]!;
    expect(z.safeParse(api.keys, value).success).toBe(false);
  });
});
