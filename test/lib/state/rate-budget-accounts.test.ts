/**
 * Rate slots and tenant shares per vendor account: `default` keeps the keys it always had,
 * another account's keys carry its name after the function's, so the IAM LeadingKeys
 * confinement (the function's name first) holds and N accounts have N budgets.
 */
import { describe, expect, it } from 'vitest';
import { shareKey, slotKey, tenantHash } from '../../../lib/state/rate-budget.js';

const op = { functionName: 'cams-get-upload-authorization' };

describe('rate keys per account', () => {
  it('keeps the default account keys as they were', () => {
    expect(slotKey(op, 42)).toBe('cams-get-upload-authorization#rate#42');
    expect(slotKey(op, 42, 'default')).toBe('cams-get-upload-authorization#rate#42');
    expect(shareKey(op, 't', 7, 'default')).toBe(`cams-get-upload-authorization#share#${tenantHash('t')}#7`);
  });

  it('gives every other account its own slots and shares, under the function name', () => {
    const keys = ['acme', 'globex'].flatMap((account) => [slotKey(op, 42, account), shareKey(op, 't', 7, account)]);
    expect(new Set([...keys, slotKey(op, 42), shareKey(op, 't', 7)]).size).toBe(6);
    for (const key of keys) expect(key.startsWith('cams-get-upload-authorization#')).toBe(true);
    expect(slotKey(op, 42, 'acme')).toBe('cams-get-upload-authorization#rate#acme#42');
  });
});
