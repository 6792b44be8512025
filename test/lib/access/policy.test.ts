import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { Caller } from '../../../lib/access/caller.js';
import {
  compilePolicy,
  decide as decideCompiled,
  type OperationTraits,
  type Policy,
  PolicyMalformed,
  policySchema,
} from '../../../lib/access/policy.js';

const CAMS = 'cams:GetChatappUploadAuthorization';
const jwt = (claims: Record<string, string | string[]>): Caller => ({ kind: 'jwt', subject: String(claims.sub ?? ''), claims });
const iam = (principal: string): Caller => ({ kind: 'iam', principal });

const policy: Policy = {
  version: 1,
  rules: [
    {
      id: 'own-tenant-uploads',
      callers: [{ claims: { tenant: '*', scope: 'uploads' } }],
      operations: [CAMS],
      constraints: { custSpaceId: { equals: '${tenant}' } },
    },
    {
      id: 'provisioner-role',
      callers: [{ principal: 'arn:aws:sts::123456789012:assumed-role/provisioner-*/*' }],
      operations: ['ims:*'],
      constraints: { scopes: { oneOf: ['openid', 'aliuid'] } },
    },
    {
      id: 'diagrams-by-prefix',
      callers: [{ claims: { sub: 'svc-*' } }],
      operations: ['bpstudio:GetToken'],
      constraints: { resourceGroupId: { prefix: 'rg-${team}-' } },
    },
    {
      id: 'ufile-pattern',
      callers: [{ claims: { team: '*' } }],
      operations: ['ufile:DescribeUFileToken'],
      constraints: { tokenName: { pattern: '^${team}-[a-z]+$' } },
    },
  ],
};

/** Decides against a policy compiled as the broker compiles it when it loads. */
const decide = (document: Policy, ...rest: [Caller, string, Record<string, unknown>, OperationTraits?]) =>
  decideCompiled(compilePolicy(document), ...rest);

describe('decide', () => {
  it("allows a caller its own tenant, by rule id, and nobody else's", () => {
    const alice = jwt({ sub: 'alice', tenant: 'space-a', scope: 'openid uploads' });
    expect(decide(policy, alice, CAMS, { custSpaceId: 'space-a' })).toEqual({ allowed: true, rule: 'own-tenant-uploads' });
    expect(decide(policy, alice, CAMS, { custSpaceId: 'space-b' })).toEqual({ allowed: false });
  });

  it('needs every claim a matcher names, and one item of a list claim', () => {
    expect(decide(policy, jwt({ sub: 'a', tenant: 'space-a', scope: 'openid' }), CAMS, { custSpaceId: 'space-a' }).allowed).toBe(false);
    expect(decide(policy, jwt({ sub: 'a', scope: 'uploads' }), CAMS, { custSpaceId: 'space-a' }).allowed).toBe(false);
    expect(decide(policy, jwt({ sub: 'a', tenant: 'space-a', scope: ['x', 'uploads'] }), CAMS, { custSpaceId: 'space-a' }).allowed).toBe(
      true,
    );
  });

  it('matches IAM principals and operations with * wildcards, and constrains every item of a list field', () => {
    const role = iam('arn:aws:sts::123456789012:assumed-role/provisioner-prod/session-1');
    expect(decide(policy, role, 'ims:ProvisionExternalApplication', { appId: '1', scopes: ['openid', 'aliuid'] })).toMatchObject({
      allowed: true,
    });
    expect(decide(policy, role, 'ims:ProvisionExternalApplication', { appId: '1', scopes: ['openid', 'admin'] }).allowed).toBe(false);
    expect(
      decide(policy, iam('arn:aws:sts::999999999999:assumed-role/provisioner-prod/s'), 'ims:ProvisionExternalApplication', {
        appId: '1',
        scopes: ['openid'],
      }).allowed,
    ).toBe(false);
    expect(decide(policy, role, CAMS, { custSpaceId: 'x' }).allowed).toBe(false);
  });

  it('treats a constrained field that is absent as not allowed', () => {
    const role = iam('arn:aws:sts::123456789012:assumed-role/provisioner-prod/s');
    expect(decide(policy, role, 'ims:ProvisionExternalApplication', { appId: '1' }).allowed).toBe(false);
  });

  it('substitutes claims into prefixes and, literally, into patterns', () => {
    const svc = jwt({ sub: 'svc-render', team: 'data' });
    expect(decide(policy, svc, 'bpstudio:GetToken', { resourceGroupId: 'rg-data-1' }).allowed).toBe(true);
    expect(decide(policy, svc, 'bpstudio:GetToken', { resourceGroupId: 'rg-web-1' }).allowed).toBe(false);
    expect(decide(policy, jwt({ sub: 'x', team: 'a.b' }), 'ufile:DescribeUFileToken', { tokenName: 'a.b-upload' }).allowed).toBe(true);
    // The dot of the claim is literal: "aXb" must not match "a.b".
    expect(decide(policy, jwt({ sub: 'x', team: 'a.b' }), 'ufile:DescribeUFileToken', { tokenName: 'aXb-upload' }).allowed).toBe(false);
  });

  it('never matches a rule whose substituted claim is missing', () => {
    expect(decide(policy, jwt({ sub: 'svc-render' }), 'bpstudio:GetToken', { resourceGroupId: 'rg--1' }).allowed).toBe(false);
  });

  it('denies anonymous callers and everything under an empty policy', () => {
    expect(decide(policy, { kind: 'anonymous' }, CAMS, { custSpaceId: 'space-a' }).allowed).toBe(false);
    expect(decide({ version: 1, rules: [] }, jwt({ sub: 'a', tenant: 't', scope: 'uploads' }), CAMS, { custSpaceId: 't' }).allowed).toBe(
      false,
    );
  });
});

