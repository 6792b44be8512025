import { describe, expect, it } from 'vitest';
import { SIMULATOR_DEFAULT_KEYS } from '../../sim/vendor-simulator.js';
import { SecretScan } from './support/secrets.js';

// The scanner the hostile suites rely on must find what it is meant to find.
describe('SecretScan', () => {
  const scan = () => {
    const s = new SecretScan();
    s.addMasterKey(SIMULATOR_DEFAULT_KEYS.aliyun.accessKeySecret);
    s.addSignatures([{ signature: 'A'.repeat(64) }, { signature: 'b'.repeat(40) }, { signature: 'c2lnbmF0dXJlLW9mLXJwYy10ZXN0PQ==' }, {}]);
    return s;
  };
  const sts = { accessKeySecret: 'sim-sts-secret-abc_DEF-123', securityToken: 'sim-sts-token-xyz' };

  it('finds a master key, a signature in any case, inside longer text', () => {
    const s = scan();
    s.scan(`{"message":"key=${SIMULATOR_DEFAULT_KEYS.aliyun.accessKeySecret}&x"}`, 'log 1');
    s.scan(`sig 0${'a'.repeat(64)}0 and ${'B'.repeat(40)}`, 'log 2');
    expect(s.findings.map((f) => [f.where, f.kind])).toEqual([
      ['log 1', 'master key'],
      ['log 2', 'signature'],
      ['log 2', 'signature'],
    ]);
  });

  it('finds returned credentials and the marks of any STS secret or Authorization header', () => {
    const s = scan();
    const own = s.addReturned({ data: [{ privateKey: '0d1435ad-1111-4222-8333-944455556666', nested: sts }] });
    expect(own.sort()).toEqual(['0d1435ad-1111-4222-8333-944455556666', sts.accessKeySecret, sts.securityToken].sort());
    s.scan('no secret here: 0d1435ad-1111 sim-sts', 'clean');
    expect(s.findings).toEqual([]);
    s.scan('uuid 0d1435ad-1111-4222-8333-944455556666', 'a');
    s.scan(`"x":"${sts.securityToken}"`, 'b');
    s.scan('Authorization: ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=00', 'c');
    expect(s.findings.map((f) => [f.where, f.kind])).toEqual([
      ['a', 'returned secret'],
      ['b', 'secret marker'],
      ['b', 'returned secret'],
      ['c', 'secret marker'],
    ]);
  });

  it('a success answer may carry its own credentials, and nothing else secret', () => {
    const s = scan();
    const data = { accessKeyId: 'STS.x', ...sts };
    const own = s.addReturned(data);
    s.scanSuccess(JSON.stringify({ data }), own, 'own');
    expect(s.findings).toEqual([]);
    s.scanSuccess(JSON.stringify({ data, other: 'sim-sts-secret-someone-else' }), own, 'other');
    expect(s.findings.map((f) => f.kind)).toEqual(['secret marker']);
    expect(s.report()).toMatch(/^1 found \(secret marker: 1\): secret marker in other at \d+$/);
    expect(s.counts).toEqual({ masterKeys: 1, returnedSecrets: 2, signatures: 3 });
  });
});
