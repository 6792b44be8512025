import { describe, expect, it } from 'vitest';
import { aliyunProcess, aliyunUri, isoSeconds, NotServable, routeAnswer, tencentCredentials } from '../../agent/formats.js';

const NOW = Date.parse('2026-12-03T10:00:00.000Z');
const aliyun = {
  data: { accessKeyId: 'STS.id', accessKeySecret: 'secret', securityToken: 'token', expiration: '2026-12-03T10:15:00Z' },
  expiresAt: Date.parse('2026-12-03T10:14:59.900Z'),
  refreshAfter: Date.parse('2026-12-03T10:13:07.000Z'),
};
const tencent = {
  data: { credentials: { tmpSecretId: 'AKID', tmpSecretKey: 'key', token: 'tok' }, expiredTime: 1796292900 },
  expiresAt: 1796292900_000,
  refreshAfter: 1796292000_000,
};

describe('the endpoints’ formats', () => {
  it('Alibaba Cloud credentials URI: exactly its fields, Expiration in whole seconds rounded down', () => {
    const uri = aliyunUri(aliyun, NOW);
    expect(uri).toEqual({
      Code: 'Success',
      AccessKeyId: 'STS.id',
      AccessKeySecret: 'secret',
      SecurityToken: 'token',
      Expiration: '2026-12-03T10:14:59Z',
    });
    expect(aliyunProcess(uri)).toEqual({
      mode: 'StsToken',
      access_key_id: 'STS.id',
      access_key_secret: 'secret',
      sts_token: 'token',
      expiration: '2026-12-03T10:14:59Z',
    });
    expect(isoSeconds(Date.parse('2026-12-03T10:00:00.999Z'))).toBe('2026-12-03T10:00:00Z');
  });

  it('Tencent Cloud: TmpSecretId, TmpSecretKey, Token and ExpiredTime in epoch seconds', () => {
    expect(tencentCredentials(tencent, NOW)).toEqual({ TmpSecretId: 'AKID', TmpSecretKey: 'key', Token: 'tok', ExpiredTime: 1796292900 });
  });

  it('a route: its data with expiresAt and refreshAfter in ISO 8601', () => {
    expect(routeAnswer({ ...aliyun, data: [1] }, NOW)).toEqual({
      data: [1],
      expiresAt: '2026-12-03T10:14:59.900Z',
      refreshAfter: '2026-12-03T10:13:07.000Z',
    });
  });

  it('never formats expired credentials, nor an answer that is not STS credentials (naming fields, not values)', () => {
    expect(() => aliyunUri(aliyun, aliyun.expiresAt)).toThrow(NotServable);
    expect(() => tencentCredentials(tencent, tencent.expiresAt + 1)).toThrow(/expired/);
    expect(() => routeAnswer(aliyun, aliyun.expiresAt)).toThrow(NotServable);
    const wrong = () => aliyunUri({ ...aliyun, data: { accessKeyId: 'STS.id', accessKeySecret: 'secret' } }, NOW);
    expect(wrong).toThrow(/securityToken/);
    expect(wrong).not.toThrow(/secret\b.*secret/);
    expect(() => tencentCredentials({ ...tencent, data: aliyun.data }, NOW)).toThrow(/not STS credentials \(credentials\)/);
  });
});
