/**
 * Properties of the canonical body hash (lib/state/body-key.ts; docs/contracts.md, "Shared state":
 * keys sorted, absent fields dropped, every field counts, nothing of the body shows).
 */
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bodyKey, scopedBodyKey } from '../../../lib/state/body-key.js';
import { PROPERTY_TIMEOUT_MS, propertyRuns } from '../../support/property-runs.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Field names, including ones objects inherit and ones that differ only in case. */
const fieldName = fc.oneof(
  { arbitrary: fc.string({ maxLength: 8 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 4 }), weight: 1 },
  { arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', '', ' ', 'a', 'A', 'custSpaceId', 'CustSpaceId'), weight: 2 },
);
const scalar: fc.Arbitrary<Json> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.constantFrom('1', 'true', 'null', '', '[]', '{}', '"', '\\', 'é'),
  fc.integer({ min: -1000, max: 1000 }),
  // JSON has no -0: JSON.stringify writes it as 0, and a parsed body never holds it distinct from 0.
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
  fc.boolean(),
  fc.constant(null),
);
const { json } = fc.letrec<{ json: Json }>((tie) => ({
  json: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'json' },
    { arbitrary: scalar, weight: 4 },
    { arbitrary: fc.array(tie('json'), { maxLength: 4, depthIdentifier: 'json' }), weight: 1 },
    { arbitrary: fc.dictionary(fieldName, tie('json'), { maxKeys: 4, depthIdentifier: 'json', noNullPrototype: true }), weight: 1 },
  ),
}));
const body = fc.dictionary(fieldName, json, { maxKeys: 6, noNullPrototype: true });
const nonEmptyBody = fc.dictionary(fieldName, json, { minKeys: 1, maxKeys: 6, noNullPrototype: true });

/** The same JSON value: same items in the same order, same fields whatever their order. */
function sameJson(a: Json, b: Json): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameJson(item, b[i]!));
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return Object.is(a, b);
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && sameJson(a[key]!, b[key]!));
}

