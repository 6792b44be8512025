/**
 * Properties of the caller policy (lib/access/policy.ts), checked against the reference reading in
 * test/support/policy-oracle.ts. Short by default; `npm run test:properties` runs them longer.
 */
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { Caller } from '../../../lib/access/caller.js';
import { compilePolicy, decide, MAX_PATTERN_PATHS, type Policy, PolicyMalformed, policySchema } from '../../../lib/access/policy.js';

import {
  backtrackingPaths,
  type CharClass,
  charsOf,
  claimRefusedInSessionPolicy,
  claimsOf,
  globMatches,
  hasNestedQuantifier,
  type Json,
  type JsonObject,
  type OracleConstraint,
  type OracleDecision,
  type OracleMatcher,
  type OracleRule,
  oracleDecide,
  oracleDecision,
  oracleMalformed,
  parseTemplate,
  patternMatches,
  type Re,
  render,
  renderSessionPolicy,
  SESSION_POLICY_MAX_BYTES,
  sessionPolicyClaims,
  sessionPolicyMalformed,
  stringValues,
  substitute,
} from '../../support/policy-oracle.js';
import { PROPERTY_TIMEOUT_MS, propertyRuns } from '../../support/property-runs.js';

// ---------------------------------------------------------------------------
// Vocabulary: what a matcher can get wrong (empty, wildcards, reference syntax, regex
// metacharacters, unicode), small enough that generated values often coincide.
// ---------------------------------------------------------------------------

/** Claim names: ordinary ones, a list claim, and names every object inherits. */
const CLAIM_NAMES = ['tenant', 'team', 'scope', 'sub', 'constructor', 'toString'] as const;
const REFERENCE_NAMES = [...CLAIM_NAMES, 'principal'] as const;
const FIELDS = ['custSpaceId', 'appId', 'scopes', 'tokenName', 'constructor'] as const;
const OPERATIONS = [
  'cams:GetChatappUploadAuthorization',
  'ims:ProvisionExternalApplication',
  'bpstudio:GetToken',
  'ufile:DescribeUFileToken',
];
/** Operations that assume a role: decided with `{ assumesRole: true }`. */
const STS_OPERATIONS = ['aliyun-sts:AssumeRole', 'tencent-sts:AssumeRole'];
const traitsOf = (operation: string) => ({ assumesRole: STS_OPERATIONS.includes(operation) });

const WORDS = ['', 'a', 'ab', 'b', 'a-1', '*', '.*', 'a*', '${', '${tenant}', '$', '}', 'a.b', 'aXb', '^', '(a)', '[a]', 'a|b', 'a+'];
const MORE_WORDS = ['?', '\\', '{1,2}', 'é', '中', '😀', ' ', 'a b', '\n', '%2A', 'arn:aws:iam::1:role/x'];
const word = fc.constantFrom(...WORDS, ...MORE_WORDS);
/** Any short text: claim values, body values, principals. */
const text = fc.array(word, { maxLength: 3 }).map((words) => words.join(''));
/** Literal template text: never `${` by itself (a malformed template is generated on purpose, below). */
const literal = word.filter((w) => w !== '' && !w.includes('${'));

const claimName = fc.constantFrom(...CLAIM_NAMES);
const reference = fc.constantFrom(...REFERENCE_NAMES).map((name) => `\${${name}}`);

/** A template for equals/prefix/oneOf: literals and references, now and then a stray `${`. */
const template = fc
  .array(fc.oneof({ arbitrary: literal, weight: 4 }, { arbitrary: reference, weight: 3 }, { arbitrary: fc.constant('${'), weight: 1 }), {
    minLength: 1,
    maxLength: 3,
  })
  .map((parts) => parts.join(''))
  .filter((t) => t.length > 0);

/** A glob: literals and `*`. */
const glob = fc
  .array(fc.oneof(fc.constant('*'), literal), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join(''))
  .filter((g) => g.length > 0);

// ---------------------------------------------------------------------------
// Patterns: a small regex grammar (literals, classes, groups, `|`, `*`, `+`, `?`, `{m,n}`,
// claim references), rendered to policy text; the oracle matches the AST itself.
// ---------------------------------------------------------------------------