describe('policySchema', () => {
  it.each([
    ['an unknown rule field', { version: 1, rules: [{ id: 'r', callers: [{ principal: '*' }], operations: ['*'], allow: true }] }],
    ['no callers', { version: 1, rules: [{ id: 'r', callers: [], operations: ['*'] }] }],
    [
      'an unknown constraint',
      { version: 1, rules: [{ id: 'r', callers: [{ principal: '*' }], operations: ['*'], constraints: { a: { like: 'x' } } }] },
    ],
    ['another version', { version: 2, rules: [] }],
  ])('refuses %s', (_name, document) => {
    expect(z.safeParse(policySchema, document).success).toBe(false);
  });
});

describe('caller-policy bypasses that a review found, closed', () => {
  const tenantRule = (constraint: NonNullable<Policy['rules'][number]['constraints']>[string]): Policy => ({
    version: 1,
    rules: [{ id: 'own', callers: [{ claims: { tenant: '*' } }], operations: [CAMS], constraints: { custSpaceId: constraint } }],
  });

  it('treats an empty claim as a missing claim: it matches no wildcard and substitutes into nothing', () => {
    const empty = jwt({ sub: 'x', tenant: '' });
    expect(decide(tenantRule({ prefix: '${tenant}' }), empty, CAMS, { custSpaceId: 'tenant-b' }).allowed).toBe(false);
    expect(decide(tenantRule({ pattern: '${tenant}.*' }), empty, CAMS, { custSpaceId: 'tenant-b' }).allowed).toBe(false);
    const anyTenant: Policy = { version: 1, rules: [{ id: 'r', callers: [{ claims: { tenant: '*' } }], operations: [CAMS] }] };
    expect(decide(anyTenant, empty, CAMS, { custSpaceId: 'x' }).allowed).toBe(false);
    expect(decide(anyTenant, jwt({ sub: 'x', tenant: 't' }), CAMS, { custSpaceId: 'x' }).allowed).toBe(true);
  });

  it('matches a pattern against the whole value, not a part of it', () => {
    const team = jwt({ sub: 'x', tenant: 'a' });
    const policy = tenantRule({ pattern: '${tenant}-upload' });
    expect(decide(policy, team, CAMS, { custSpaceId: 'a-upload' }).allowed).toBe(true);
    expect(decide(policy, team, CAMS, { custSpaceId: 'ba-upload' }).allowed).toBe(false);
    expect(decide(policy, team, CAMS, { custSpaceId: 'evil-a-upload-of-b' }).allowed).toBe(false);
  });

  it.each([
    ['a claim name the language cannot express', { equals: '${https://acme.example/tenant}' }],
    ['an unclosed reference', { prefix: '${tenant' }],
    ['a pattern that does not compile', { pattern: '^(${tenant}-' }],
    ['a quantified group holding a quantifier', { pattern: '^(${tenant}|[a-z]+)+$' }],
    ['a quantified group holding an alternation', { pattern: '(a|aa)*' }],
    ['a backreference', { pattern: '(a)\\1' }],
    ['lookaround', { pattern: '(?=a)a' }],
    ['too many quantifiers', { pattern: 'a*b*c*d*e*f*g*h*i*' }],
  ])('refuses %s when the policy loads', (_name, constraint) => {
    expect(() => compilePolicy(tenantRule(constraint))).toThrow(PolicyMalformed);
  });

  it('takes the bounded rewrite of the pattern that used to backtrack for seconds, and applies it to the whole value', () => {
    // `^(${tenant}|[a-z]+)+$` is refused above; this is what it meant, without the nesting.
    const policy = compilePolicy(tenantRule({ pattern: '(${tenant}|[a-z]+)' }));
    const caller = jwt({ sub: 'x', tenant: 'a' });
    expect(decideCompiled(policy, caller, CAMS, { custSpaceId: `${'a'.repeat(23)}!` }).allowed).toBe(false);
    expect(decideCompiled(policy, caller, CAMS, { custSpaceId: 'abc' }).allowed).toBe(true);
  });
});

