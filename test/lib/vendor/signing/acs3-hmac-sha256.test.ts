import { describe, expect, it } from 'vitest';
import { type Acs3Request, acs3Authorization, canonicalRequest, sha256Hex } from '../../../../lib/vendor/signing/acs3-hmac-sha256.js';
import { ACS3_EXAMPLE, EMPTY_SHA256 } from '../../../support/vendor-examples.js';

const { credentials, request: example, signedHeaders: SIGNED, authorization: EXPECTED } = ACS3_EXAMPLE;

describe('ACS3-HMAC-SHA256', () => {
  it('hashes the empty body to the documented constant', () => {
    expect(sha256Hex('')).toBe(EMPTY_SHA256);
  });

  it('reproduces the official canonical request and its hash', () => {
    const { canonical, signedHeaders } = canonicalRequest(example);
    expect(signedHeaders).toBe(SIGNED);
    expect(canonical).toBe(ACS3_EXAMPLE.canonicalRequest);
    expect(sha256Hex(canonical)).toBe(ACS3_EXAMPLE.hashedCanonicalRequest);
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
