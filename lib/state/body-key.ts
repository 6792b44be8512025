import { createHash } from 'node:crypto';

/** Sorted keys, so `{a, b}` and `{b, a}` are one body. Only validated (shallow) bodies come here. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, inner]) => `${JSON.stringify(k)}:${canonicalJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A hash of the canonical body: covers every field, and says nothing of the body in a log or a key name. */
export function bodyKey(body: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex').slice(0, 32);
}

/** What, beyond the body, decides which credentials an STS call returns: its role, `Policy` and `RoleSessionName`. */
export interface CallerScope {
  /**
   * The role assumed (lib/access/assumed-role.ts). It comes from configuration, not the caller, but a
   * deployment that changes it must not be served the old role's credentials from the table.
   */
  roleArn?: string;
  /** The rendered session policy (Decision.sessionPolicy). */
  sessionPolicy?: string;
  /** The caller's RoleSessionName (lib/access/session-name.ts). */
  sessionName?: string;
  /**
   * Who the caller is in full (lib/access/caller.ts callerIdentity: a JWT's issuer and subject): a
   * session name is cut and hashed to 40 bits, this is not.
   */
  caller?: string;
  /** The vendor account (lib/access/account.ts): two accounts never share credentials; `default` adds nothing to the key. */
  account?: string;
}

/**
 * The token-cache key of a body asked for within a caller's scope: bodyKey of the body
 * alone when there is no scope, so every existing key stays as it is; else a hash of body and
 * scope together, so two callers never share credentials of different reach or name. The
 * `#` field names can be no body's: every request schema is strict, its fields lowerCamelCase.
 */
export function scopedBodyKey(body: Record<string, unknown>, scope: CallerScope = {}): string {
  const { roleArn, sessionPolicy, sessionName, caller } = scope;
  // `default` is left out, so every key of a deployment without accounts stays as it was.
  const account = scope.account === 'default' ? undefined : scope.account;
  if (roleArn === undefined && sessionPolicy === undefined && sessionName === undefined && caller === undefined && account === undefined) {
    return bodyKey(body);
  }
  return bodyKey({
    '#body': body,
    '#roleArn': roleArn,
    '#sessionPolicy': sessionPolicy,
    '#sessionName': sessionName,
    '#caller': caller,
    '#account': account,
  });
}