describe('caller-policy bypasses the property tests found (policy.property.test.ts), closed', () => {
  const tenantRule = (constraint: NonNullable<Policy['rules'][number]['constraints']>[string]): Policy => ({
    version: 1,
    rules: [{ id: 'own', callers: [{ claims: { tenant: '*' } }], operations: [CAMS], constraints: { custSpaceId: constraint } }],
  });

  it('needs a claim the caller has: a name every object inherits (toString, constructor) is not a claim', () => {
    for (const name of ['toString', 'constructor']) {
      const inherited: Policy = { version: 1, rules: [{ id: 'r', callers: [{ claims: { [name]: '*' } }], operations: [CAMS] }] };
      expect(decide(inherited, jwt({}), CAMS, {}).allowed).toBe(false);
      expect(decide(inherited, jwt({ [name]: 'x' }), CAMS, {}).allowed).toBe(true);
    }
  });

  it('quantifies a ${claim} in a pattern as one literal atom, never its last character alone', () => {
    const ab = jwt({ sub: 'x', tenant: 'ab' });
    // `${tenant}?` used to compile to `ab?`, which let tenant "ab" have tenant "a"'s space.
    expect(decide(tenantRule({ pattern: '${tenant}?' }), ab, CAMS, { custSpaceId: 'a' }).allowed).toBe(false);
    expect(decide(tenantRule({ pattern: '${tenant}?' }), ab, CAMS, { custSpaceId: 'ab' }).allowed).toBe(true);
    expect(decide(tenantRule({ pattern: '${tenant}+' }), ab, CAMS, { custSpaceId: 'abb' }).allowed).toBe(false);
    expect(decide(tenantRule({ pattern: '${tenant}+' }), ab, CAMS, { custSpaceId: 'abab' }).allowed).toBe(true);
    // The shrunk counterexample: claim "**", pattern `${tenant}*`, value "".
    expect(decide(tenantRule({ pattern: '${tenant}*' }), jwt({ tenant: '**' }), CAMS, { custSpaceId: '' }).allowed).toBe(true);
  });

  it.each([
    ['six `.*` in a row (a minute on 128 characters)', '.*.*.*.*.*.*'],
    ['alternatives in sequence (2^40 ways)', '(a|a)'.repeat(40)],
    ['the shrunk counterexample', '(?:\\.{0,}\\.{0,}|^)${tenant}+[a-z]'],
    ['an optional literal paren in a quantified group (`?` after `\\(` is a quantifier)', '(\\(?)+'],
    ['the exponential form of it', '((\\(?)(\\(?))*'],
  ])('refuses a pattern that can backtrack without bound: %s', (_name, pattern) => {
    expect(() => compilePolicy(tenantRule({ pattern }))).toThrow(PolicyMalformed);
  });

  it.each(['[a-z]+-[0-9]+', '${tenant}-[a-z0-9-]{1,32}', '(?:a)*', '(${tenant}|[a-z]+)', 'a{0,64}a{0,64}a{0,64}'])(
    'still takes the bounded pattern %s',
    (pattern) => {
      expect(() => compilePolicy(tenantRule({ pattern }))).not.toThrow();
    },
  );
});

