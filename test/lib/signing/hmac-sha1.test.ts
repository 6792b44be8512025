import { describe, expect, it } from 'vitest';
import { rpcSignature, rpcStringToSign } from '../../../lib/signing/hmac-sha1.js';

/** VENDORS.md, "HMAC-SHA1": the vendor's worked example. */
const example = {
  AccessKeyId: 'testid',
  Action: 'DescribeRegions',
  Format: 'XML',
  SignatureMethod: 'HMAC-SHA1',
  SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
  SignatureVersion: '1.0',
  Timestamp: '2016-02-23T12:46:24Z',
  Version: '2014-05-26',
};

describe('RPC HMAC-SHA1 (SignatureVersion 1.0)', () => {
  it('reproduces the official string-to-sign', () => {
    expect(rpcStringToSign('GET', example)).toBe(
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26',
    );
  });

  it('reproduces the official signature', () => {
    expect(rpcSignature('GET', example, 'testsecret')).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  it('leaves a Signature parameter out of what it signs', () => {
    expect(rpcSignature('GET', { ...example, Signature: 'stale' }, 'testsecret')).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  it('depends on the method and the secret', () => {
    expect(rpcSignature('POST', example, 'testsecret')).not.toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
    expect(rpcSignature('GET', example, 'testsecreT')).not.toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });
});