/** A copy with every object's keys in another order (arrays keep theirs), as `pick(n)` chooses. */
function reorder(value: Json, pick: (n: number) => number): Json {
  if (Array.isArray(value)) return value.map((item) => reorder(item, pick));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const out: Record<string, Json> = {};
  while (entries.length > 0) {
    const [key, inner] = entries.splice(pick(entries.length), 1)[0]!;
    Object.defineProperty(out, key, { value: reorder(inner, pick), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

type Path = (string | number)[];

/** Every place in a value that holds a value of its own: object fields and array items, at any depth. */
function pathsIn(value: Json, prefix: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => [[...prefix, i], ...pathsIn(item, [...prefix, i])]);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => [[...prefix, key], ...pathsIn(inner, [...prefix, key])]);
}

function valueAt(value: Json, path: Path): Json {
  return path.reduce<Json>((at, step) => (at as Record<string | number, Json>)[step]!, value);
}

/** A copy of `value` with `path` replaced (`undefined`: removed), leaving the original alone. */
function withAt(value: Json, path: Path, replacement: Json | undefined): Json {
  if (path.length === 0) return replacement as Json;
  const [step, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    if (rest.length === 0 && replacement === undefined) copy.splice(step as number, 1);
    else copy[step as number] = withAt(value[step as number]!, rest, replacement);
    return copy;
  }
  const copy: Record<string, Json> = {};
  for (const [key, inner] of Object.entries(value as Record<string, Json>)) {
    if (key === step && rest.length === 0 && replacement === undefined) continue;
    const next = key === step ? withAt(inner, rest, replacement) : inner;
    Object.defineProperty(copy, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

const asBody = (value: Json) => value as Record<string, unknown>;

describe('bodyKey', () => {
  it(
    'does not depend on the order of keys, at any depth, nor on fields that are undefined',
    () => {
      fc.assert(
        fc.property(body, fc.array(fc.nat(), { minLength: 1, maxLength: 16 }), fieldName, (b, picks, absent) => {
          let k = 0;
          const shuffled = reorder(b, (n) => picks[k++ % picks.length]! % n);
          expect(sameJson(shuffled, b)).toBe(true);
          expect(bodyKey(asBody(shuffled))).toBe(bodyKey(b));
          fc.pre(!Object.hasOwn(b, absent));
          const withUndefined = asBody(reorder(b, () => 0));
          Object.defineProperty(withUndefined, absent, { value: undefined, enumerable: true });
          expect(bodyKey(withUndefined)).toBe(bodyKey(b));
        }),
        propertyRuns(300),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'changes when any field or item, at any depth, changes value or type, is removed, or is added',
    () => {
      fc.assert(
        fc.property(nonEmptyBody, fc.nat(), json, fieldName, json, (b, pick, other, added, addedValue) => {
          const key = bodyKey(b);
          const paths = pathsIn(b);
          const path = paths[pick % paths.length]!;
          const old = valueAt(b, path);
          // Another value (of any type).
          if (!sameJson(other, old)) expect(bodyKey(asBody(withAt(b, path, other))), JSON.stringify({ path, old, other })).not.toBe(key);
          // The same value as another type: 1 and "1", true and "true", null and "null", x and [x].
          for (const retyped of [typeof old === 'string' ? undefined : JSON.stringify(old), [old]]) {
            if (retyped !== undefined) expect(bodyKey(asBody(withAt(b, path, retyped))), JSON.stringify({ path, retyped })).not.toBe(key);
          }
          if (typeof old === 'string' && old !== '' && String(Number(old)) === old) {
            expect(bodyKey(asBody(withAt(b, path, Number(old)))), JSON.stringify({ path, old })).not.toBe(key);
          }
          // Removed.
          expect(bodyKey(asBody(withAt(b, path, undefined))), JSON.stringify({ removed: path })).not.toBe(key);
          // A field (or item) added next to the chosen one.
          const parentPath = path.slice(0, -1);
          const parent = valueAt(b, parentPath);
          if (Array.isArray(parent)) {
            expect(bodyKey(asBody(withAt(b, parentPath, [...parent, addedValue])))).not.toBe(key);
          } else if (!Object.hasOwn(parent as object, added)) {
            const extended = reorder(parent, () => 0) as Record<string, Json>;
            Object.defineProperty(extended, added, { value: addedValue, enumerable: true });
            expect(bodyKey(asBody(withAt(b, parentPath, extended))), JSON.stringify({ added })).not.toBe(key);
          }
        }),
        propertyRuns(300),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'changes when two different items of an array trade places',
    () => {
      fc.assert(
        fc.property(fieldName, fc.array(json, { minLength: 2, maxLength: 6 }), fc.nat(), fc.nat(), (field, items, a, b) => {
          const i = a % items.length;
          const j = b % items.length;
          fc.pre(!sameJson(items[i]!, items[j]!));
          const swapped = [...items];
          [swapped[i], swapped[j]] = [swapped[j]!, swapped[i]!];
          const before: Record<string, unknown> = {};
          const after: Record<string, unknown> = {};
          Object.defineProperty(before, field, { value: items, enumerable: true });
          Object.defineProperty(after, field, { value: swapped, enumerable: true });
          expect(bodyKey(after)).not.toBe(bodyKey(before));
        }),
        propertyRuns(300),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'is 32 lower-case hex characters that hold no value of the body',
    () => {
      fc.assert(
        fc.property(body, (b) => {
          const key = bodyKey(b);
          expect(key).toMatch(/^[0-9a-f]{32}$/);
          // Short hex-looking values ("a", "1") can appear in any hex string by chance; longer ones never do.
          const texts = JSON.stringify(b).match(/"(?:[^"\\]|\\.)*"/g) ?? [];
          for (const text of texts.map((t) => JSON.parse(t) as string).filter((t) => t.length >= 8)) expect(key).not.toContain(text);
        }),
        propertyRuns(300),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'scoped: is bodyKey itself without a scope, and changes with the session policy or the session name',
    () => {
      const scopeText = fc.option(fc.oneof(fc.string({ maxLength: 16 }), fc.constantFrom('', '{}', '"', 'alice')), { nil: undefined });
      fc.assert(
        fc.property(body, scopeText, scopeText, scopeText, scopeText, (b, policyA, nameA, policyB, nameB) => {
          expect(scopedBodyKey(b)).toBe(bodyKey(b));
          expect(scopedBodyKey(b, {})).toBe(bodyKey(b));
          const scope = (sessionPolicy?: string, sessionName?: string) => ({
            ...(sessionPolicy !== undefined && { sessionPolicy }),
            ...(sessionName !== undefined && { sessionName }),
          });
          const a = scopedBodyKey(b, scope(policyA, nameA));
          expect(scopedBodyKey(b, scope(policyB, nameB)) === a).toBe(policyA === policyB && nameA === nameB);
        }),
        propertyRuns(300),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
