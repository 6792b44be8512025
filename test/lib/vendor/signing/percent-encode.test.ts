import { describe, expect, it } from 'vitest';
import { canonicalQuery, compareBytes, percentEncode } from '../../../../lib/vendor/signing/percent-encode.js';

describe('percentEncode', () => {
  it.each([
    ['', ''],
    ['a b', 'a%20b'],
    ['*', '%2A'],
    ['~', '~'],
    ['+', '%2B'],
    ['/', '%2F'],
    ["!'()", '%21%27%28%29'],
    ['&=%', '%26%3D%25'],
    ['AZaz09-_.~', 'AZaz09-_.~'],
    ['é', '%C3%A9'],
    ['中文', '%E4%B8%AD%E6%96%87'],
    ['😀', '%F0%9F%98%80'],
    ['2016-02-23T12:46:24Z', '2016-02-23T12%3A46%3A24Z'],
  ])('%j → %j', (input, expected) => {
    expect(percentEncode(input)).toBe(expected);
  });
});

describe('compareBytes', () => {
  it('orders by UTF-8 bytes: upper case before lower case, astral after U+FFFD', () => {
    expect(['ChargeType', 'CPU', 'a', 'B'].sort(compareBytes)).toEqual(['B', 'CPU', 'ChargeType', 'a']);
    // UTF-16 code-unit order would put the surrogate pair (0xD83D…) before U+FFFD.
    expect(['😀', '\uFFFD'].sort(compareBytes)).toEqual(['\uFFFD', '😀']);
  });
});

describe('canonicalQuery', () => {
  it('sorts by name, encodes names and values, keeps empty values as `k=`', () => {
    expect(canonicalQuery({ b: 'x y', A: '', 'a.1': '*~/' })).toBe('A=&a.1=%2A~%2F&b=x%20y');
  });

  it('is empty for no parameters', () => {
    expect(canonicalQuery({})).toBe('');
  });
});