const single = (c: string) => Array.from(c).length === 1;
const CLASSES: CharClass[] = [
  { source: '[a-z]', admits: (c) => single(c) && c >= 'a' && c <= 'z' },
  { source: '[0-9]', admits: (c) => single(c) && c >= '0' && c <= '9' },
  { source: '[a-z0-9_-]', admits: (c) => single(c) && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c === '_' || c === '-') },
  { source: '[^a]', admits: (c) => c !== 'a' },
  { source: '[.*+?|(){}]', admits: (c) => c.length === 1 && '.*+?|(){}'.includes(c) },
  { source: '[\\]]', admits: (c) => c === ']' },
  { source: '\\d', admits: (c) => single(c) && c >= '0' && c <= '9' },
  { source: '\\w', admits: (c) => c.length === 1 && /[A-Za-z0-9_]/.test(c) },
];
/** Pattern literals: syntax characters (escaped when rendered) as often as plain ones. */
const PLAIN_CHARS = ['a', 'b', 'x', '1', '-', '_', ' ', 'é', '😀'];
const SYNTAX_CHARS = ['.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '^', '$', '\\', '/'];

const charNode = fc.oneof(fc.constantFrom(...PLAIN_CHARS), fc.constantFrom(...SYNTAX_CHARS)).map((c): Re => ({ k: 'char', c }));
const claimNode = fc.constantFrom('tenant', 'team', 'principal').map((name): Re => ({ k: 'claim', name }));
const classNode = fc.constantFrom(...CLASSES).map((cls): Re => ({ k: 'class', cls }));
const anyNode = fc.constant<Re>({ k: 'any' });

type Quantifier = { min: number; max: number; source: string };
const quantifier: fc.Arbitrary<Quantifier> = fc.oneof(
  fc.constant({ min: 0, max: Number.POSITIVE_INFINITY, source: '*' }),
  fc.constant({ min: 1, max: Number.POSITIVE_INFINITY, source: '+' }),
  fc.constant({ min: 0, max: 1, source: '?' }),
  fc.nat(3).map((m) => ({ min: m, max: m, source: `{${m}}` })),
  fc.nat(3).map((m) => ({ min: m, max: Number.POSITIVE_INFINITY, source: `{${m},}` })),
  fc.tuple(fc.nat(3), fc.nat(64)).map(([m, extra]) => ({ min: m, max: m + extra, source: `{${m},${m + extra}}` })),
);
const quantified = (atom: fc.Arbitrary<Re>) => fc.tuple(atom, quantifier).map(([a, q]): Re => ({ k: 'quant', atom: a, ...q }));

const { pattern: patternAst } = fc.letrec<{ pattern: Re; seq: Re; item: Re; atom: Re; group: Re }>((tie) => ({
  pattern: fc
    .array(tie('seq'), { minLength: 1, maxLength: 3 })
    .map((options): Re => (options.length === 1 ? options[0]! : { k: 'alt', options })),
  seq: fc.array(tie('item'), { minLength: 1, maxLength: 5 }).map((items): Re => ({ k: 'seq', items })),
  item: fc.oneof(
    { arbitrary: tie('atom'), weight: 3 },
    { arbitrary: quantified(tie('atom')), weight: 3 },
    { arbitrary: fc.constantFrom<Re>({ k: 'start' }, { k: 'end' }), weight: 1 },
  ),
  atom: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'pattern' },
    { arbitrary: charNode, weight: 4 },
    { arbitrary: claimNode, weight: 1 },
    { arbitrary: classNode, weight: 2 },
    { arbitrary: anyNode, weight: 1 },
    { arbitrary: tie('group'), weight: 2 },
  ),
  group: fc.record({ capture: fc.boolean(), body: tie('pattern') }).map(({ capture, body }): Re => ({ k: 'group', capture, body })),
}));
const renderable = (ast: Re) => {
  const source = render(ast);
  return source.length > 0 && source.length <= 512;
};

/** A pattern every version of the compiler should take: literals, claims, classes and `.`, two quantifiers at most, no groups. */
const simplePatternAst = fc
  .array(
    fc.oneof(
      { arbitrary: fc.oneof(charNode, claimNode, classNode, anyNode), weight: 3 },
      quantified(fc.oneof(charNode, classNode, anyNode)),
    ),
    {
      minLength: 1,
      maxLength: 5,
    },
  )
  .filter((items) => items.filter((i) => i.k === 'quant').length <= 2)
  .map((items): Re => ({ k: 'seq', items }));

// ---------------------------------------------------------------------------
// Policies, callers, bodies
// ---------------------------------------------------------------------------

const constraint: fc.Arbitrary<OracleConstraint> = fc.oneof(
  template.map((equals) => ({ equals })),
  template.map((prefix) => ({ prefix })),
  fc.array(template, { minLength: 1, maxLength: 3 }).map((oneOf) => ({ oneOf })),
  simplePatternAst.filter(renderable).map((ast) => ({ pattern: render(ast), ast })),
);

const matcher: fc.Arbitrary<OracleMatcher> = fc.oneof(
  glob.map((principal) => ({ principal })),
  fc
    .dictionary(claimName, fc.oneof({ arbitrary: fc.constant('*'), weight: 2 }, { arbitrary: glob, weight: 3 }), { maxKeys: 2 })
    .map((claims) => ({ claims })),
);

const operationGlob = fc.oneof(
  fc.constantFrom('*', 'cams:*', '*:GetToken', 'ufile:*', '*Token', 'ims:ProvisionExternalApplication', 'aliyun-sts:*', '*:AssumeRole'),
  fc.constantFrom(...OPERATIONS, ...STS_OPERATIONS),
);

