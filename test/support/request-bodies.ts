/**
 * Request bodies for property tests, generated from an operation's request schema (as JSON
 * Schema, so a new operation gets them without a line here): valid ones of every shape the
 * schema allows, and invalid ones made from them by the mutations docs/contracts.md
 * ("Routes", body rules) says are refused. Also the vendor parameters a valid body names.
 */
import * as fc from 'fast-check';
import * as z from 'zod/mini';
import type { Operation } from '../../lib/spec/operation.js';

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
}

/** The request schema of an operation as JSON Schema (what openapi.json publishes). */
export function requestSchema(op: Operation): JsonSchema & { properties: Record<string, JsonSchema>; required: string[] } {
  const schema = z.toJSONSchema(op.request, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return { ...schema, properties: schema.properties ?? {}, required: schema.required ?? [] };
}

/** docs/contracts.md: IDs a vendor could read as a pattern; letters, digits, `_` and `-`, at most 64. */
export const ID_FIELDS = new Set(['resourceGroupId', 'custSpaceId', 'appId', 'region', 'projectId']);

/** The largest body a function parses (docs/contracts.md, "Errors": 413 above it). */
export const MAX_BODY_BYTES = 16 * 1024;

/** Text that trips encoders and validators: reserved characters, quotes, controls, unicode, a lone surrogate. */
const TEXT_PIECES = ['a', 'Z', '0', '-', '_', ' ', '*', '~', '+', '/', '&', '=', '%', '"', '\\', '${', ';', '.', 'é', '中', '😀'];
const CONTROL_PIECES = ['\t', '\n', '\u0000', '\u001f', '\u007f', '\ud83d'];
const text = fc.oneof(
  { arbitrary: fc.array(fc.constantFrom(...TEXT_PIECES), { minLength: 1, maxLength: 10 }).map((p) => p.join('')), weight: 4 },
  {
    arbitrary: fc.array(fc.constantFrom(...TEXT_PIECES, ...CONTROL_PIECES), { minLength: 1, maxLength: 10 }).map((p) => p.join('')),
    weight: 1,
  },
  { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), weight: 1 },
);

/** Length as the contract counts it: characters (code points), not UTF-16 units. */
const characters = (value: string) => Array.from(value).length;

function lengthOk(schema: JsonSchema, value: string): boolean {
  const length = characters(value);
  return length >= (schema.minLength ?? 0) && length <= (schema.maxLength ?? Number.POSITIVE_INFINITY);
}

/** `value` repeated or cut to exactly `length` characters. */
function toLength(value: string, length: number): string {
  const chars = Array.from(value || 'a');
  return Array.from({ length }, (_, i) => chars[i % chars.length]).join('');
}

/** Values the schema accepts; strings often at their longest. */
export function validValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  switch (schema.type) {
    case 'string': {
      const matches = (v: string) => (schema.pattern === undefined || new RegExp(schema.pattern).test(v)) && lengthOk(schema, v);
      const pattern = schema.pattern === undefined ? undefined : new RegExp(schema.pattern);
      // Tricky text where the pattern lets it through; where it never can (`^acs:ram::…`), a filter
      // would search forever, so a text the pattern refuses gives way to one the pattern generates.
      const base =
        pattern === undefined
          ? text
          : fc.oneof(
              fc.stringMatching(pattern),
              text.chain((v) => (pattern.test(v) ? fc.constant(v) : fc.stringMatching(pattern))),
            );
      const longest = schema.maxLength === undefined ? base : base.map((v) => toLength(v, schema.maxLength!));
      return fc.oneof({ arbitrary: base, weight: 3 }, { arbitrary: longest, weight: 1 }).filter(matches);
    }
    case 'integer': {
      const min = schema.minimum ?? -1_000_000;
      const max = schema.maximum ?? 1_000_000;
      return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max));
    }
    case 'array':
      return fc.array(validValue(schema.items ?? {}), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 10, 60) });
    default:
      throw new Error(`request-bodies: no generator for JSON Schema type ${String(schema.type)}`);
  }
}

/** Every string in a value, field names included, survives UTF-8: no lone surrogate (docs/contracts.md, body rules). */
export function wellFormed(value: unknown): boolean {
  if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('utf8') === value;
  if (value === null || typeof value !== 'object') return true;
  return Object.entries(value).every(([key, inner]) => wellFormed(key) && wellFormed(inner));
}