describe('session policies', () => {
  const STS = 'aliyun-sts:AssumeRole';
  const ROLE = { assumesRole: true };
  /** Alibaba Cloud's policy language: uploads to the caller's own folder of one bucket. */
  const ownFolder = {
    Version: '1',
    Statement: [{ Effect: 'Allow', Action: ['oss:PutObject'], Resource: ['acs:oss:*:*:bucket/${tenant}/*'] }],
  };
  const scoped = (sessionPolicy: Record<string, unknown>, callers: Policy['rules'][number]['callers'] = [{ claims: { tenant: '*' } }]) =>
    ({ version: 1, rules: [{ id: 'own-folder', callers, operations: [STS], sessionPolicy }] }) as Policy;
  /** The same rule, then one that would hand the same caller the role's whole reach. */
  const scopedThenBroad = (sessionPolicy: Record<string, unknown>): Policy => ({
    version: 1,
    rules: [...scoped(sessionPolicy).rules, { id: 'broad', callers: [{ claims: { sub: '*' } }], operations: [STS] }],
  });

  it("renders the rule's template with the caller's claims, as compact JSON, on the decision", () => {
    expect(decide(scoped(ownFolder), jwt({ sub: 'u1', tenant: 'tenant-a' }), STS, {}, ROLE)).toEqual({
      allowed: true,
      rule: 'own-folder',
      sessionPolicy:
        '{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:PutObject"],"Resource":["acs:oss:*:*:bucket/tenant-a/*"]}]}',
    });
  });

  it('replaces references anywhere inside string values of nested objects and arrays, and keeps every other value as it is', () => {
    // Tencent Cloud's policy language, with a condition.
    const tencent = {
      version: '2.0',
      statement: [
        {
          effect: 'allow',
          action: ['name/cos:PutObject'],
          resource: ['qcs::cos:ap-guangzhou:uid/1250000000:bucket-1250000000/${tenant}/${team}/*'],
          condition: { string_equal: { 'cos:x-cos-meta-owner': '${tenant}@${team}' } },
        },
      ],
      limits: [1, true, null, { depth: ['${team}'] }],
    };
    const decision = decide(scoped(tencent), jwt({ tenant: 't1', team: 'data' }), STS, {}, ROLE);
    expect(decision.allowed && JSON.parse(decision.sessionPolicy!)).toEqual({
      ...tencent,
      statement: [
        {
          ...tencent.statement[0],
          resource: ['qcs::cos:ap-guangzhou:uid/1250000000:bucket-1250000000/t1/data/*'],
          condition: { string_equal: { 'cos:x-cos-meta-owner': 't1@data' } },
        },
      ],
      limits: [1, true, null, { depth: ['data'] }],
    });
  });

  it('leaves rules without a template as they were: no session policy on the decision', () => {
    expect(decide(policy, jwt({ sub: 'a', tenant: 'space-a', scope: 'uploads' }), CAMS, { custSpaceId: 'space-a' })).toEqual({
      allowed: true,
      rule: 'own-tenant-uploads',
    });
  });

  it('sends a template without references as it is, to any caller the rule matches, IAM principals too', () => {
    const fixed = { Version: '1', Statement: [{ Effect: 'Allow', Action: ['oss:GetObject'], Resource: ['acs:oss:*:*:bucket/shared/*'] }] };
    const role = iam('arn:aws:sts::123456789012:assumed-role/reader/session-1');
    expect(decide(scoped(fixed, [{ principal: 'arn:aws:sts::123456789012:assumed-role/reader/*' }]), role, STS, {}, ROLE)).toEqual({
      allowed: true,
      rule: 'own-folder',
      sessionPolicy: JSON.stringify(fixed),
    });
  });

  it.each([
    ['a wildcard *', 'tenant-*'],
    ['a wildcard ?', 'tenant-?'],
    ['a path separator /', 'shared/tenant-a'],
    ['a parent path ..', 'a..b'],
    ['only a dot (the folder it is in)', '.'],
    ['a dot first (it could join a dot of the template into ..)', '.hidden'],
    ['a dot last', 'trailing.'],
    ['a backslash', 'a\\b'],
    ['a quote', 'a"b'],
    ['policy-variable syntax $', '$tenant'],
    ['policy-variable syntax {', 'a{b'],
    ['policy-variable syntax }', 'a}b'],
    ['a reference of its own', '${team}'],
    ['a percent sign (Tencent URL-decodes Policy: %2A would be *)', '%2A'],
    ['NUL', 'a\u0000b'],
    ['a tab', 'a\tb'],
    ['a line feed', 'a\nb'],
    ['the last C0 control', 'a\u001fb'],
    ['DEL', 'a\u007fb'],
    ['a C1 control (NEL)', 'a\u0085b'],
    ['a zero-width space', 'a\u200bb'],
    ['a right-to-left override', 'a\u202eb'],
    ['a line separator', 'a\u2028b'],
    ['a paragraph separator', 'a\u2029b'],
    ['a byte order mark', '\ufeffa'],
    ['a lone surrogate', 'a\ud83d'],
    ['the JSON injection a"," (closing the string and adding a member)', 'a","Effect":"Allow'],
    // Item 3 of issue #19: a deny-list let look-alikes through; the allow-list refuses them.
    ['a fullwidth solidus', 'tenant-a\uff0f..\uff0ftenant-b'],
    ['a division slash', 'a\u2215b'],
    ['a fraction slash', 'a\u2044b'],
    ['a fullwidth asterisk', 'tenant-\uff0a'],
    ['an asterisk operator', 'tenant-\u2217'],
    ['a fullwidth full stop pair', 'a\uff0e\uff0eb'],
    ['a one-dot leader', 'a\u2024b'],
    ['a space', 'a b'],
    ['a no-break space', 'a\u00a0b'],
    ['an ideographic space', 'a\u3000b'],
    ['a colon', 'a:b'],
    ['a plus', 'a+b'],
    ['non-ASCII letters', 'é中'],
    ['an emoji', 'a😀'],
  ])('refuses outright (403, not "try the next rule") a claim holding %s', (_name, tenant) => {
    const caller = jwt({ sub: 'u1', tenant });
    expect(decide(scopedThenBroad(ownFolder), caller, STS, {}, ROLE)).toEqual({
      allowed: false,
      refusedClaim: { claim: 'tenant', reason: expect.stringMatching(/character outside|dot/) },
    });
  });

  it.each([
    ['letters, digits, - and _', 'Tenant_01-a'],
    ['a single dot', 'a.b'],
    ['an @ (an e-mail address)', 'alice@example.com'],
  ])('takes a claim holding %s, literally', (_name, tenant) => {
    const decision = decide(scoped(ownFolder), jwt({ tenant }), STS, {}, ROLE);
    expect(decision.allowed && JSON.parse(decision.sessionPolicy!).Statement[0].Resource).toEqual([`acs:oss:*:*:bucket/${tenant}/*`]);
  });

  it('refuses a claim longer than 64 characters, and takes one of 64', () => {
    expect(decide(scoped(ownFolder), jwt({ tenant: 'a'.repeat(65) }), STS, {}, ROLE)).toEqual({
      allowed: false,
      refusedClaim: { claim: 'tenant', reason: 'is longer than 64 characters' },
    });
    expect(decide(scoped(ownFolder), jwt({ tenant: 'a'.repeat(64) }), STS, {}, ROLE).allowed).toBe(true);
  });

  it('names the refused claim and its reason, never its value', () => {
    const decision = decide(scopedThenBroad(ownFolder), jwt({ tenant: 'secret-ish/value' }), STS, {}, ROLE);
    expect(JSON.stringify(decision)).not.toContain('secret-ish');
  });

  /** The scoped rule for any caller with a subject, so a caller lacking `tenant` still matches it; then the broad rule. */
  const anySubjectThenBroad: Policy = {
    version: 1,
    rules: [
      { id: 'own-folder', callers: [{ claims: { sub: '*' } }], operations: [STS], sessionPolicy: ownFolder },
      { id: 'broad', callers: [{ claims: { sub: '*' } }], operations: [STS], sessionPolicy: 'none' },
    ],
  };

  it.each([
    ['missing', { sub: 'u1' }],
    ['empty', { sub: 'u1', tenant: '' }],
    ['a list', { sub: 'u1', tenant: ['a', 'b'] }],
  ])('refuses (403) a caller whose claim the template names is %s, and never tries a later, wider rule', (_name, claims) => {
    const refused = { allowed: false, refusedClaim: { claim: 'tenant', reason: 'is missing, empty or a list' } };
    expect(decide(anySubjectThenBroad, jwt(claims), STS, {}, ROLE)).toEqual(refused);
    // The same on an operation that assumes no role: a matching rule's template decides.
    expect(decide(anySubjectThenBroad, jwt(claims), STS, {})).toEqual(refused);
  });

  it('checks constraints and callers before the template: a rule that does not match refuses nothing', () => {
    const notMatching = scoped(ownFolder, [{ claims: { team: 'data' } }]);
    expect(decide(notMatching, jwt({ team: 'web', tenant: 'a/b' }), STS, {}, ROLE)).toEqual({ allowed: false });
  });

  it('renders the largest template the size bound admits, with the widest longest claim, within 2048 bytes, and refuses one byte more', () => {
    // Bare template + 64 characters of 3 UTF-8 bytes for its one reference = 2048.
    const frame = JSON.stringify({ Resource: '${tenant}', Pad: '' }).replace('${tenant}', '').length;
    const largest = { Resource: '${tenant}', Pad: 'p'.repeat(2048 - 64 * 3 - frame) };
    // The bound still counts 3 bytes a character; the allow-list admits ASCII only, so the rendering is smaller.
    const decision = decide(scoped(largest), jwt({ tenant: 'a'.repeat(64) }), STS, {}, ROLE);
    expect(decision.allowed).toBe(true);
    expect(Buffer.byteLength((decision as { sessionPolicy: string }).sessionPolicy)).toBe(2048 - 64 * 2);
    expect(() => compilePolicy(scoped({ ...largest, Pad: `${largest.Pad}p` }))).toThrow(/may render to 2049 bytes/);
  });

  it.each([
    ['a stray ${', { Resource: 'bucket/${tenant' }],
    ['a claim name the language cannot express', { Resource: 'bucket/${bad name}' }],
    ['a reference in a key', { '${tenant}': 'x' }],
    ['a reference in a nested key', { Statement: [{ Condition: { '${tenant}': 'x' } }] }],
    ['${principal} (an ARN: its / is always refused)', { Resource: 'bucket/${principal}/*' }],
    ['an empty document', {}],
    ['a lone surrogate', { Resource: 'bucket/\ud800' }],
    ['too many references for the size bound (11 × 192 bytes)', { Resource: Array.from({ length: 11 }, () => '${tenant}') }],
  ])('makes the policy malformed for %s', (_name, sessionPolicy) => {
    expect(() => compilePolicy(scoped(sessionPolicy))).toThrow(PolicyMalformed);
  });

  it.each([
    ['an array', [ownFolder]],
    ['a string', JSON.stringify(ownFolder)],
    ['null', null],
  ])('refuses a session policy that is %s when the policy parses', (_name, sessionPolicy) => {
    const document = { version: 1, rules: [{ id: 'r', callers: [{ principal: '*' }], operations: ['*'], sessionPolicy }] };
    expect(z.safeParse(policySchema, document).success).toBe(false);
    expect(z.safeParse(policySchema, { ...document, rules: [{ ...document.rules[0], sessionPolicy: ownFolder }] }).success).toBe(true);
  });
});