// ---------------------------------------------------------------------------
// Session policies: vendor documents whose string values name claims.
// ---------------------------------------------------------------------------

/** Literal text of a session policy: the wildcards, paths and quotes a claim must never add. */
const POLICY_LITERALS = [
  'acs:oss:*:*:bucket/',
  '/*',
  '*',
  '?',
  'qcs::cos:uid/1:b-1/',
  'oss:PutObject',
  'a',
  '"',
  '\\',
  'é',
  '$',
  '}',
  '..',
];
const POLICY_KEYS = ['Version', 'Statement', 'Effect', 'Action', 'Resource', 'Condition', 'version', 'constructor', 'toString'];
/** Claims a session policy names: the usual ones, a list claim, an inherited name, and `principal` (refused when the policy loads). */
const SESSION_REFERENCES = ['tenant', 'team', 'scope', 'sub', 'constructor', 'principal'];

/** A string value: literals and references, now and then a stray `${`. */
const policyString = fc
  .array(
    fc.oneof(
      { arbitrary: fc.constantFrom(...POLICY_LITERALS), weight: 6 },
      { arbitrary: fc.constantFrom(...SESSION_REFERENCES).map((name) => `\${${name}}`), weight: 5 },
      { arbitrary: fc.constant('${'), weight: 1 },
    ),
    { maxLength: 4 },
  )
  .map((parts) => parts.join(''));
const policyKey = fc.oneof({ arbitrary: fc.constantFrom(...POLICY_KEYS), weight: 20 }, { arbitrary: fc.constant('${tenant}'), weight: 1 });

const { document: sessionTemplate } = fc.letrec<{ value: Json; document: JsonObject }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'session' },
    { arbitrary: policyString, weight: 6 },
    { arbitrary: fc.constantFrom<Json>(1, 0, true, false, null), weight: 1 },
    { arbitrary: fc.array(tie('value'), { maxLength: 3, depthIdentifier: 'session' }), weight: 2 },
    { arbitrary: tie('document'), weight: 2 },
  ),
  document: fc.dictionary(policyKey, tie('value'), { minKeys: 1, maxKeys: 3, depthIdentifier: 'session', noNullPrototype: true }),
}));

/** A template that loads: most rules that have one should get as far as rendering it. */
const usableTemplate = sessionTemplate.filter((template) => !sessionPolicyMalformed(template));

const rule: fc.Arbitrary<OracleRule> = fc
  .record(
    {
      id: fc.constantFrom('r1', 'r2', 'r3'),
      callers: fc.array(matcher, { minLength: 1, maxLength: 2 }),
      operations: fc.array(operationGlob, { minLength: 1, maxLength: 2 }),
      constraints: fc.dictionary(fc.constantFrom(...FIELDS), constraint, { maxKeys: 2 }),
    },
    { requiredKeys: ['id', 'callers', 'operations'] },
  )
  .chain((r) =>
    // One rule in three has a session policy (or opts out), most of them one that loads: more would make allowing rare.
    fc
      .oneof(
        { arbitrary: fc.constant(undefined), weight: 6 },
        { arbitrary: sessionTemplate, weight: 1 },
        { arbitrary: usableTemplate, weight: 2 },
        { arbitrary: fc.constant('none' as const), weight: 1 },
      )
      .map((sessionPolicy): OracleRule => (sessionPolicy === undefined ? r : { ...r, sessionPolicy })),
  );

const claimValue = fc.oneof({ arbitrary: text, weight: 4 }, { arbitrary: fc.array(text, { maxLength: 3 }), weight: 1 });
const caller: fc.Arbitrary<Caller> = fc.oneof(
  fc.constant<Caller>({ kind: 'anonymous' }),
  fc
    .oneof(text, fc.constantFrom('arn:aws:iam::1:role/x', 'arn:aws:sts::1:assumed-role/a/b'))
    .map((principal): Caller => ({ kind: 'iam', principal })),
  fc.dictionary(claimName, claimValue, { maxKeys: 4 }).map((claims): Caller => ({ kind: 'jwt', claims })),
);

const bodyValue = fc.oneof(
  { arbitrary: text, weight: 4 },
  { arbitrary: fc.integer({ min: -1, max: 12 }), weight: 1 },
  { arbitrary: fc.array(text, { maxLength: 3 }), weight: 1 },
  { arbitrary: fc.constantFrom<unknown>(null, true, {}, undefined), weight: 1 },
);

/** A value the rule's constraint would take for this caller (so allowed requests are common), or any value. */
function likelyValue(c: OracleConstraint, who: Caller): fc.Arbitrary<unknown> {
  const hits: string[] = [];
  if ('equals' in c) hits.push(substitute(c.equals, who) ?? '');
  if ('prefix' in c) hits.push(`${substitute(c.prefix, who) ?? ''}b`);
  if ('oneOf' in c) hits.push(...c.oneOf.map((o) => substitute(o, who) ?? ''));
  const pool = fc.constantFrom(...hits, 'a');
  return fc.oneof(
    pool,
    bodyValue,
    pool.map((hit) => [hit]),
  );
}

