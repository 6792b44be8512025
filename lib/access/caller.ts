/**
 * Who is calling, as the API Gateway authorizer put it on the event: an IAM principal
 * (AWS_IAM authorizer) or the claims of a JWT (JWT authorizer). Without an authorizer
 * the caller is anonymous.
 */
export type Caller =
  | { kind: 'iam'; principal: string; accountId?: string }
  | { kind: 'jwt'; subject?: string; issuer?: string; claims: Record<string, string | string[]> }
  | { kind: 'anonymous' };

type Loose = Record<string, unknown> | undefined;

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** A claim value the policy may read: a string, or a list of strings (numbers and booleans as text). */
function primitiveText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return undefined;
}

/**
 * JWT claims as API Gateway hands them over: strings, numbers, or arrays flattened to "[a b]".
 * Held in a prototype-free object, so no claim name reaches Object.prototype; a claim whose
 * value is an object (or a list holding one) is refused, left out: a rule needing it finds it missing.
 */
function normaliseClaims(claims: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of Object.entries(claims)) {
    if (Array.isArray(value)) {
      const items = value.map(primitiveText);
      if (items.every((item) => item !== undefined)) out[name] = items as string[];
    } else if (typeof value === 'string' && /^\[.*\]$/.test(value)) out[name] = value.slice(1, -1).split(/\s+/).filter(Boolean);
    else {
      const text = primitiveText(value);
      if (text !== undefined) out[name] = text;
    }
  }
  return out;
}

function jwtCaller(claims: Record<string, unknown>): Caller {
  const normalised = normaliseClaims(claims);
  return {
    kind: 'jwt',
    ...(str(claims.sub) !== undefined && { subject: str(claims.sub) }),
    ...(str(claims.iss) !== undefined && { issuer: str(claims.iss) }),
    claims: normalised,
  };
}

/**
 * The caller of an API Gateway request, from whatever its authorizer put on the event's
 * `requestContext` (taken loosely: payload 2.0 and 1.0 put it in different places).
 */
export function callerOf(requestContext: unknown): Caller {
  const context = (requestContext ?? {}) as Record<string, unknown>;
  const authorizer = context.authorizer as Loose;
  // HTTP API (payload 2.0)
  const iam = authorizer?.iam as Loose;
  if (str(iam?.userArn))
    return { kind: 'iam', principal: str(iam!.userArn)!, ...(str(iam!.accountId) && { accountId: str(iam!.accountId) }) };
  const jwt = authorizer?.jwt as Loose;
  if (jwt?.claims && typeof jwt.claims === 'object') return jwtCaller(jwt.claims as Record<string, unknown>);
  // REST API (payload 1.0): IAM identity, or Cognito/JWT claims on the authorizer.
  const identity = context.identity as Loose;
  if (str(identity?.userArn))
    return { kind: 'iam', principal: str(identity!.userArn)!, ...(str(identity!.accountId) && { accountId: str(identity!.accountId) }) };
  if (authorizer?.claims && typeof authorizer.claims === 'object') return jwtCaller(authorizer.claims as Record<string, unknown>);
  return { kind: 'anonymous' };
}

/** The caller as the audit log records it: who, never their whole token. */
export function callerForAudit(caller: Caller): Record<string, string> {
  if (caller.kind === 'iam') return { kind: 'iam', principal: caller.principal };
  if (caller.kind === 'jwt')
    return { kind: 'jwt', ...(caller.subject && { subject: caller.subject }), ...(caller.issuer && { issuer: caller.issuer }) };
  return { kind: 'anonymous' };
}

/**
 * Who the caller is, as one string that no other caller has: the kind, and for a JWT both
 * issuer and subject (two issuers may hand out the same subject), for an IAM caller the whole
 * principal ARN. Part of the STS token-cache key (lib/state/body-key.ts) and of the hashed session name.
 */
export function callerIdentity(caller: Caller): string {
  if (caller.kind === 'jwt') return JSON.stringify(['jwt', caller.issuer ?? null, caller.subject ?? null]);
  if (caller.kind === 'iam') return JSON.stringify(['iam', caller.principal]);
  return JSON.stringify(['anonymous']);
}
