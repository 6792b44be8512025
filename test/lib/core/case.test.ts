import { describe, expect, it } from 'vitest';
import { camelizeKeys } from '../../../lib/core/case.js';

describe('camelizeKeys', () => {
  it('lower-cases the first letter of every key, nested in objects and arrays, and renames nothing else', () => {
    expect(
      camelizeKeys({
        EndPoint: 'e',
        DelegatedScope: { PredefinedScopes: { PredefinedScope: [{ Name: 'openid' }] } },
        TolenName: 'x',
        blackIPList: [],
      }),
    ).toEqual({
      endPoint: 'e',
      delegatedScope: { predefinedScopes: { predefinedScope: [{ name: 'openid' }] } },
      tolenName: 'x',
      blackIPList: [],
    });
  });

  it('leaves values alone', () => {
    expect(camelizeKeys(['A', 1, null])).toEqual(['A', 1, null]);
  });
});