/**
 * A caller the matcher takes (its wildcards filled in), alongside other random claims, and
 * the claims the rule's session policy names: harmless ones it renders, or ones it refuses.
 */
function callerFor(m: OracleMatcher, sessionPolicy?: JsonObject | 'none'): fc.Arbitrary<Caller> {
  const fill = (g: string) => fc.constantFrom('', 'a', 'é*').map((f) => g.replaceAll('*', f));
  if ('anonymous' in m) return fc.constant<Caller>({ kind: 'anonymous' });
  if ('principal' in m) return fill(m.principal).map((principal): Caller => ({ kind: 'iam', principal }));
  const required = fc.record(Object.fromEntries(Object.entries(m.claims).map(([name, g]) => [name, fill(g)])));
  const named = sessionPolicy && sessionPolicy !== 'none' ? sessionPolicyClaims(sessionPolicy) : [];
  // Mostly claims the template renders, now and then one it refuses.
  const templateClaim = fc.oneof(
    { arbitrary: fc.constantFrom('tenant-a', 'user@example.com'), weight: 6 },
    { arbitrary: fc.constantFrom('é', 'a/b', 'a*', '.', 'a\uff0fb'), weight: 1 },
  );
  const forTemplate = fc.record(Object.fromEntries(named.map((name) => [name, templateClaim])));
  return fc
    .tuple(fc.dictionary(claimName, claimValue, { maxKeys: 3 }), forTemplate, required)
    .map(([extra, rendered, claims]): Caller => ({ kind: 'jwt', claims: { ...extra, ...claims, ...rendered } }));
}

/** Rules, a caller, an operation and a body; about half the time built to get past the first rule. */
const request = fc.array(rule, { minLength: 1, maxLength: 3 }).chain((rules) => {
  const target = rules[0]!;
  const operations = [...OPERATIONS, ...STS_OPERATIONS].filter((op) => target.operations.some((g) => globMatches(g, op)));
  return fc
    .record({
      rules: fc.constant(rules),
      caller: fc.oneof(caller, callerFor(target.callers[0]!, target.sessionPolicy)),
      // Half the time one the first rule names, if it names any.
      operation: fc.oneof(
        { arbitrary: fc.constantFrom(...OPERATIONS, ...STS_OPERATIONS, 'x:Y'), weight: 1 },
        { arbitrary: fc.constantFrom('x:Y', ...operations), weight: 2 },
      ),
    })
    .chain((r) => {
      const likely = Object.fromEntries(Object.entries(target.constraints ?? {}).map(([field, c]) => [field, likelyValue(c, r.caller)]));
      const body = fc.oneof(fc.dictionary(fc.constantFrom(...FIELDS), bodyValue, { maxKeys: 3 }), fc.record(likely, { requiredKeys: [] }));
      return body.map((b) => ({ ...r, body: b as Record<string, unknown> }));
    });
});

/** The policy document of generated rules (pattern ASTs dropped). */
function documentOf(rules: OracleRule[]): Policy {
  return {
    version: 1,
    rules: rules.map((r) => ({
      id: r.id,
      callers: r.callers,
      operations: r.operations,
      ...(r.constraints && {
        constraints: Object.fromEntries(
          Object.entries(r.constraints).map(([field, c]) => [field, 'pattern' in c ? { pattern: c.pattern } : c]),
        ),
      }),
      ...(r.sessionPolicy && { sessionPolicy: r.sessionPolicy }),
    })),
  } as Policy;
}

function compiles(document: Policy): boolean {
  try {
    compilePolicy(document);
    return true;
  } catch (error) {
    if (!(error instanceof PolicyMalformed)) throw error;
    return false;
  }
}

/** The reference reading's decision as lib/access/policy.ts words it: a rendered document as compact JSON, a refusal with any reason. */
function asDecision(expected: OracleDecision): unknown {
  if (expected.allowed) {
    return {
      allowed: true,
      rule: expected.rule,
      ...(expected.document !== undefined && { sessionPolicy: JSON.stringify(expected.document) }),
      ...(expected.unscoped && { unscoped: true }),
    };
  }
  return {
    allowed: false,
    ...(expected.refusedClaim !== undefined && { refusedClaim: { claim: expected.refusedClaim, reason: expect.any(String) } }),
    ...(expected.unscopedSkipped !== undefined && { unscopedSkipped: expected.unscopedSkipped }),
  };
}

const singleRule = (constraints: Record<string, OracleConstraint>, callers: OracleMatcher[] = [{ claims: {} }]): OracleRule[] => [
  { id: 'only', callers, operations: ['*'], constraints },
];
const jwt = (claims: Record<string, string | string[]>): Caller => ({ kind: 'jwt', claims });

// ---------------------------------------------------------------------------
// (a) decisions
// ---------------------------------------------------------------------------

