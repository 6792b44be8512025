/**
 * What an STS operation (a spec with `assumesRole`) sends beyond its body: the role the
 * deployment configured for its route, never one the caller names; a RoleSessionName derived
 * from the caller; and the session policy its caller-policy rule rendered (docs/contracts.md,
 * "Session policies").
 * @module
 */
import type { Caller } from './caller.js';
import { readConfig } from './config.js';
import { BrokerError } from './errors.js';
import type { Operation } from './operation.js';
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

/** The role `op` assumes for `caller` as `decision` allows it; undefined for an operation that assumes none. */
export function assumedRole(op: Operation, caller: Caller, decision: Allowed): AssumedRole | undefined {
  if (op.assumesRole === undefined) return undefined;
  const variable = op.assumesRole.roleArn;
  const roleArn = readConfig()[variable];
  if (roleArn === undefined) {
    throw new BrokerError('ConfigurationError', `${variable} is not set: this deployment names no role for ${op.name}.`);
  }
  return {
    roleArn,
    sessionName: roleSessionName(caller),
    ...(decision.sessionPolicy !== undefined && { sessionPolicy: decision.sessionPolicy }),
  };
}
