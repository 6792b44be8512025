/**
 * The caller policy (POLICY_PARAMETER): rules saying which callers may call which
 * operations with which body values. Deny by default; the first rule that allows wins.
 * @module
 */
import * as z from 'zod/mini';
import { ParameterUnusable, readJsonParameter } from '../aws/ssm-parameter.js';
import { readConfig } from '../core/config.js';
import { BrokerError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { accountTemplate, renderAccount } from './account.js';
import type { Caller } from './caller.js';
import { checkReferences, claimValue, PolicyMalformed, REFERENCE } from './claims.js';
import { compileSessionPolicy, type RenderSessionPolicy, sessionPolicySchema } from './session-policy.js';
import { renderTenant } from './tenant.js';

/** The explicit opt-out of a session policy: `"sessionPolicy": "none"`. */
export const UNSCOPED = 'none';

const pattern = z.string().check(z.minLength(1), z.maxLength(512));
const constraintSchema = z.union([
  z.strictObject({ equals: pattern }),
  z.strictObject({ prefix: pattern }),
  z.strictObject({ pattern: pattern }),
  z.strictObject({ oneOf: z.array(pattern).check(z.minLength(1)) }),
]);
const callerMatcherSchema = z.union([
  /** An IAM principal ARN, `*` matching any run of characters. */
  z.strictObject({ principal: pattern }),
  /** JWT claims that must all match (`*` wildcards; list claims such as `scope` match when one item does). */
  z.strictObject({ claims: z.record(z.string(), pattern) }),
  /** A caller no authorizer vouched for: only on a route without one, as under `npm start` (a deployed route always has one). */
  z.strictObject({ anonymous: z.literal(true) }),
]);
/** What a tenant is (lib/access/tenant.ts): a template of `${claim}` references and literal text. */
const tenantSchema = z.string().check(z.minLength(1), z.maxLength(256));
/** The caller policy document kept in SSM (POLICY_PARAMETER). */
export const policySchema = z.strictObject({
  version: z.literal(1),
  /** Who shares a share of a vendor's rate budget, for every rule without its own; absent: the caller's identity. */
  tenant: z.optional(tenantSchema),
  rules: z.array(
    z.strictObject({
      id: z.string().check(z.minLength(1), z.maxLength(128)),
      callers: z.array(callerMatcherSchema).check(z.minLength(1)),
      /**
       * Operation names such as `cams:GetChatappUploadAuthorization`; `*` wildcards. An
       * operation that assumes a role is matched only by its exact name, never by a wildcard.
       */
      operations: z.array(pattern).check(z.minLength(1)),
      /** Body field → constraint; `${claim}` in a value is the caller's claim. A constrained field must be present. */
      constraints: z.optional(z.record(z.string(), constraintSchema)),
      /**
       * The vendor policy document sent as STS AssumeRole's `Policy` when this rule allows:
       * `${claim}` in a string value is the caller's claim (lib/access/session-policy.ts). An
       * operation that assumes a role is allowed only by a rule that has one, or that opts
       * out explicitly with `"none"` (credentials of the role's whole reach; logged).
       */
      sessionPolicy: z.optional(z.union([z.literal(UNSCOPED), sessionPolicySchema])),
      /** What a tenant is for the requests this rule allows (lib/access/tenant.ts); absent: the policy's `tenant`. */
      tenant: z.optional(tenantSchema),
      /** The vendor account the requests this rule allows use (lib/access/account.ts): a name or one `${claim}`; absent: `default`. */
      account: z.optional(accountTemplate),
    }),
  ),
});
/** A parsed caller policy. */
export type Policy = z.infer<typeof policySchema>;
type Rule = Policy['rules'][number];
type Constraint = z.infer<typeof constraintSchema>;

/**
 * What the policy says of one request, and by which rule; with the rule's session policy
 * rendered for the caller (compact JSON) when it has one. A refusal names the claim a
 * session policy could not take: the request is then refused outright, never passed on to
 * a later rule that might allow more. `unscopedSkipped` names the rules that matched an
 * operation assuming a role but have no session policy (so they did not allow it).
 */
export type Decision = Allowed | { allowed: false; refusedClaim?: { claim: string; reason: string }; unscopedSkipped?: string[] };
/**
 * A decision that allows: `rule` absent when no policy is configured; `unscoped` when the
 * rule opted out of a session policy (`"sessionPolicy": "none"`) for an operation that assumes a role;
 * `tenant` when the policy names what a tenant is (else the caller's identity is, lib/access/tenant.ts).
 */
export type Allowed = { allowed: true; rule?: string; sessionPolicy?: string; unscoped?: true; tenant?: string; account?: string };

/** What decide needs to know of the operation besides its name. */
export interface OperationTraits {
  /** It assumes a role (a spec's `assumesRole`): exact names only, a session policy or the explicit opt-out required. */
  assumesRole: boolean;
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export { PolicyMalformed };

/** Most quantifiers a pattern may hold: each one multiplies what backtracking can try. */
const MAX_QUANTIFIERS = 8;

/** Most ways a pattern may try to match one value (see patternPaths): bounds backtracking to milliseconds. */
export const MAX_PATTERN_PATHS = 1_000_000;

/** The longest value a pattern is tried on: the request schemas cap strings at 128 characters. */
const LONGEST_VALUE = 128;

/**
 * A pattern compiled once, when the policy loads, to a regex that matches the whole value.
 * Backtracking stays bounded: no backreferences or lookaround, no quantified group that
 * holds a quantifier or an alternation (the shape of catastrophic patterns), few
 * quantifiers, few ways to match in all (adjacent quantifiers and alternatives multiply:
 * six `.*` in a row take a minute on 128 characters), and values are short (the request
 * schemas cap them at 128 characters). A `${claim}` is one literal atom: a quantifier after
 * it repeats the whole claim.
 */
function compilePattern(pattern: string, where: string): (caller: Caller) => RegExp | undefined {
  checkReferences(pattern, where);
  // Claims are replaced by a plain letter to check the pattern's own shape.
  const shape = pattern.replace(REFERENCE, 'x');
  if (/\\[1-9k]|\(\?<?[=!]/.test(shape)) throw new PolicyMalformed(`${where}: backreferences and lookaround are not allowed`);
  const quantifiers = shape.match(/(?<!\\)(?:[*+?]|\{\d+(?:,\d*)?\})/g) ?? [];
  if (quantifiers.length > MAX_QUANTIFIERS) throw new PolicyMalformed(`${where}: more than ${MAX_QUANTIFIERS} quantifiers`);
  if (nestedQuantifier(shape)) throw new PolicyMalformed(`${where}: a quantified group holds a quantifier or an alternation`);
  try {
    new RegExp(shape, 'u');
  } catch {
    throw new PolicyMalformed(`${where}: not a valid regular expression`);
  }
  if (patternPaths(shape) > MAX_PATTERN_PATHS) {
    throw new PolicyMalformed(
      `${where}: may try more than ${MAX_PATTERN_PATHS} ways to match a value (too many quantifiers or alternatives)`,
    );
  }
  return (caller) => {
    let missing = false;
    const source = pattern.replace(REFERENCE, (_whole, name: string) => {
      const value = claimValue(caller, name);
      if (value === undefined) missing = true;
      // A claim is matched literally inside a pattern, as one atom (as the shape above was checked).
      return `(?:${escapeRegex(value ?? '')})`;
    });
    return missing ? undefined : new RegExp(`^(?:${source})$`, 'u');
  };
}

/** True when a group followed by a quantifier contains a quantifier or `|`. */
function nestedQuantifier(source: string): boolean {
  const open: { risky: boolean }[] = [];
  let inClass = false;
  // Where the last group opened: `(?:` is no quantifier, but `\(?` (an optional literal paren) is.
  let groupOpenedAt = -1;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i += 1;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') {
      open.push({ risky: false });
      groupOpenedAt = i;
    } else if (c === ')') {
      const group = open.pop();
      const next = source[i + 1];
      const quantified = next === '*' || next === '+' || next === '?' || next === '{';
      if (group?.risky && quantified) return true;
      // A group is itself a risky part of its parent when it holds a quantifier or is quantified.
      if (open.length > 0 && (group?.risky || quantified)) open[open.length - 1]!.risky = true;
    } else if ((c === '*' || c === '+' || c === '?' || c === '{' || c === '|') && open.length > 0) {
      if (!(c === '?' && groupOpenedAt === i - 1)) open[open.length - 1]!.risky = true;
    }
  }
  return false;
}

/**
 * An upper bound on the ways a backtracking matcher may try to match a valid `source`
 * against a value of up to LONGEST_VALUE characters: a quantifier offers one choice per
 * count it allows, an alternation one per alternative; a sequence multiplies, an
 * alternation adds. A quantified group holds no choice of its own (nestedQuantifier).
 */
function patternPaths(source: string): number {
  // One frame per open group: its finished alternatives' sum, and the current one's product.
  const frames = [{ sum: 0, product: 1 }];
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    const frame = frames[frames.length - 1]!;
    if (c === '\\') {
      i += 1;
    } else if (c === '[') {
      for (i += 1; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i += 1;
    } else if (c === '(') {
      frames.push({ sum: 0, product: 1 });
      if (source[i + 1] === '?') i = source[i + 2] === '<' ? source.indexOf('>', i) : i + 2;
    } else if (c === ')' && frames.length > 1) {
      const group = frames.pop()!;
      frames[frames.length - 1]!.product *= group.sum + group.product;
    } else if (c === '|') {
      frame.sum += frame.product;
      frame.product = 1;
    } else if (c === '*' || c === '+' || c === '?' || c === '{') {
      const bounds = c === '{' ? /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i)) : null;
      const least = c === '+' ? 1 : bounds ? Number(bounds[1]) : 0;
      const most = c === '?' ? 1 : bounds && !bounds[2] ? least : bounds?.[3] ? Number(bounds[3]) : Number.POSITIVE_INFINITY;
      if (bounds) i += bounds[0].length - 1;
      const cap = Math.min(most, LONGEST_VALUE);
      frame.product *= Math.max(1, cap - Math.min(least, cap) + 1);
    }
  }
  return frames[0]!.sum + frames[0]!.product;
}