describe('decide', () => {
  it(
    'allows a request exactly when the reference reading finds a rule that allows it, and names that rule and its rendered session policy, or the claim it refused',
    () => {
      const params = propertyRuns(300);
      let allowed = 0;
      let scoped = 0;
      let refused = 0;
      let sts = 0;
      fc.assert(
        fc.property(request, ({ rules, caller: who, operation, body }) => {
          const document = documentOf(rules);
          expect(z.safeParse(policySchema, document).success).toBe(true);
          if (oracleMalformed(rules)) {
            expect(() => compilePolicy(document)).toThrow(PolicyMalformed);
            return;
          }
          const traits = traitsOf(operation);
          const expected = oracleDecision(rules, who, operation, body, traits.assumesRole);
          if (expected.allowed) allowed++;
          if (expected.allowed && expected.document !== undefined) scoped++;
          if (!expected.allowed && expected.refusedClaim !== undefined) refused++;
          if (expected.allowed && traits.assumesRole) sts++;
          const actual = decide(compilePolicy(document), who, operation, body, traits);
          expect(actual).toEqual(asDecision(expected));
          // An operation that assumes a role is never allowed without a session policy or the explicit opt-out.
          if (traits.assumesRole && actual.allowed) expect(actual.sessionPolicy !== undefined || actual.unscoped === true).toBe(true);
        }),
        params,
      );
      // The generator reaches both answers.
      expect(allowed).toBeGreaterThan(params.numRuns! * 0.05);
      expect(allowed).toBeLessThan(params.numRuns! * 0.95);
      expect(scoped).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
      expect(sts).toBeGreaterThan(0);
    },
    PROPERTY_TIMEOUT_MS,
  );
});

// ---------------------------------------------------------------------------
// (b) empty claims
// ---------------------------------------------------------------------------