describe('operations that assume a role (issue #19, item 1)', () => {
  const STS = 'aliyun-sts:AssumeRole';
  const ROLE = { assumesRole: true };
  const anyone = jwt({ sub: 'u1', tenant: 'tenant-a' });
  const folder = { Version: '1', Statement: [{ Effect: 'Allow', Action: ['oss:GetObject'], Resource: ['acs:oss:*:*:b/${tenant}/*'] }] };
  const rules = (...list: Policy['rules']): Policy => ({ version: 1, rules: list });

  it.each([['*'], ['aliyun-sts:*'], ['*:AssumeRole'], ['*sts*']])('never lets the glob %s cover one: it must be named', (glob) => {
    const policy = rules({ id: 'everything', callers: [{ claims: { sub: '*' } }], operations: [glob], sessionPolicy: folder });
    expect(decide(policy, anyone, STS, {}, ROLE)).toEqual({ allowed: false });
    // The same glob still covers an operation that assumes no role.
    expect(decide(policy, anyone, STS, {}).allowed).toBe(true);
  });

  it('skips a rule that names one without a session policy, naming it on the denial; a later scoped rule may allow', () => {
    const unscoped = { id: 'legacy', callers: [{ claims: { sub: '*' } }], operations: [STS] };
    expect(decide(rules(unscoped), anyone, STS, {}, ROLE)).toEqual({ allowed: false, unscopedSkipped: ['legacy'] });
    const scopedLater = { id: 'scoped', callers: [{ claims: { sub: '*' } }], operations: [STS], sessionPolicy: folder };
    expect(decide(rules(unscoped, scopedLater), anyone, STS, {}, ROLE)).toMatchObject({ allowed: true, rule: 'scoped' });
  });

  it('allows the role\'s whole reach only with the explicit opt-out "none", and says so on the decision', () => {
    const optOut = { id: 'admin-tools', callers: [{ claims: { sub: '*' } }], operations: [STS], sessionPolicy: 'none' as const };
    expect(decide(rules(optOut), anyone, STS, {}, ROLE)).toEqual({ allowed: true, rule: 'admin-tools', unscoped: true });
    expect(compilePolicy(rules(optOut)).unscopedRules).toEqual(['admin-tools']);
  });

  it('matches the anonymous caller only with { anonymous: true }', () => {
    const local = rules({ id: 'local', callers: [{ anonymous: true }], operations: ['*'] });
    expect(decide(local, { kind: 'anonymous' }, CAMS, {}).allowed).toBe(true);
    expect(decide(local, anyone, CAMS, {}).allowed).toBe(false);
    expect(decide(rules({ id: 'any-jwt', callers: [{ claims: {} }], operations: ['*'] }), { kind: 'anonymous' }, CAMS, {}).allowed).toBe(
      false,
    );
  });
});