/** `*` matches any run of characters; everything else literally. Compiled once. */
function compileGlob(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map(escapeRegex).join('.*')}$`, 's');
}

/** JWT list claims (scope is space-separated) as items. */
function claimItems(name: string, value: string | string[]): string[] {
  if (Array.isArray(value)) return value;
  return name === 'scope' || name === 'scp' ? value.split(/\s+/).filter(Boolean) : [value];
}

/** `${claim}` → the caller's claim; undefined when a named claim is missing, empty or a list, so the rule cannot apply. */
function substitute(template: string, caller: Caller): string | undefined {
  let missing = false;
  const out = template.replace(REFERENCE, (_whole, name: string) => {
    const value = claimValue(caller, name);
    if (value === undefined) missing = true;
    return value ?? '';
  });
  return missing ? undefined : out;
}

type ValueTest = (value: string, caller: Caller) => boolean;
type CallerTest = (caller: Caller) => boolean;

/** A rule with its globs and patterns compiled. */
interface CompiledRule {
  id: string;
  operations: RegExp[];
  /** The operation names written without a wildcard: the only ones that match an operation that assumes a role. */
  exactOperations: Set<string>;
  callers: CallerTest[];
  constraints: [field: string, test: ValueTest][];
  sessionPolicy?: RenderSessionPolicy | typeof UNSCOPED;
  /** The rule's `tenant` template, else the policy's. */
  tenant?: string;
  /** The rule's `account` (a name or one `${claim}`); absent: `default`. */
  account?: string;
}

/** A policy checked and compiled, ready to decide requests. */
export interface CompiledPolicy {
  rules: CompiledRule[];
  /** The ids of the rules that opt out of a session policy (`"none"`): logged when the policy loads. */
  unscopedRules: string[];
}

function compileCaller(matcher: Rule['callers'][number], where: string): CallerTest {
  if ('anonymous' in matcher) return (caller) => caller.kind === 'anonymous';
  if ('principal' in matcher) {
    const glob = compileGlob(matcher.principal);
    return (caller) => caller.kind === 'iam' && glob.test(caller.principal);
  }
  const claims = Object.entries(matcher.claims).map(([name, glob]) => {
    checkReferences(glob, `${where}.claims.${name}`);
    return [name, compileGlob(glob)] as const;
  });
  return (caller) =>
    caller.kind === 'jwt' &&
    claims.every(([name, glob]) => {
      // Only claims the caller has: `constructor` or `toString` is not a claim every object inherits.
      const value = Object.hasOwn(caller.claims, name) ? caller.claims[name] : undefined;
      // An empty claim is a missing claim: `tenant: "*"` never matches `tenant: ""`.
      return value !== undefined && claimItems(name, value).some((item) => item !== '' && glob.test(item));
    });
}

function compileConstraint(constraint: Constraint, where: string): ValueTest {
  if ('oneOf' in constraint) {
    for (const option of constraint.oneOf) checkReferences(option, where);
    return (value, caller) => constraint.oneOf.some((option) => substitute(option, caller) === value);
  }
  if ('equals' in constraint) {
    checkReferences(constraint.equals, where);
    return (value, caller) => substitute(constraint.equals, caller) === value;
  }
  if ('prefix' in constraint) {
    checkReferences(constraint.prefix, where);
    return (value, caller) => {
      const prefix = substitute(constraint.prefix, caller);
      return prefix !== undefined && value.startsWith(prefix);
    };
  }
  const regexFor = compilePattern(constraint.pattern, where);
  return (value, caller) => regexFor(caller)?.test(value) ?? false;
}

/**
 * Checks and compiles a policy: every claim reference expressible, every pattern valid and
 * bounded. Throws PolicyMalformed, saying where, when it is not.
 */
export function compilePolicy(policy: Policy): CompiledPolicy {
  if (policy.tenant !== undefined) checkReferences(policy.tenant, 'tenant');
  return {
    unscopedRules: policy.rules.filter((rule) => rule.sessionPolicy === UNSCOPED).map((rule) => rule.id),
    rules: policy.rules.map((rule, index) => {
      const where = `rules[${index}]`;
      const template = rule.sessionPolicy;
      const tenant = rule.tenant ?? policy.tenant;
      if (rule.tenant !== undefined) checkReferences(rule.tenant, `${where}.tenant`);
      return {
        ...(tenant !== undefined && { tenant }),
        ...(rule.account !== undefined && { account: rule.account }),
        id: rule.id,
        operations: rule.operations.map(compileGlob),
        exactOperations: new Set(rule.operations.filter((name) => !name.includes('*'))),
        callers: rule.callers.map((matcher, i) => compileCaller(matcher, `${where}.callers[${i}]`)),
        constraints: Object.entries(rule.constraints ?? {}).map(([field, constraint]) => [
          field,
          compileConstraint(constraint, `${where}.constraints.${field}`),
        ]),
        ...(template !== undefined && {
          sessionPolicy: template === UNSCOPED ? UNSCOPED : compileSessionPolicy(template, `${where}.sessionPolicy`),
        }),
      };
    }),
  };
}

function bodySatisfies(constraints: CompiledRule['constraints'], body: Record<string, unknown>, caller: Caller): boolean {
  return constraints.every(([field, test]) => {
    const value = body[field];
    const items = Array.isArray(value) ? value : [value];
    return (
      value !== undefined &&
      items.length > 0 &&
      items.every((item) => (typeof item === 'string' || typeof item === 'number') && test(String(item), caller))
    );
  });
}

/**
 * The decision for one request; pure, so it is tested without SSM. For an operation that
 * assumes a role, only a rule naming it exactly applies, and only with a session policy or
 * the explicit opt-out; a rule without either is skipped (and named on the denial).
 */
export function decide(
  policy: CompiledPolicy,
  caller: Caller,
  operation: string,
  body: Record<string, unknown>,
  traits: OperationTraits = { assumesRole: false },
): Decision {
  const skipped: string[] = [];
  for (const rule of policy.rules) {
    const named = traits.assumesRole ? rule.exactOperations.has(operation) : rule.operations.some((glob) => glob.test(operation));
    if (!named) continue;
    if (!rule.callers.some((matches) => matches(caller))) continue;
    if (!bodySatisfies(rule.constraints, body, caller)) continue;
    if (rule.sessionPolicy === undefined && traits.assumesRole) {
      // Never the role's whole reach without an explicit opt-out.
      skipped.push(rule.id);
      continue;
    }
    // The rule's account: a claim it needs that is missing or refused refuses the request, as for a session policy.
    const account = rule.account === undefined ? undefined : renderAccount(rule.account, caller);
    if (account !== undefined && 'refused' in account) return { allowed: false, refusedClaim: account.refused };
    const inAccount = account === undefined ? {} : { account: account.account };
    if (rule.sessionPolicy === undefined) return { allowed: true, rule: rule.id, ...inAccount };
    if (rule.sessionPolicy === UNSCOPED) {
      return { allowed: true, rule: rule.id, ...inAccount, ...(traits.assumesRole && { unscoped: true as const }) };
    }
    const rendering = rule.sessionPolicy(caller);
    // A claim the template needs is missing or refused: no later, wider rule is tried.
    if ('refused' in rendering) return { allowed: false, refusedClaim: rendering.refused };
    return { allowed: true, rule: rule.id, ...inAccount, sessionPolicy: rendering.policy };
  }
  return skipped.length > 0 ? { allowed: false, unscopedSkipped: skipped } : { allowed: false };
}

/** A deny-everything policy: what a malformed policy document becomes. */
const DENY_ALL: CompiledPolicy = { rules: [], unscopedRules: [] };

/**
 * The last policy compiled, by its document's JSON text: readJsonParameter parses the cached
 * parameter anew on every read, so the text, not the object, says whether it changed. One
 * entry: a function reads one policy parameter.
 */
let compiled: { text: string; policy: CompiledPolicy } | undefined;

function compiledFor(document: Policy, logger: Logger): CompiledPolicy {
  const text = JSON.stringify(document);
  if (compiled?.text === text) return compiled.policy;
  const policy = compilePolicy(document);
  compiled = { text, policy };
  // Once per policy loaded: an opt-out is a deliberate, visible choice.
  for (const rule of policy.unscopedRules) {
    logger.warn('caller policy rule opts out of session policies: operations that assume a role get its whole reach', { rule });
  }
  return policy;
}

/** The 403 of a denial. A refused claim is named, never its value: the answer and the log stay bounded. */
function forbidden(operation: string, denial: Decision & { allowed: false }, logger: Logger): BrokerError {
  if (denial.unscopedSkipped !== undefined) {
    logger.warn('caller policy rules matched an operation that assumes a role but have no sessionPolicy; skipped', {
      rules: denial.unscopedSkipped,
      fix: 'give each a sessionPolicy, or "none" to hand out the role\'s whole reach',
    });
  }
  if (denial.refusedClaim === undefined) {
    return new BrokerError('Forbidden', `No policy rule allows this caller to call ${operation} with this request.`);
  }
  const { claim, reason } = denial.refusedClaim;
  logger.warn('a claim was refused for a session policy', { claim, reason });
  return new BrokerError('Forbidden', `The caller's claim ${claim} ${reason}, so ${operation} is refused.`);
}