describe('an empty claim', () => {
  /** Claim values that carry nothing: empty, a list of empties, an empty list; for `scope`, blanks. */
  const emptyClaim = (name: string) =>
    fc.constantFrom<string | string[]>('', [''], [], ['', ''], ...(name === 'scope' ? [' ', ' \t '] : []));
  const nonEmpty = literal.filter((w) => w.trim() !== '' && !/\s/.test(w));

  it(
    'never satisfies a claims matcher, even one made only of wildcards',
    () => {
      fc.assert(
        fc.property(
          claimName.chain((name) => fc.tuple(fc.constant(name), emptyClaim(name))),
          fc.integer({ min: 1, max: 3 }),
          nonEmpty,
          ([name, empty], stars, value) => {
            const rules = singleRule({}, [{ claims: { [name]: '*'.repeat(stars) } }]);
            const policy = compilePolicy(documentOf(rules));
            expect(decide(policy, jwt({ [name]: empty }), OPERATIONS[0]!, {})).toEqual({ allowed: false });
            // The same rule takes the claim once it holds something.
            expect(decide(policy, jwt({ [name]: value }), OPERATIONS[0]!, {})).toEqual({ allowed: true, rule: 'only' });
          },
        ),
        propertyRuns(200),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'never satisfies a constraint that references it, whatever the body holds',
    () => {
      const around = fc
        .array(
          literal.filter((w) => !w.includes('\n')),
          { maxLength: 2 },
        )
        .map((w) => w.join(''));
      fc.assert(
        fc.property(
          fc.constantFrom(...REFERENCE_NAMES.filter((n) => n !== 'principal')),
          fc.constantFrom<string | string[]>('', [], ['x']),
          fc.constantFrom('equals', 'prefix', 'oneOf', 'pattern'),
          around,
          around,
          nonEmpty,
          (name, empty, kind, before, after, value) => {
            const templateText = `${before}\${${name}}${after}`;
            const ast: Re = {
              k: 'seq',
              items: [
                ...Array.from(before).map((c): Re => ({ k: 'char', c })),
                { k: 'claim', name },
                { k: 'quant', atom: { k: 'any' }, min: 0, max: Infinity, source: '*' },
              ],
            };
            const c: OracleConstraint =
              kind === 'equals'
                ? { equals: templateText }
                : kind === 'prefix'
                  ? { prefix: templateText }
                  : kind === 'oneOf'
                    ? { oneOf: [templateText] }
                    : { pattern: render(ast), ast };
            const rules = singleRule({ custSpaceId: c });
            fc.pre(!oracleMalformed(rules));
            const policy = compilePolicy(documentOf(rules));
            // The body an empty claim would allow if it were read as '', and the one the real value allows.
            const asIfEmpty = `${before}${after}`;
            const withValue = `${before}${value}${after}`;
            expect(decide(policy, jwt({ [name]: empty }), OPERATIONS[0]!, { custSpaceId: asIfEmpty })).toEqual({ allowed: false });
            expect(decide(policy, jwt({ [name]: empty }), OPERATIONS[0]!, { custSpaceId: withValue })).toEqual({ allowed: false });
            expect(decide(policy, jwt({ [name]: value }), OPERATIONS[0]!, { custSpaceId: withValue })).toEqual({
              allowed: true,
              rule: 'only',
            });
          },
        ),
        propertyRuns(200),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

// ---------------------------------------------------------------------------
// (c) claims are literal
// ---------------------------------------------------------------------------

describe('a claim holding wildcards or regex metacharacters', () => {
  const META = ['*', '.*', '.', '+', '?', '(', ')', '[', ']', '{', '}', '{2}', '|', '^', '$', '\\', '${', '%', 'a', 'b', 'é', '😀'];
  const metaClaim = fc
    .array(fc.constantFrom(...META), { minLength: 1, maxLength: 4 })
    .map((parts) => parts.join(''))
    .filter((v) => /[^ab]/.test(v));

  /** Values a regex or glob reading of the claim would allow: metacharacters taken as operators. */
  function widened(claim: string): string[] {
    const chars = Array.from(claim);
    return [
      claim.replaceAll('.*', 'anything'),
      claim.replaceAll('*', ''),
      claim.replaceAll('*', 'zzz'),
      claim.replaceAll('.', 'X'),
      claim.replace(/[?+{}[\]()|^$\\]/g, ''),
      chars.slice(0, -1).join(''),
      `${claim}${chars[chars.length - 1]}`,
      claim + claim,
      '',
      'a',
      'b',
    ];
  }

  it(
    "never widens an equals, prefix or pattern constraint beyond the claim's literal text",
    () => {
      let literalChecks = 0;
      fc.assert(
        fc.property(
          metaClaim,
          fc.constantFrom('equals', 'prefix', 'pattern'),
          fc.constantFrom('', 'a-', '.'),
          fc.constantFrom('', '-b', '*'),
          fc.option(quantifier, { nil: undefined }),
          (claim, kind, before, after, q) => {
            const name = 'tenant';
            const claimItem: Re = { k: 'claim', name };
            const ast: Re = {
              k: 'seq',
              items: [
                ...Array.from(before).map((c): Re => ({ k: 'char', c })),
                q ? { k: 'quant', atom: claimItem, ...q } : claimItem,
                ...Array.from(after).map((c): Re => ({ k: 'char', c })),
              ],
            };
            const templateText = `${before}\${${name}}${after}`;
            const c: OracleConstraint =
              kind === 'equals' ? { equals: templateText } : kind === 'prefix' ? { prefix: templateText } : { pattern: render(ast), ast };
            const rules = singleRule({ custSpaceId: c });
            fc.pre(!oracleMalformed(rules));
            const policy = compilePolicy(documentOf(rules));
            const who = jwt({ [name]: claim });
            const literalValue = `${before}${claim}${after}`;
            for (const candidate of [literalValue, ...widened(claim).map((w) => `${before}${w}${after}`), ...widened(claim)]) {
              const expected = oracleDecide(rules, who, OPERATIONS[0]!, { custSpaceId: candidate });
              expect(decide(policy, who, OPERATIONS[0]!, { custSpaceId: candidate }), JSON.stringify({ candidate })).toEqual(
                expected === undefined ? { allowed: false } : { allowed: true, rule: expected },
              );
            }
            // The literal value itself is allowed where the constraint is a plain equals or prefix.
            if (kind !== 'pattern') {
              literalChecks++;
              expect(decide(policy, who, OPERATIONS[0]!, { custSpaceId: literalValue }).allowed).toBe(true);
            }
          },
        ),
        propertyRuns(200),
      );
      expect(literalChecks).toBeGreaterThan(0);
    },
    PROPERTY_TIMEOUT_MS,
  );
});

// ---------------------------------------------------------------------------
// (d) compilePolicy: PolicyMalformed or whole-value patterns
// ---------------------------------------------------------------------------

describe('compilePolicy', () => {
  const PIECES = [
    'a',
    'b',
    '.',
    '*',
    '+',
    '?',
    '|',
    '(',
    ')',
    '(?:',
    '[a-z]',
    '[',
    ']',
    '{1,2}',
    '{',
    '}',
    '^',
    '$',
    '\\',
    '\\d',
    '\\1',
    '(?=a)',
    '${tenant}',
    '${',
    '${bad name}',
    'é',
    '😀',
    ' ',
  ];
  const patternText = fc
    .array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 8 })
    .map((p) => p.join(''))
    .filter((p) => p.length <= 512);
  const shortValue = fc
    .array(fc.constantFrom('a', 'b', 'ab', '.', '*', '(', ')', '|', '1', 'é', '😀', ' ', '\n'), { maxLength: 6 })
    .map((p) => p.join(''));
  const tenantClaim = fc.constantFrom('a', 'ab', 'a|b', '.*', '(', '1', '😀');

  /** The claim as literal pattern text: every syntax character escaped, the whole kept one atom. */
  const asLiteral = (value: string) => `(?:${value.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')})`;

  it(
    'either throws PolicyMalformed or yields patterns that match whole values only',
    () => {
      let accepted = 0;
      fc.assert(
        fc.property(patternText, tenantClaim, fc.array(shortValue, { minLength: 1, maxLength: 4 }), (pattern, tenant, values) => {
          const document = documentOf(singleRule({ custSpaceId: { pattern, ast: { k: 'seq', items: [] } } }));
          let policy: ReturnType<typeof compilePolicy>;
          try {
            policy = compilePolicy(document);
          } catch (error) {
            expect(error).toBeInstanceOf(PolicyMalformed);
            return;
          }
          accepted++;
          // A pattern accepted is well formed, its references expressible.
          const parsed = parseTemplate(pattern);
          expect(parsed.malformed).toBe(false);
          const source = parsed.pieces.map((p) => ('literal' in p ? p.literal : asLiteral(tenant))).join('');
          // Sticky from index 0 and `$` at the end: a match of the whole value, however the pattern alternates.
          const whole = new RegExp(`(?:${source})$`, 'uy');
          const who = jwt({ tenant });
          for (const value of values) {
            whole.lastIndex = 0;
            const matchesWhole = parsed.pieces.every((p) => 'literal' in p || p.claim === 'tenant') && whole.test(value);
            expect(decide(policy, who, OPERATIONS[0]!, { custSpaceId: value }).allowed, JSON.stringify({ pattern, tenant, value })).toBe(
              matchesWhole,
            );
          }
        }),
        propertyRuns(500),
      );
      expect(accepted).toBeGreaterThan(0);
    },
    PROPERTY_TIMEOUT_MS,
  );

  // -------------------------------------------------------------------------
  // (e) patterns from the grammar: what is refused, and hostile values decided
  // -------------------------------------------------------------------------

  it(
    'refuses quantified groups holding a quantifier or an alternation, and patterns that may backtrack without bound; decides 128-character hostile values with the rest',
    () => {
      const params = propertyRuns(300);
      let accepted = 0;
      let nested = 0;
      fc.assert(
        fc.property(patternAst.filter(renderable), fc.constantFrom('a', 'ab', '1', '(', '.'), (ast, tenant) => {
          const pattern = render(ast);
          const rules = singleRule({ custSpaceId: { pattern, ast } });
          const ok = compiles(documentOf(rules));
          // What must be refused, decided on the AST before anything is matched.
          if (hasNestedQuantifier(ast)) {
            nested++;
            expect(ok, `nested quantifier accepted: ${pattern}`).toBe(false);
          }
          if (backtrackingPaths(ast) > MAX_PATTERN_PATHS) expect(ok, `unbounded backtracking accepted: ${pattern}`).toBe(false);
          if (!ok) return;
          accepted++;
          const policy = compilePolicy(documentOf(rules));
          const who = jwt({ tenant, team: tenant, principal: tenant });
          const repeated = [...new Set(['a', ...charsOf(ast), tenant])].slice(0, 5);
          const hostile = repeated.flatMap((c) => {
            const unit = Array.from(c)[0]!;
            const times = unit.length === 1 ? 127 : 63;
            return [`${unit.repeat(times)}!`, unit.repeat(times + 1)];
          });
          for (const value of hostile) {
            const expected = patternMatches(ast, who, value) === true;
            expect(decide(policy, who, OPERATIONS[0]!, { custSpaceId: value }).allowed, JSON.stringify({ pattern, value })).toBe(expected);
          }
          expect(claimsOf(ast).every((name) => ['tenant', 'team', 'principal'].includes(name))).toBe(true);
        }),
        params,
      );
      // The grammar reaches both sides of the line.
      expect(accepted).toBeGreaterThan(params.numRuns! * 0.2);
      expect(nested).toBeGreaterThan(params.numRuns! * 0.05);
    },
    PROPERTY_TIMEOUT_MS,
  );
});

// ---------------------------------------------------------------------------
// (f) session policies: a claim can narrow the document, never widen it
// ---------------------------------------------------------------------------

describe('a session policy', () => {
  /** Claim values a template must survive: wildcards, references, paths, quotes, JSON and regex syntax, controls, unicode, long. */
  const HOSTILE = [
    ...WORDS,
    ...MORE_WORDS,
    '..',
    '/',
    '"',
    'a","Effect":"Allow',
    '"}],"Statement":[{"Effect":"Allow","Action":["*"],"Resource":["*"]}],"x":{"a":"',
    '\u0022',
    '\u2028',
    '\u200b',
    '\u202e',
    '\ufeff',
    '\u0085',
    '\u007f',
    '\ud83d',
    // Look-alikes of a slash, an asterisk, a dot and a space.
    '\uff0f',
    '\u2215',
    '\u2044',
    '\uff0a',
    '\u2217',
    '\uff0e',
    '\u2024',
    '\u3000',
    '\u00a0',
    'tenant-a',
    'x'.repeat(64),
    'x'.repeat(65),
  ];
  const hostileClaim = fc.oneof(
    { arbitrary: fc.array(fc.constantFrom(...HOSTILE), { minLength: 1, maxLength: 3 }).map((parts) => parts.join('')), weight: 4 },
    { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }), weight: 1 },
    { arbitrary: fc.constantFrom('tenant-a', 'team_1', 'a.b', 'é中😀', 'a@b:c'), weight: 2 },
  );
  const claimsOfCaller = fc.record(
    { tenant: hostileClaim, team: hostileClaim, sub: hostileClaim, scope: hostileClaim },
    { requiredKeys: ['tenant', 'team'] },
  );
  const count = (text: string, ch: string) => text.split(ch).length - 1;
  /** `..` counted where it starts, overlaps included: `...` holds two. */
  const parentPaths = (text: string) => Array.from(text).filter((c, i, all) => c === '.' && all[i + 1] === '.').length;
  /** The template's own text of a string value: its literal pieces, references dropped. */
  const literalText = (text: string) =>
    parseTemplate(text)
      .pieces.map((p) => ('literal' in p ? p.literal : ''))
      .join('');

  it(
    'either refuses the request, naming a claim that could widen it, or is the template with each claim in it literally, adding no wildcard, path or quote',
    () => {
      const params = propertyRuns(400);
      let rendered = 0;
      let refused = 0;
      fc.assert(
        fc.property(sessionTemplate, claimsOfCaller, (template, claims) => {
          const rules: OracleRule[] = [{ id: 'scoped', callers: [{ claims: {} }], operations: ['*'], sessionPolicy: template }];
          const document = documentOf(rules);
          expect(z.safeParse(policySchema, document).success).toBe(true);
          if (oracleMalformed(rules)) {
            expect(() => compilePolicy(document)).toThrow(PolicyMalformed);
            return;
          }
          const who = jwt(claims);
          const decision = decide(compilePolicy(document), who, OPERATIONS[0]!, {});
          const expected = renderSessionPolicy(template, who);
          if ('refused' in expected) {
            refused++;
            expect(decision).toEqual({ allowed: false, refusedClaim: { claim: expected.refused, reason: expect.any(String) } });
            expect(claimRefusedInSessionPolicy(claims[expected.refused as keyof typeof claims]!)).toBe(true);
            return;
          }
          if ('missing' in expected) {
            // A claim the template needs and the caller lacks: refused outright too.
            refused++;
            expect(decision).toEqual({ allowed: false, refusedClaim: { claim: expected.missing, reason: 'is missing, empty or a list' } });
            return;
          }
          rendered++;
          expect(decision.allowed).toBe(true);
          const text = (decision as { sessionPolicy: string }).sessionPolicy;
          expect(Buffer.byteLength(text)).toBeLessThanOrEqual(SESSION_POLICY_MAX_BYTES);
          // Parsed back: the template, each reference replaced by the literal claim; no member, item or key added or lost.
          expect(JSON.parse(text)).toEqual(expected.document);
          const before = stringValues(template);
          const after = stringValues(JSON.parse(text) as Json);
          expect(after).toHaveLength(before.length);
          for (const [i, value] of after.entries()) {
            for (const ch of ['*', '?', '/', '"', '\\', '%'])
              expect(count(value, ch), `${ch} in ${value}`).toBe(count(literalText(before[i]!), ch));
            // A `..` lies inside one literal piece: none spans a claim and the text around it.
            const pieces = parseTemplate(before[i]!).pieces.flatMap((p) => ('literal' in p ? [p.literal] : []));
            expect(parentPaths(value), value).toBe(pieces.reduce((sum, piece) => sum + parentPaths(piece), 0));
          }
        }),
        params,
      );
      // Both outcomes are reached.
      expect(rendered).toBeGreaterThan(params.numRuns! * 0.05);
      expect(refused).toBeGreaterThan(params.numRuns! * 0.05);
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'refuses a caller outright, whatever a later rule would allow, exactly when a claim its template names could widen it',
    () => {
      fc.assert(
        fc.property(hostileClaim, (tenant) => {
          // An empty claim is a missing one (see "an empty claim"): neither rule takes it.
          fc.pre(tenant !== '');
          const rules: OracleRule[] = [
            { id: 'scoped', callers: [{ claims: { tenant: '*' } }], operations: ['*'], sessionPolicy: { Resource: 'bucket/${tenant}/*' } },
            { id: 'broad', callers: [{ claims: { tenant: '*' } }], operations: ['*'] },
          ];
          const decision = decide(compilePolicy(documentOf(rules)), jwt({ tenant }), OPERATIONS[0]!, {});
          if (claimRefusedInSessionPolicy(tenant)) {
            expect(decision).toEqual({ allowed: false, refusedClaim: { claim: 'tenant', reason: expect.any(String) } });
          } else {
            expect(decision).toEqual({ allowed: true, rule: 'scoped', sessionPolicy: JSON.stringify({ Resource: `bucket/${tenant}/*` }) });
          }
        }),
        propertyRuns(300),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
