/**
 * Properties of the RoleSessionName derivation (lib/access/session-name.ts): always a name both
 * vendors take, the same for the same caller, different for different callers.
 */
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Caller } from '../../../lib/access/caller.js';
import { roleSessionName } from '../../../lib/access/session-name.js';
import { PROPERTY_TIMEOUT_MS, propertyRuns } from '../../support/property-runs.js';

/** What both vendors take, written out: Alibaba `[A-Za-z0-9.@_-]`, 2 to 64; Tencent allows more, up to 128. */
const BOTH_VENDORS = /^[A-Za-z0-9.@_-]{2,64}$/;

const VALID = 'abcXYZ019._@-';
const INVALID = [' ', '/', '|', '+', '=', ',', ':', '*', '\n', '\u0000', 'é', '中', '😀', '\ud83d', '"', '\\', '%'];
/** Text where names go wrong: valid and invalid characters, from empty to long. */
const text = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.array(fc.constantFrom(...VALID.split(''), ...INVALID), { maxLength: 90 }).map((parts) => parts.join('')),
);
const caller: fc.Arbitrary<Caller> = fc.oneof(
  fc.constant<Caller>({ kind: 'anonymous' }),
  fc
    .tuple(
      fc.option(text, { nil: undefined }),
      fc.option(fc.constantFrom('https://a.example.test', 'https://b.example.test'), { nil: undefined }),
    )
    .map(
      ([subject, issuer]): Caller => ({
        kind: 'jwt',
        ...(subject !== undefined && { subject }),
        ...(issuer !== undefined && { issuer }),
        claims: {},
      }),
    ),
  fc.constantFrom('anonymous', 'jwt', 'iam').map((subject): Caller => ({ kind: 'jwt', subject, claims: {} })),
  fc
    .tuple(
      fc.constantFrom('sts', 'iam'),
      fc.constantFrom('123456789012', '999999999999'),
      fc.constantFrom('assumed-role', 'user', 'role'),
      text,
      text,
    )
    .map(([service, account, type, a, b]): Caller => ({ kind: 'iam', principal: `arn:aws:${service}::${account}:${type}/${a}/${b}` })),
  text.map((principal): Caller => ({ kind: 'iam', principal })),
);

describe('roleSessionName', () => {
  it(
    'is always 2 to 64 characters both vendors take, and the same for the same caller',
    () => {
      fc.assert(
        fc.property(caller, (who) => {
          const name = roleSessionName(who);
          expect(name).toMatch(BOTH_VENDORS);
          expect(roleSessionName(structuredClone(who))).toBe(name);
        }),
        propertyRuns(500),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'keeps a subject of no issuer both vendors already take as it is, unless it is shaped like a hashed name',
    () => {
      fc.assert(
        fc.property(fc.array(fc.constantFrom(...VALID.split('')), { minLength: 2, maxLength: 64 }), (chars) => {
          const subject = chars.join('');
          fc.pre(!/-[0-9a-f]{10}$/.test(subject));
          expect(roleSessionName({ kind: 'jwt', subject, claims: {} })).toBe(subject);
        }),
        propertyRuns(200),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'gives different names to subjects that differ only in the characters it replaces or cuts',
    () => {
      // One core, two different runs of refused characters (or tails past the cut) spliced in at one place.
      const core = fc.array(fc.constantFrom(...VALID.split('')), { minLength: 1, maxLength: 70 }).map((c) => c.join(''));
      const run = fc.array(fc.constantFrom(...INVALID), { minLength: 1, maxLength: 3 }).map((r) => r.join(''));
      fc.assert(
        fc.property(core, fc.nat(), run, run, (base, at, a, b) => {
          fc.pre(a !== b);
          const i = at % (base.length + 1);
          const first = `${base.slice(0, i)}${a}${base.slice(i)}`;
          const second = `${base.slice(0, i)}${b}${base.slice(i)}`;
          expect(roleSessionName({ kind: 'jwt', subject: first, claims: {} })).not.toBe(
            roleSessionName({ kind: 'jwt', subject: second, claims: {} }),
          );
        }),
        propertyRuns(300),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'gives different callers different names (up to a 40-bit hash collision)',
    () => {
      fc.assert(
        fc.property(caller, caller, (a, b) => {
          // Every caller is its own identity: a subject "jwt" or "anonymous" is not a JWT without a subject or the anonymous caller.
          fc.pre(JSON.stringify(a) !== JSON.stringify(b));
          expect(roleSessionName(a)).not.toBe(roleSessionName(b));
        }),
        propertyRuns(500),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
