/**
 * UCloud's SHA-1 signature (lib/vendor/signing/ucloud-sha1.ts) against the documented algorithm as
 * test/support/sign-for-tests.ts writes it (docs/vendors.md, "UCloud signing"), on random
 * parameters: unicode, space, `* ~ + / & =`, empty strings, numbers, booleans, lists.
 */
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type UcloudValue, ucloudSignature } from '../../../../lib/vendor/signing/ucloud-sha1.js';
import { PROPERTY_TIMEOUT_MS, propertyRuns } from '../../../support/property-runs.js';
import { ucloudSignature as documentedSignature } from '../../../support/sign-for-tests.js';

const PIECES = [' ', '*', '~', '+', '/', '&', '=', '%', '.', '-', '_', 'a', 'Z', '0', 'é', '中', '😀', '\n', '"'];
const text = fc.oneof(
  { arbitrary: fc.constant(''), weight: 1 },
  { arbitrary: fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }).map((p) => p.join('')), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }), weight: 1 },
);
// Numbers the way JavaScript writes them without an exponent; the exponent forms have their own examples in ucloud-sha1.test.ts.
const number = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }).filter((n) => !/e/i.test(String(n))),
);
const scalar = fc.oneof({ arbitrary: text, weight: 4 }, { arbitrary: number, weight: 1 }, { arbitrary: fc.boolean(), weight: 1 });
const value: fc.Arbitrary<UcloudValue> = fc.oneof(
  { arbitrary: scalar, weight: 6 },
  { arbitrary: fc.array(scalar, { maxLength: 4 }), weight: 2 },
  { arbitrary: fc.constantFrom(undefined, null), weight: 1 },
);
// Names as UCloud spells them (letters and digits; lists add `.0`, `.1`), with PublicKey and Signature left to the signer.
const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,11}$/).filter((n) => n !== 'PublicKey' && n !== 'Signature');
const key = fc.oneof(text, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }));

/** The parameters as the documented rule reads them: absent values dropped, a list as `Name.0`, `Name.1`, …. */
function documentedParams(params: Record<string, UcloudValue>): Record<string, string | number | boolean> {
  const flat: Record<string, string | number | boolean> = {};
  for (const [n, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v)) flat[n] = v as string | number | boolean;
    else for (const [i, item] of v.entries()) flat[`${n}.${i}`] = item;
  }
  return flat;
}

describe('UCloud SHA-1 signature', () => {
  it(
    'agrees with the documented algorithm on random parameters and keys',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom('DescribeUFileToken', 'DescribeUHostInstance'),
          fc.dictionary(name, value, { maxKeys: 6, noNullPrototype: true }),
          key,
          key,
          (action, params, publicKey, privateKey) => {
            const expected = documentedSignature({ Action: action, ...documentedParams(params), PublicKey: publicKey }, privateKey);
            expect(ucloudSignature({ Action: action, ...params }, publicKey, privateKey)).toBe(expected);
          },
        ),
        propertyRuns(300),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