/**
 * Checks a request against the configured policy, before any key is read. No
 * POLICY_PARAMETER: everything is allowed (the authorizer is the only gate), except an
 * operation that assumes a role, which is refused (403). A policy that cannot be read
 * answers 503; one that is malformed denies everything.
 */
export async function authorize(
  operation: string,
  caller: Caller,
  body: Record<string, unknown>,
  logger: Logger,
  traits: OperationTraits,
): Promise<Allowed> {
  const config = readConfig();
  if (config.POLICY_PARAMETER === undefined) {
    if (!traits.assumesRole) return { allowed: true };
    throw new BrokerError(
      'Forbidden',
      `${operation} assumes a role and no caller policy is configured: set POLICY_PARAMETER (stage param callerPolicy: enabled) to a policy whose rule names ${operation} with a sessionPolicy.`,
    );
  }
  let policy: CompiledPolicy;
  try {
    policy = compiledFor(
      await readJsonParameter(config.POLICY_PARAMETER, policySchema, { cacheSeconds: config.KEYS_CACHE_SECONDS }),
      logger,
    );
  } catch (error) {
    if (error instanceof ParameterUnusable && error.reason === 'unreadable') {
      throw new BrokerError('PolicyUnavailable', 'The caller policy could not be read from SSM.', { cause: error.cause });
    }
    if (!(error instanceof ParameterUnusable || error instanceof PolicyMalformed)) throw error;
    logger.error('caller policy is malformed; denying every request until it is fixed', {
      parameter: config.POLICY_PARAMETER,
      ...(error instanceof PolicyMalformed ? { reason: error.message } : { details: error.details }),
    });
    policy = DENY_ALL;
  }
  const decision = decide(policy, caller, operation, body, traits);
  if (!decision.allowed) throw forbidden(operation, decision, logger);
  return withTenant(policy, decision, caller, operation, logger);
}

/** The decision with its tenant when the allowing rule (the first of its id) or the policy names one. */
function withTenant(policy: CompiledPolicy, decision: Allowed, caller: Caller, operation: string, logger: Logger): Allowed {
  const template = policy.rules.find((rule) => rule.id === decision.rule)?.tenant;
  if (template === undefined) return decision;
  const rendering = renderTenant(template, caller);
  if ('refused' in rendering) throw forbidden(operation, { allowed: false, refusedClaim: rendering.refused }, logger);
  return { ...decision, tenant: rendering.tenant };
}