/** Bodies the operation's schema accepts: every required field, any of the optional ones (none, with `requiredOnly`). */
export function validBody(op: Operation, { requiredOnly = false } = {}): fc.Arbitrary<Record<string, unknown>> {
  const schema = requestSchema(op);
  const fields = Object.fromEntries(
    Object.entries(schema.properties)
      .filter(([name]) => !requiredOnly || schema.required.includes(name))
      .map(([name, field]) => [name, validValue(field)]),
  );
  return fc.record(fields, { requiredKeys: schema.required }) as fc.Arbitrary<Record<string, unknown>>;
}

/** An invalid body and what was done to it. */
export interface Mutated {
  body: unknown;
  mutation: string;
}

/** Another JSON type than the schema's. */
function wrongType(schema: JsonSchema): fc.Arbitrary<unknown> {
  const all: Record<string, fc.Arbitrary<unknown>> = {
    string: fc.oneof(fc.constantFrom('1', 'true', ''), text),
    number: fc.oneof(fc.integer(), fc.constant(1.5)),
    boolean: fc.boolean(),
    null: fc.constant(null),
    array: fc.array(fc.constantFrom('a', 1), { minLength: 1, maxLength: 2 }),
    object: fc.constant({ a: 1 }),
  };
  const own = schema.type === 'integer' ? ['number'] : [schema.type ?? ''];
  const others = Object.entries(all).filter(([type]) => !own.includes(type));
  // 1.5 is a number, but never an integer.
  if (schema.type === 'integer') others.push(['fraction', fc.constantFrom(1.5, 0.1, -0.5)]);
  return fc.oneof(...others.map(([, arbitrary]) => arbitrary));
}

/** A character the field's rule refuses, inserted into a valid value. */
const FORBIDDEN_IN_ID = ['*', ' ', '.', '/', ';', 'é', '😀', '%', '$', ...CONTROL_PIECES];

/** Ways to break one field of a valid body. */
function breakField(name: string, schema: JsonSchema): fc.Arbitrary<{ value: unknown; mutation: string }> {
  const options: fc.Arbitrary<{ value: unknown; mutation: string }>[] = [
    wrongType(schema).map((value) => ({ value, mutation: `${name}: wrong type` })),
  ];
  if (schema.type === 'string') {
    if (schema.maxLength !== undefined) {
      options.push(
        fc
          .tuple(validValue(schema) as fc.Arbitrary<string>, fc.integer({ min: 1, max: 40 }))
          .map(([v, extra]) => ({ value: toLength(v, schema.maxLength! + extra), mutation: `${name}: too long` })),
      );
    }
    if ((schema.minLength ?? 0) > 0) options.push(fc.constant({ value: '', mutation: `${name}: empty` }));
    if (ID_FIELDS.has(name)) {
      options.push(
        fc.tuple(validValue(schema) as fc.Arbitrary<string>, fc.constantFrom(...FORBIDDEN_IN_ID), fc.nat()).map(([v, bad, at]) => {
          const kept = Array.from(v).slice(0, 60);
          kept.splice(at % (kept.length + 1), 0, bad);
          return { value: kept.join(''), mutation: `${name}: holds ${JSON.stringify(bad)}` };
        }),
      );
    }
  }
  if (schema.type === 'integer') {
    if (schema.minimum !== undefined) options.push(fc.constant({ value: schema.minimum - 1, mutation: `${name}: below minimum` }));
    if (schema.maximum !== undefined) options.push(fc.constant({ value: schema.maximum + 1, mutation: `${name}: above maximum` }));
  }
  if (schema.type === 'array') {
    const items = schema.items ?? {};
    if ((schema.minItems ?? 0) > 0) options.push(fc.constant({ value: [], mutation: `${name}: empty list` }));
    if (schema.maxItems !== undefined) {
      options.push(
        fc
          .array(validValue(items), { minLength: schema.maxItems + 1, maxLength: schema.maxItems + 3 })
          .map((value) => ({ value, mutation: `${name}: too many items` })),
      );
    }
    options.push(
      fc
        .tuple(fc.array(validValue(items), { maxLength: 3 }), breakField(`${name}[]`, items))
        .map(([good, bad]) => ({ value: [...good, bad.value], mutation: bad.mutation })),
    );
    // The list's own separator inside an item (scopes are joined with `;`).
    if (items.type === 'string' && items.pattern?.includes(';')) {
      options.push(fc.constant({ value: ['openid;aliuid'], mutation: `${name}: item holds ";"` }));
    }
  }
  return fc.oneof(...options);
}

