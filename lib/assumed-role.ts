/**
 * What an STS operation (a spec with `assumesRole`) sends beyond its body: the role the
 * deployment configured for its route, never one the caller names; a RoleSessionName derived
 * from the caller; and the session policy its caller-policy rule rendered (docs/contracts.md,
 * "Session policies").
 * @module
 */
import type { Caller } from './caller.js';
import { type RoleArnVariable, readConfig } from './config.js';
import { BrokerError } from './errors.js';
import type { Allowed } from './policy.js';
import { roleSessionName } from './session-name.js';

/** The role an STS call assumes, for whom, and within what. */
export interface AssumedRole {
  roleArn: string;
  /** RoleSessionName: who asked (lib/session-name.ts). */
  sessionName: string;
  /** The rendered session policy (compact JSON), sent as `Policy`; absent when the rule has none. */
  sessionPolicy?: string;
}

/** What a spec's `assumesRole` holds: the variable naming the role, and how to fill in the rest for a caller. */
export interface RoleAssumption {
  roleArn: RoleArnVariable;
  /** The role, session name and session policy for `caller`, as `decision` allows it. */
  resolve(operation: string, caller: Caller, decision: Allowed): AssumedRole;
}

/**
 * An operation assumes the role named by `roleArn` for its callers. Made in the spec (which
 * imports this module), so a function that assumes no role bundles none of this.
 */
export function assumesRole(roleArn: RoleArnVariable): RoleAssumption {
  return {
    roleArn,
    resolve(operation, caller, decision) {
      const arn = readConfig()[roleArn];
      if (arn === undefined) {
        throw new BrokerError('ConfigurationError', `${roleArn} is not set: this deployment names no role for ${operation}.`);
      }
      return {
        roleArn: arn,
        sessionName: roleSessionName(caller),
        ...(decision.sessionPolicy !== undefined && { sessionPolicy: decision.sessionPolicy }),
      };
    },
  };
}