describe("docs/caller-policy.md's STS rules", () => {
  /** The two rules of docs/caller-policy.md's "STS: credentials scoped to the caller" example, read from that file itself. */
  function docStsRules(): Policy['rules'] {
    const doc = readFileSync(new URL('../../../docs/caller-policy.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('**STS: credentials scoped to the caller.**'));
    const block = /```json\n([\s\S]*?)\n```/.exec(section)![1]!;
    return JSON.parse(`[${block}]`);
  }
  const docPolicy = compilePolicy(z.parse(policySchema, { version: 1, rules: docStsRules() }));

  it('scope tenant-a to its own folder, on either vendor', () => {
    const tenantA = jwt({ sub: 'user-1', tenant: 'tenant-a' });
    const aliyun = decideCompiled(docPolicy, tenantA, 'aliyun-sts:AssumeRole', {}, { assumesRole: true });
    expect(aliyun).toMatchObject({ allowed: true, rule: 'tenant-own-folder' });
    expect(JSON.parse((aliyun as { sessionPolicy: string }).sessionPolicy).Statement[0].Resource).toEqual([
      'acs:oss:*:*:uploads/tenant-a/*',
    ]);
    const tencent = decideCompiled(docPolicy, tenantA, 'tencent-sts:AssumeRole', {}, { assumesRole: true });
    expect(JSON.parse((tencent as { sessionPolicy: string }).sessionPolicy).statement[0].resource).toEqual([
      'qcs::cos:ap-guangzhou:uid/1250000000:uploads-1250000000/tenant-a/*',
    ]);
  });

  it('refuse a tenant claim that would reach every folder, and callers of no tenant', () => {
    expect(decideCompiled(docPolicy, jwt({ tenant: 'tenant-*' }), 'aliyun-sts:AssumeRole', {}, { assumesRole: true })).toMatchObject({
      allowed: false,
      refusedClaim: { claim: 'tenant' },
    });
    expect(decideCompiled(docPolicy, jwt({ sub: 'user-2' }), 'aliyun-sts:AssumeRole', {}, { assumesRole: true })).toEqual({
      allowed: false,
    });
  });
});