/** Bodies the operation must refuse: a field broken, an unknown field, a required one missing, not an object, too large. */
export function invalidBody(op: Operation): fc.Arbitrary<Mutated> {
  const schema = requestSchema(op);
  const known = new Set(Object.keys(schema.properties));
  const valid = validBody(op);
  const stringFields = Object.entries(schema.properties).flatMap(([name, field]) => (field.type === 'string' ? [name] : []));
  const options: fc.Arbitrary<Mutated>[] = [
    fc
      .tuple(
        valid,
        fc.oneof(
          fc.constantFrom('surprise', '__proto__', 'constructor', ...[...known].map((k) => k.toUpperCase())),
          fc.string({ minLength: 1 }),
        ),
        fc.jsonValue({ maxDepth: 1 }),
      )
      .filter(([, key]) => !known.has(key))
      .map(([body, key, value]) => {
        const copy = { ...body };
        Object.defineProperty(copy, key, { value: value ?? null, enumerable: true, writable: true, configurable: true });
        return { body: copy, mutation: `unknown field ${JSON.stringify(key)}` };
      }),
    fc.constantFrom<unknown>([], [{}], 'text', 1, true, null).map((body) => ({ body, mutation: 'not an object' })),
    fc.tuple(valid, fc.constantFrom('padding', ...stringFields), fc.integer({ min: 1, max: 200 })).map(([body, field, extra]) => ({
      body: { ...body, [field]: 'x'.repeat(MAX_BODY_BYTES + extra) },
      mutation: `over 16 KiB in ${field}`,
    })),
  ];
  const fields = Object.entries(schema.properties);
  if (fields.length > 0) {
    options.push(
      fc
        .tuple(valid, fc.constantFrom(...fields))
        .chain(([body, [name, field]]) =>
          breakField(name, field).map(({ value, mutation }) => ({ body: { ...body, [name]: value }, mutation })),
        ),
    );
  }
  for (const name of schema.required) {
    options.push(
      valid.map((body) => {
        const { [name]: _dropped, ...rest } = body;
        return { body: rest, mutation: `${name}: missing` };
      }),
    );
  }
  return fc.oneof(...options);
}

/**
 * The vendor parameters a valid body names (docs/contracts.md, "Routes"): each field with its
 * first letter upper-cased, lists joined with `;`, numbers as decimals; UCloud's ProjectId
 * defaults to the key parameter's projectId. An operation that assumes a role adds `role`.
 */
export function vendorParams(
  op: Operation,
  body: Record<string, unknown>,
  defaultProjectId: string,
  role?: { roleArn: string; sessionName: string; policy: string; durationSeconds: number },
): Record<string, string> {
  const params: Record<string, string> = {};
  // An STS operation also sends the role it assumes, who for, its rule's session policy, and the
  // lifetime it chose (at least what the body asked: the test checks that apart).
  const assumes = op.assumesRole !== undefined && role !== undefined;
  if (assumes) {
    Object.assign(params, {
      RoleArn: role.roleArn,
      RoleSessionName: role.sessionName,
      Policy: role.policy,
      DurationSeconds: String(role.durationSeconds),
    });
    // Who asked, for the vendor's audit (docs/contracts.md, "Accounts"): Alibaba Cloud's
    // SourceIdentity; Tencent Cloud's session Tags (as JSON: the simulator records JSON values so).
    if (op.vendor === 'aliyun') params.SourceIdentity = role.sessionName;
    if (op.vendor === 'tencent') {
      params.Tags = JSON.stringify([
        { Key: 'broker-account', Value: 'default' },
        { Key: 'broker-caller', Value: role.sessionName },
      ]);
    }
  }
  for (const [field, value] of Object.entries(body)) {
    if (value === undefined || (assumes && field === 'durationSeconds')) continue;
    params[field[0]!.toUpperCase() + field.slice(1)] = Array.isArray(value) ? value.join(';') : String(value);
  }
  if (op.vendor === 'ucloud' && params.ProjectId === undefined) params.ProjectId = defaultProjectId;
  return params;
}
