/**
 * Tenants: who gets a share of an account-wide vendor rate budget (lib/state/rate-budget.ts,
 * docs/contracts.md "Shared state"). By default a tenant is the caller's identity: the IAM
 * principal, or the JWT's issuer and subject. The caller policy may name it instead with a
 * `tenant` template (top level, or per rule), e.g. `"${org}"`: callers with the same rendered
 * value share one share. Events and schedules have no caller: together they are one tenant.
 * @module
 */
import type { Caller } from './caller.js';
import { claimRefusal, claimValue, REFERENCE } from './claims.js';

/** The tenant of everything that has no caller: SQS messages, EventBridge events, scheduled rotation. */
export const EVENTS_TENANT = 'events';

/** A tenant template rendered for a caller, or the claim that could not be used and why. */
export type TenantRendering = { tenant: string } | { refused: { claim: string; reason: string } };

/**
 * Renders a caller policy's `tenant` template: each `${claim}` must be a claim the caller
 * holds as one non-empty string that a session policy could carry (claimRefusal). A claim
 * missing, empty, a list or refused refuses the request: falling back to the caller's own
 * identity would let callers without the claim each take a share of their own.
 */
export function renderTenant(template: string, caller: Caller): TenantRendering {
  let refused: { claim: string; reason: string } | undefined;
  const rendered = template.replace(REFERENCE, (_whole, name: string) => {
    const value = claimValue(caller, name);
    const reason = value === undefined ? 'is missing, empty or a list' : claimRefusal(value);
    if (reason !== undefined) refused ??= { claim: name, reason };
    return value ?? '';
  });
  return refused === undefined ? { tenant: `policy:${rendered}` } : { refused };
}
