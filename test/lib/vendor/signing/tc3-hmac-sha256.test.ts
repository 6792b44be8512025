import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type Tc3Request,
  tc3Authorization,
  tc3CanonicalRequest,
  tc3Date,
  tc3SigningKey,
  tc3StringToSign,
} from '../../../../lib/vendor/signing/tc3-hmac-sha256.js';
import { TC3_EXAMPLE, TC3_EXAMPLE_WITH_ACTION } from '../../../support/vendor-examples.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The documented example as a request for the signer. */
const EXAMPLE: Tc3Request = {
  method: 'POST',
  path: '/',
  query: '',
  headers: { 'Content-Type': TC3_EXAMPLE.contentType, Host: TC3_EXAMPLE.host },
  body: TC3_EXAMPLE.payload,
  timestamp: TC3_EXAMPLE.timestamp,
  service: TC3_EXAMPLE.service,
};

describe('TC3-HMAC-SHA256 on the vendor example (CVM DescribeInstances)', () => {
  it('builds the documented canonical request, payload hash included', () => {
    expect(sha256(TC3_EXAMPLE.payload)).toBe(TC3_EXAMPLE.payloadHash);
    const { canonical, signedHeaders } = tc3CanonicalRequest(EXAMPLE);
    expect(canonical).toBe(TC3_EXAMPLE.canonicalRequest);
    expect(sha256(canonical)).toBe(TC3_EXAMPLE.hashedCanonicalRequest);
    expect(signedHeaders).toBe('content-type;host');
  });

  it('builds the documented string to sign, with the UTC date (2019-02-25, not Beijing time 02-26)', () => {
    expect(tc3Date(TC3_EXAMPLE.timestamp)).toBe('2019-02-25');
    expect(tc3StringToSign(TC3_EXAMPLE.timestamp, TC3_EXAMPLE.credentialScope, TC3_EXAMPLE.canonicalRequest)).toBe(
      ['TC3-HMAC-SHA256', '1551113065', '2019-02-25/cvm/tc3_request', TC3_EXAMPLE.hashedCanonicalRequest].join('\n'),
    );
  });

  it('derives the signing key SecretDate → SecretService → SecretSigning and signs with it', () => {
    const mac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
    const expected = mac(mac(mac(`TC3${TC3_EXAMPLE.credentials.secretKey}`, '2019-02-25'), 'cvm'), 'tc3_request');
    const key = tc3SigningKey(TC3_EXAMPLE.credentials.secretKey, '2019-02-25', 'cvm');
    expect(key.equals(expected)).toBe(true);
    const stringToSign = tc3StringToSign(TC3_EXAMPLE.timestamp, TC3_EXAMPLE.credentialScope, TC3_EXAMPLE.canonicalRequest);
    expect(createHmac('sha256', key).update(stringToSign).digest('hex')).toBe(TC3_EXAMPLE.signature);
  });

  it('gives the documented Authorization header exactly', () => {
    expect(tc3Authorization(EXAMPLE, TC3_EXAMPLE.credentials)).toBe(TC3_EXAMPLE.authorization);
  });

  it('signs extra headers as the current Chinese page does: x-tc-action, its value lower-cased', () => {
    const withAction = { ...EXAMPLE, headers: { ...EXAMPLE.headers, 'X-TC-Action': TC3_EXAMPLE.action } };
    const { canonical, signedHeaders } = tc3CanonicalRequest(withAction);
    expect(canonical).toBe(TC3_EXAMPLE_WITH_ACTION.canonicalRequest);
    expect(sha256(canonical)).toBe(TC3_EXAMPLE_WITH_ACTION.hashedCanonicalRequest);
    expect(signedHeaders).toBe('content-type;host;x-tc-action');
    expect(tc3Authorization(withAction, { secretId: 'AKIDEXAMPLE', secretKey: TC3_EXAMPLE_WITH_ACTION.secretKey })).toBe(
      `TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=${TC3_EXAMPLE_WITH_ACTION.signature}`,
    );
  });
});

describe('TC3-HMAC-SHA256 details', () => {
  it('refuses to sign without content-type or host, which the vendor requires', () => {
    expect(() => tc3CanonicalRequest({ ...EXAMPLE, headers: { host: TC3_EXAMPLE.host } })).toThrow(/content-type/);
    expect(() => tc3CanonicalRequest({ ...EXAMPLE, headers: { 'content-type': TC3_EXAMPLE.contentType } })).toThrow(/host/);
  });

  it('changes the signature with every signed part: body, timestamp, service, host, secret', () => {
    const base = tc3Authorization(EXAMPLE, TC3_EXAMPLE.credentials);
    const variants: Tc3Request[] = [
      { ...EXAMPLE, body: `${EXAMPLE.body} ` },
      { ...EXAMPLE, timestamp: EXAMPLE.timestamp + 1 },
      { ...EXAMPLE, service: 'sts' },
      { ...EXAMPLE, headers: { ...EXAMPLE.headers, Host: 'sts.tencentcloudapi.com' } },
    ];
    for (const variant of variants) expect(tc3Authorization(variant, TC3_EXAMPLE.credentials)).not.toBe(base);
    expect(tc3Authorization(EXAMPLE, { ...TC3_EXAMPLE.credentials, secretKey: 'other' })).not.toBe(base);
  });

  it('dates the scope by UTC around midnight', () => {
    expect(tc3Date(Date.UTC(2024, 0, 31, 23, 59, 59) / 1000)).toBe('2024-01-31');
    expect(tc3Date(Date.UTC(2024, 1, 1, 0, 0, 0) / 1000)).toBe('2024-02-01');
  });
});
