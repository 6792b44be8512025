import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { flattenUcloudParams, ucloudSignature } from '../../../../lib/vendor/signing/ucloud-sha1.js';
import { UCLOUD_EXAMPLE } from '../../../support/vendor-examples.js';

const { publicKey: PUBLIC_KEY, privateKey: PRIVATE_KEY, signature: SIGNATURE } = UCLOUD_EXAMPLE;

describe('UCloud signature', () => {
  it('reproduces the official example', () => {
    expect(ucloudSignature(UCLOUD_EXAMPLE.params, PUBLIC_KEY, PRIVATE_KEY)).toBe(SIGNATURE);
  });

  it('gives the same signature for a string "10" and a number 10.0', () => {
    const a = ucloudSignature({ Action: 'DescribeUHostInstance', Region: 'cn-bj2', Limit: '10' }, PUBLIC_KEY, PRIVATE_KEY);
    expect(a).toBe(SIGNATURE);
    expect(ucloudSignature({ Action: 'DescribeUHostInstance', Region: 'cn-bj2', Limit: 10.0 }, PUBLIC_KEY, PRIVATE_KEY)).toBe(a);
  });

  it('sorts names in byte order (CPU before ChargeType), not case-insensitively', () => {
    const expected = createHash('sha1').update(`CPU2ChargeTypeMonthPublicKey${PUBLIC_KEY}a1${PRIVATE_KEY}`).digest('hex');
    expect(ucloudSignature({ a: 1, ChargeType: 'Month', CPU: 2 }, PUBLIC_KEY, PRIVATE_KEY)).toBe(expected);
  });

  it('skips absent values and lower-cases the hex', () => {
    const sig = ucloudSignature(
      { Action: 'DescribeUHostInstance', Region: 'cn-bj2', Limit: 10, Zone: undefined, Tag: null },
      PUBLIC_KEY,
      PRIVATE_KEY,
    );
    expect(sig).toBe(SIGNATURE);
    expect(sig).toMatch(/^[0-9a-f]{40}$/);
  });

  it('uses the given public key over a PublicKey parameter', () => {
    const params = { Action: 'DescribeUHostInstance', Region: 'cn-bj2', Limit: 10, PublicKey: 'stale' };
    expect(ucloudSignature(params, PUBLIC_KEY, PRIVATE_KEY)).toBe(SIGNATURE);
  });
});

describe('flattenUcloudParams', () => {
  it.each([
    [true, 'true'],
    [false, 'false'],
    [42.0, '42'],
    [0, '0'],
    [-0, '0'],
    [0.1, '0.1'],
    [-2.5, '-2.5'],
    [1e21, '1000000000000000000000'],
    [1.5e22, '15000000000000000000000'],
    [-1.2345e25, '-12345000000000000000000000'],
    // Shortest round-trip digits, then zeros (Go's FormatFloat(f, 'f', -1, 64)), not the exact binary value.
    [2 ** 70, '1180591620717411300000'],
    [1e-7, '0.0000001'],
    [-1.5e-9, '-0.0000000015'],
    [1.23e-7, '0.000000123'],
    ['', ''],
    ['1e21', '1e21'],
  ])('formats %j as %j', (value, expected) => {
    expect(flattenUcloudParams({ V: value })).toEqual({ V: expected });
  });

  it('round-trips every formatted number without exponent notation', () => {
    for (const n of [1e21, 9.87654321e300, Number.MAX_VALUE, 5e-324, 1e-6, 1e-7, 123456789.125, -3e-10]) {
      const text = flattenUcloudParams({ N: n }).N!;
      expect(text).not.toMatch(/e/i);
      expect(Number(text)).toBe(n);
    }
  });

  it('refuses non-finite numbers', () => {
    expect(() => flattenUcloudParams({ N: Number.NaN })).toThrow(RangeError);
    expect(() => flattenUcloudParams({ N: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });

  it('flattens arrays 0-based, formats their items, and drops undefined and null', () => {
    expect(
      flattenUcloudParams({ UHostIds: ['uhost-a', 'uhost-b'], Flags: [true, 3.0], Empty: [], Zone: undefined, Tag: null, TokenId: 't-1' }),
    ).toEqual({ 'UHostIds.0': 'uhost-a', 'UHostIds.1': 'uhost-b', 'Flags.0': 'true', 'Flags.1': '3', TokenId: 't-1' });
  });

  it('signs flattened arrays by their indexed names', () => {
    const expected = createHash('sha1').update(`Ids.0xIds.1yPublicKey${PUBLIC_KEY}${PRIVATE_KEY}`).digest('hex');
    expect(ucloudSignature({ Ids: ['x', 'y'] }, PUBLIC_KEY, PRIVATE_KEY)).toBe(expected);
  });
});
