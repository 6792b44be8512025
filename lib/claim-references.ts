/**
 * `${claim}` references of the caller policy (lib/policy.ts, lib/session-policy.ts): the
 * syntax, how a caller's claim is read, and the error a policy that misuses them raises.
 * @module
 */
import type { Caller } from './caller.js';

/** A claim reference the policy language can express: `${name}`, name of letters, digits, `_ : . -`. */
export const REFERENCE = /\$\{([A-Za-z_][\w:.-]{0,127})\}/g;

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
