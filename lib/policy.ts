/**
 * The caller policy (POLICY_PARAMETER): rules saying which callers may call which
 * operations with which body values. Deny by default; the first rule that allows wins.
 * @module
 */
import * as z from 'zod/mini';
import type { Caller } from './caller.js';
import { readConfig } from './config.js';
import { BrokerError } from './errors.js';
import type { Logger } from './logger.js';
import { ParameterUnusable, readJsonParameter } from './ssm-parameter.js';

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
]);
/** The caller policy document kept in SSM (POLICY_PARAMETER). */
export const policySchema = z.strictObject({
  version: z.literal(1),
  rules: z.array(
    z.strictObject({
      id: z.string().check(z.minLength(1), z.maxLength(128)),
      callers: z.array(callerMatcherSchema).check(z.minLength(1)),
      /** Operation names such as `cams:GetChatappUploadAuthorization`; `*` wildcards. */
      operations: z.array(pattern).check(z.minLength(1)),
      /** Body field → constraint; `${claim}` in a value is the caller's claim. A constrained field must be present. */
      constraints: z.optional(z.record(z.string(), constraintSchema)),
    }),
  ),
});
/** A parsed caller policy. */
export type Policy = z.infer<typeof policySchema>;
type Rule = Policy['rules'][number];
type Constraint = z.infer<typeof constraintSchema>;

/** What the policy says of one request, and by which rule. */
export type Decision = { allowed: true; rule?: string } | { allowed: false };

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `*` matches any run of characters; everything else literally. */
function wildcard(glob: string, value: string): boolean {
  return new RegExp(`^${glob.split('*').map(escapeRegex).join('.*')}$`).test(value);
}

/** JWT list claims (scope is space-separated) as items. */
function claimItems(name: string, value: string | string[]): string[] {
  if (Array.isArray(value)) return value;
  return name === 'scope' || name === 'scp' ? value.split(/\s+/).filter(Boolean) : [value];
}

function callerMatches(matcher: Rule['callers'][number], caller: Caller): boolean {
  if ('principal' in matcher) return caller.kind === 'iam' && wildcard(matcher.principal, caller.principal);
  if (caller.kind !== 'jwt') return false;
  return Object.entries(matcher.claims).every(([name, glob]) => {
    const value = caller.claims[name];
    return value !== undefined && claimItems(name, value).some((item) => wildcard(glob, item));
  });
}

/** `${claim}` → the caller's claim; undefined when a named claim is missing or a list, so the rule cannot apply. */
function substitute(template: string, caller: Caller): string | undefined {
  let missing = false;
  const out = template.replace(/\$\{([\w:.-]+)\}/g, (_, name: string) => {
    const value =
      caller.kind === 'jwt' ? caller.claims[name] : name === 'principal' && caller.kind === 'iam' ? caller.principal : undefined;
    if (typeof value !== 'string') {
      missing = true;
      return '';
    }
    return value;
  });
  return missing ? undefined : out;
}

function valueSatisfies(constraint: Constraint, value: string, caller: Caller): boolean {
  if ('oneOf' in constraint) return constraint.oneOf.some((option) => substitute(option, caller) === value);
  if ('equals' in constraint) return substitute(constraint.equals, caller) === value;
  if ('prefix' in constraint) {
    const prefix = substitute(constraint.prefix, caller);
    return prefix !== undefined && value.startsWith(prefix);
  }
  // Substituted claims are matched literally inside a pattern.
  let missing = false;
  const source = constraint.pattern.replace(/\$\{([\w:.-]+)\}/g, (whole) => {
    const value = substitute(whole, caller);
    if (value === undefined) missing = true;
    return escapeRegex(value ?? '');
  });
  return !missing && new RegExp(source).test(value);
}

function bodySatisfies(constraints: Rule['constraints'], body: Record<string, unknown>, caller: Caller): boolean {
  return Object.entries(constraints ?? {}).every(([field, constraint]) => {
    const value = body[field];
    const items = Array.isArray(value) ? value : [value];
    return (
      value !== undefined &&
      items.length > 0 &&
      items.every((item) => (typeof item === 'string' || typeof item === 'number') && valueSatisfies(constraint, String(item), caller))
    );
  });
}

/** The decision for one request; pure, so it is tested without SSM. */
export function decide(policy: Policy, caller: Caller, operation: string, body: Record<string, unknown>): Decision {
  for (const rule of policy.rules) {
    if (!rule.operations.some((glob) => wildcard(glob, operation))) continue;
    if (!rule.callers.some((matcher) => callerMatches(matcher, caller))) continue;
    if (bodySatisfies(rule.constraints, body, caller)) return { allowed: true, rule: rule.id };
  }
  return { allowed: false };
}

/** A deny-everything policy: what a malformed policy document becomes. */
const DENY_ALL: Policy = { version: 1, rules: [] };

/**
 * Checks a request against the configured policy, before any key is read. No
 * POLICY_PARAMETER: everything is allowed (the authorizer is the only gate). A policy
 * that cannot be read answers 503; one that is malformed denies everything.
 */
export async function authorize(operation: string, caller: Caller, body: Record<string, unknown>, logger: Logger): Promise<Decision> {
  const config = readConfig();
  if (config.POLICY_PARAMETER === undefined) return { allowed: true };
  let policy: Policy;
  try {
    policy = await readJsonParameter(config.POLICY_PARAMETER, policySchema, { cacheSeconds: config.KEYS_CACHE_SECONDS });
  } catch (error) {
    if (!(error instanceof ParameterUnusable)) throw error;
    if (error.reason === 'unreadable') {
      throw new BrokerError('PolicyUnavailable', 'The caller policy could not be read from SSM.', { cause: error.cause });
    }
    logger.error('caller policy is malformed; denying every request until it is fixed', {
      parameter: config.POLICY_PARAMETER,
      details: error.details,
    });
    policy = DENY_ALL;
  }
  const decision = decide(policy, caller, operation, body);
  if (!decision.allowed) throw new BrokerError('Forbidden', `No policy rule allows this caller to call ${operation} with this request.`);
  return decision;
}
