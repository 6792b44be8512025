import { describe, expect, it } from 'vitest';
import { createLogger, redact, registerSecret, registerSecretNames } from '../../../lib/core/logger.js';
import { loadVendors } from '../../../lib/vendor/index.js';
import { captureLogs } from '../../support/log-capture.js';

// Loading the vendors registers their adapters' secret field names, as a function's own spec
// registers its vendor's when it loads.
const vendors = await loadVendors();

describe('redact', () => {
  it("learns a vendor's secret field names from its adapter (secretFields), in any spelling", () => {
    expect(redact({ zzToySecretHalf: 'x', zzToyId: 'kept' })).toEqual({ zzToySecretHalf: 'x', zzToyId: 'kept' });
    registerSecretNames(['zz-toy-secret-half']);
    expect(redact({ zzToySecretHalf: 'x', zzToyId: 'kept' })).toEqual({ zzToySecretHalf: '[REDACTED]', zzToyId: 'kept' });
    for (const vendor of vendors) {
      for (const name of vendor.secretFields) expect(redact({ [name]: 'v' }), `${vendor.name} ${name}`).toEqual({ [name]: '[REDACTED]' });
    }
  });

  it('masks secret-named fields wherever they are nested, in any case or spelling', () => {
    const out = redact({
      data: { AccessKeySecret: 'a', securityToken: 'b', list: [{ privateKey: 'c', PrivateKey: 'd' }] },
      headers: { authorization: 'e', 'x-acs-security-token': 'f' },
      signature: 'g',
      tokenId: 'kept',
    });
    expect(JSON.stringify(out)).not.toMatch(/"[a-g]"/);
    expect(out).toMatchObject({ tokenId: 'kept', data: { AccessKeySecret: '[REDACTED]' } });
  });

  it("masks Tencent Cloud's secret fields: secretKey, TmpSecretKey, Token, X-TC-Token; keeps ids", () => {
    const out = redact({
      keys: { secretId: 'AKIDkept', secretKey: 'h' },
      data: { credentials: { Token: 'i', TmpSecretId: 'AKIDtmp', TmpSecretKey: 'j' } },
      headers: { 'x-tc-token': 'k' },
      tokenName: 'kept-name',
    });
    expect(JSON.stringify(out)).not.toMatch(/"[h-k]"/);
    expect(out).toMatchObject({
      keys: { secretId: 'AKIDkept' },
      data: { credentials: { TmpSecretId: 'AKIDtmp' } },
      tokenName: 'kept-name',
    });
  });

  it('scrubs a registered secret value from any string, errors included', () => {
    registerSecret('master-secret-value-123');
    const out = JSON.stringify(redact({ message: 'url?x=master-secret-value-123&y', error: new Error('bad master-secret-value-123') }));
    expect(out).not.toContain('master-secret-value-123');
    expect(out).toContain('[REDACTED]');
  });

  it('survives cycles', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(redact(a)).toEqual({ name: 'a', self: '[Circular]' });
  });
});

describe('createLogger', () => {
  it('writes one JSON object per line with the base fields', () => {
    const logs = captureLogs();
    try {
      createLogger({ requestId: 'r1' }).child({ messageId: 'm1' }).warn('hello', { accessKeySecret: 'nope' });
    } finally {
      logs.restore();
    }
    expect(logs.records()).toEqual([
      expect.objectContaining({ level: 'warn', message: 'hello', requestId: 'r1', messageId: 'm1', accessKeySecret: '[REDACTED]' }),
    ]);
  });

  it('writes nothing below LOG_LEVEL', () => {
    const logs = captureLogs();
    process.env.LOG_LEVEL = 'warn';
    try {
      createLogger().info('quiet');
      createLogger().error('loud');
    } finally {
      logs.restore();
    }
    expect(logs.records().map((r) => r.message)).toEqual(['loud']);
  });
});
