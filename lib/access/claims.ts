/**
 * `${claim}` references of the caller policy (lib/access/policy.ts, lib/access/session-policy.ts): the
 * syntax, how a caller's claim is read, which claim values may stand in for a reference,
 * and the error a policy that misuses them raises.
 * @module
 */
import type { Caller } from './caller.js';

/** A claim reference the policy language can express: `${name}`, name of letters, digits, `_ : . -`. */
export const REFERENCE = /\$\{([A-Za-z_][\w:.-]{0,127})\}/g;

/**
 * What a claim value rendered into a session policy (or used as an account or tenant key)
 * may hold: an allow-list, so no wildcard, path separator, quote, policy-variable syntax,
 * percent escape, space, control, format or look-alike character (fullwidth `／` `＊` `．`)
 * can reach a vendor policy. Edge dots and `..` are refused on top (CLAIM_DOTS).
 */
export const CLAIM_VALUE = /^[A-Za-z0-9._@-]{1,64}$/;
/** A dot at either end (it could join a dot of the template into `..`) or a parent path. */
const CLAIM_DOTS = /^\.|\.$|\.\./;

/** Thrown while compiling a policy: it is then malformed, and denies everything. */
export class PolicyMalformed extends Error {
  override readonly name = 'PolicyMalformed';
}

/** Every `${` of a template must open a reference the language can express; anything else is a mistake, not a literal. */
export function checkReferences(template: string, where: string): void {
  if (template.replace(REFERENCE, '').includes('${')) {
    throw new PolicyMalformed(`${where}: a \`\${...}\` names a claim the policy language cannot express`);
  }
}

/** A claim's string value; an empty claim is a missing claim, so it can never match a wildcard or a prefix. */
export function claimValue(caller: Caller, name: string): string | undefined {
  const value =
    caller.kind === 'jwt'
      ? Object.hasOwn(caller.claims, name)
        ? caller.claims[name]
        : undefined
      : name === 'principal' && caller.kind === 'iam'
        ? caller.principal
        : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Why a claim value may not be rendered into a session policy or used as a key, or undefined when it may. Never quotes the value. */
export function claimRefusal(value: string): string | undefined {
  if (value.length > 64) return 'is longer than 64 characters';
  if (!CLAIM_VALUE.test(value)) return 'holds a character outside A-Z a-z 0-9 . _ @ -';
  if (CLAIM_DOTS.test(value)) return 'begins or ends with a dot, or holds ..';
  return undefined;
}
