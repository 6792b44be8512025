import { describe, expect, it } from 'vitest';
import { rpcSignature, rpcStringToSign } from '../../../../lib/vendor/signing/hmac-sha1.js';
import { HMAC_SHA1_EXAMPLE } from '../../../support/vendor-examples.js';

const { method, params: example, secret, stringToSign, signature } = HMAC_SHA1_EXAMPLE;

describe('RPC HMAC-SHA1 (SignatureVersion 1.0)', () => {
  it('reproduces the official string-to-sign', () => {
    expect(rpcStringToSign(method, example)).toBe(stringToSign);
  });

  it('reproduces the official signature', () => {
    expect(rpcSignature(method, example, secret)).toBe(signature);
  });

  it('leaves a Signature parameter out of what it signs', () => {
    expect(rpcSignature(method, { ...example, Signature: 'stale' }, secret)).toBe(signature);
  });

  it('depends on the method and the secret', () => {
    expect(rpcSignature('POST', example, secret)).not.toBe(signature);
    expect(rpcSignature(method, example, 'testsecreT')).not.toBe(signature);
  });
});
