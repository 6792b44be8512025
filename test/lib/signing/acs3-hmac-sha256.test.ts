import { describe, expect, it } from 'vitest';
import { type Acs3Request, acs3Authorization, canonicalRequest, sha256Hex } from '../../../lib/signing/acs3-hmac-sha256.js';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const credentials = { accessKeyId: 'YourAccessKeyId', accessKeySecret: 'YourAccessKeySecret' };

/** VENDORS.md, "ACS3-HMAC-SHA256": the vendor's worked example (RunInstances). */
const example: Acs3Request = {
  method: 'POST',
  host: 'ecs.cn-shanghai.aliyuncs.com',
  path: '/',
  query: { RegionId: 'cn-shanghai', ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd' },
  headers: {
    host: 'ecs.cn-shanghai.aliyuncs.com',
    'x-acs-action': 'RunInstances',
    'x-acs-version': '2014-05-26',
    'x-acs-date': '2023-10-26T10:22:32Z',
    'x-acs-signature-nonce': '3156853299f313e23d1673dc12e1703d',
    'x-acs-content-sha256': EMPTY_SHA256,
  },
  body: '',
};
const SIGNED = 'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version';
const EXPECTED =
  'ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=' +
  `${SIGNED},Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0`;

describe('ACS3-HMAC-SHA256', () => {
  it('hashes the empty body to the documented constant', () => {
    expect(sha256Hex('')).toBe(EMPTY_SHA256);
  });

  it('reproduces the official canonical request and its hash', () => {
    const { canonical, signedHeaders } = canonicalRequest(example);
    expect(signedHeaders).toBe(SIGNED);
    expect(canonical).toBe(
      [
        'POST',
        '/',
        'ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai',
        'host:ecs.cn-shanghai.aliyuncs.com',
        'x-acs-action:RunInstances',
        `x-acs-content-sha256:${EMPTY_SHA256}`,
        'x-acs-date:2023-10-26T10:22:32Z',
        'x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d',
        'x-acs-version:2014-05-26',
        '',
        SIGNED,
        EMPTY_SHA256,
      ].join('\n'),
    );
    expect(sha256Hex(canonical)).toBe('7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259');
  });

  it('reproduces the official signature', () => {
    expect(acs3Authorization(example, credentials)).toBe(EXPECTED);
  });

  it('lower-cases and trims header names and values, and ignores unsigned headers', () => {
    const shouted: Acs3Request = {
      ...example,
      headers: {
        Accept: 'application/json',
        'User-Agent': 'broker',
        ...Object.fromEntries(Object.entries(example.headers).map(([k, v]) => [k.toUpperCase(), `  ${v}\t`])),
      },
    };
    expect(acs3Authorization(shouted, credentials)).toBe(EXPECTED);
  });

  it('takes host from req.host when the headers lack it', () => {
    const { host: _host, ...headers } = example.headers;
    expect(acs3Authorization({ ...example, headers }, credentials)).toBe(EXPECTED);
  });

  it('signs content-type and hashes the body when there is one', () => {
    const body = 'ResourceGroupId=rg-1';
    const req: Acs3Request = {
      ...example,
      query: {},
      headers: { ...example.headers, 'Content-Type': 'application/x-www-form-urlencoded', 'x-acs-content-sha256': sha256Hex(body) },
      body,
    };
    const { canonical, signedHeaders } = canonicalRequest(req);
    expect(signedHeaders).toBe(`content-type;${SIGNED}`);
    expect(canonical.startsWith('POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:')).toBe(true);
    expect(canonical.endsWith(`\n${sha256Hex(body)}`)).toBe(true);
  });

  it('refuses a body that does not match x-acs-content-sha256', () => {
    expect(() => canonicalRequest({ ...example, body: 'x' })).toThrow(/x-acs-content-sha256/);
  });

  it('changes with the secret', () => {
    expect(acs3Authorization(example, { ...credentials, accessKeySecret: 'other' })).not.toBe(EXPECTED);
  });
});

describe('ACS3 canonical query', () => {
  const bare = { ...example, headers: { host: 'h' }, query: {} };
  const queryLine = (query: Record<string, string>) => canonicalRequest({ ...bare, query }).canonical.split('\n')[2];

  it('encodes values, keeps empty values as `name=`, and sorts by name', () => {
    expect(queryLine({ b: 'x y*~/+', a: '', 'A.1': '中' })).toBe('A.1=%E4%B8%AD&a=&b=x%20y%2A~%2F%2B');
  });

  it('leaves names unencoded, as the official openapi-util does', () => {
    expect(queryLine({ 'a b': '1' })).toBe('a b=1');
  });
});
