/**
 * The `RoleSessionName` of an STS AssumeRole call, derived from who asked, so the vendor's
 * own audit trail names the caller (docs/contracts.md, "Session policies").
 * @module
 */
import { createHash } from 'node:crypto';
import { type Caller, callerIdentity } from './caller.js';

/**
 * What both vendors take: Alibaba Cloud letters, digits and `. @ - _`, 2 to 64 characters;
 * Tencent Cloud letters, digits and `= , . @ _ -`, 2 to 128. The intersection, and the
 * shorter length.
 */
export const SESSION_NAME = /^[\w.@-]{2,64}$/;
const MAX_LENGTH = 64;
/** Runs of characters a session name may not hold; each run becomes one `_`. */
const NOT_ALLOWED = /[^\w.@-]+/g;
/** Hex characters of the hash suffix: 40 bits, so distinct callers' names collide only by chance. */
const HASH_LENGTH = 10;

/** Names a caller of another kind (or none) is given: a JWT subject equal to one is never sent as it is. */
const RESERVED = new Set(['anonymous', 'jwt', 'iam']);
/** The shape of a name this module hashed. */
const HASHED = new RegExp(`-[0-9a-f]{${HASH_LENGTH}}$`);

/**
 * A caller as a readable name, and the whole identity that name stands for (callerIdentity:
 * kind, and a JWT's issuer with its subject). Only the anonymous caller's name is its whole
 * identity; every other name gets the identity's hash.
 */
function whoAsked(caller: Caller): { readable: string; identity: string } {
  if (caller.kind === 'anonymous') return { readable: 'anonymous', identity: 'anonymous' };
  if (caller.kind === 'jwt') {
    const subject = caller.subject ?? 'jwt';
    // A subject alone is the whole identity only without an issuer, and when it is no reserved name.
    // Nor one shaped like a hashed name (`<name>-<10 hex>`), which it could be chosen to copy.
    const whole =
      caller.issuer === undefined && caller.subject !== undefined && !RESERVED.has(subject.toLowerCase()) && !HASHED.test(subject);
    return { readable: subject, identity: whole ? subject : callerIdentity(caller) };
  }
  return { readable: principalName(caller.principal), identity: caller.principal };
}

/**
 * An IAM principal as people name it: `role@session` for an assumed role, the user name for
 * a user (`arn:aws:iam::1:user/path/alice` → `alice`), else the ARN's last segment.
 */
function principalName(arn: string): string {
  const resource = arn.split(':').slice(5).join(':');
  const [type, ...rest] = resource.split('/');
  if (type === 'assumed-role' && rest.length >= 2) return `${rest[0]}@${rest.slice(1).join('/')}`;
  return rest.length > 0 ? rest[rest.length - 1]! : resource || arn;
}

const hashOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, HASH_LENGTH);

/**
 * The caller's `RoleSessionName`: the JWT subject, the IAM principal's role and session (or
 * user name), or `anonymous`. Kept as it is when it is the whole identity and already valid
 * (a JWT subject of no issuer, not a reserved name); otherwise sanitised, cut, and suffixed
 * with a hash of the whole identity (a JWT's issuer and subject), so callers that differ only
 * in what was cut or replaced, or only in their issuer, still get different names. Always
 * matches SESSION_NAME.
 */
export function roleSessionName(caller: Caller): string {
  const { readable, identity } = whoAsked(caller);
  if (readable === identity && SESSION_NAME.test(readable)) return readable;
  const sanitised = readable.replace(NOT_ALLOWED, '_');
  // The suffix alone is 11 characters: never too short.
  // The kind is hashed too: an IAM principal and a JWT subject of the same text are different callers.
  return `${sanitised.slice(0, MAX_LENGTH - HASH_LENGTH - 1)}-${hashOf(`${caller.kind}:${identity}`)}`;
}
