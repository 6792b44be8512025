import { DEFAULT_ACCOUNT } from '../../access/account.js';
import type { AccountRole } from '../../access/assumed-role.js';
import { type Caller, callerIdentity } from '../../access/caller.js';
import { authorize } from '../../access/policy.js';
import { credentialsServed } from '../../core/metrics.js';
import type { HttpTrigger, LambdaHandler, Operation } from '../../spec/operation.js';
import { bodyKey, scopedBodyKey } from '../../state/body-key.js';
import { readKeys, requireAccount } from '../../vendor/keys.js';
import { cachedCredentials } from '../credentials.js';
import { auditLog } from '../middleware/audit-log.js';
import { httpAnswers } from '../middleware/http-answers.js';
import { type HttpEvent, httpJsonBody } from '../middleware/http-json-body.js';
import { type Invocation, invocationCaller } from '../middleware/invocation-context.js';
import { type OperationResult, runOperation, validateBody } from '../run-operation.js';
import { triggerStack, withInvocation } from './stack.js';

/** Bodies above this are refused (413) before they are parsed. */
export const MAX_BODY_BYTES = 16 * 1024;

/** API Gateway HTTP API (payload 2.0) or REST API (payload 1.0) proxy event. */
export function isHttpEvent(event: unknown): event is HttpEvent {
  if (event === null || typeof event !== 'object') return false;
  const e = event as Record<string, unknown>;
  const context = e.requestContext as Record<string, unknown> | undefined;
  if (typeof context !== 'object' || context === null) return false;
  return (e.version === '2.0' && typeof context.http === 'object') || typeof e.httpMethod === 'string';
}

/**
 * HTTPS callers: the body validated, the caller policy checked before any key is read,
 * then the answer served from the token cache where the operation returns credentials.
 */
async function serveHttp(op: Operation, event: HttpEvent, invocation: Invocation): Promise<OperationResult> {
  const { audit } = invocation;
  const body = validateBody(op, event.parsedBody);
  audit.bodyHash = bodyKey(body);
  // Denied until the policy says otherwise, so a refusal is recorded as one.
  audit.decision = { allowed: false };
  const caller: Caller = invocation.caller ?? { kind: 'anonymous' };
  const decision = await authorize(op.name, caller, body, invocation.logger, { assumesRole: op.assumesRole !== undefined });
  // The rule's account: one this deployment does not have is refused (a denial) before any key is read.
  const account = decision.account ?? DEFAULT_ACCOUNT;
  requireAccount(op.api, account);
  audit.decision = { allowed: true, ...(decision.rule !== undefined && { rule: decision.rule }) };
  if (account !== DEFAULT_ACCOUNT) {
    audit.account = account;
    invocation.metrics.account = account;
  }
  // An STS operation's role, ExternalId and lifetime live in its account's key parameter (only those are taken).
  let accountRole: AccountRole | undefined;
  if (op.assumesRole !== undefined) {
    const { stsRoleArn, externalId, maxSessionSeconds } = (await readKeys(op.api, account)) as AccountRole;
    accountRole = { name: account, stsRoleArn, externalId, maxSessionSeconds };
  }
  const role = op.assumesRole?.resolve(op.name, caller, decision, body, accountRole);
  if (role !== undefined) {
    audit.session = {
      name: role.sessionName,
      sourceIdentity: role.sourceIdentity,
      ...(role.sessionPolicy !== undefined && { policyHash: bodyKey({ policy: role.sessionPolicy }) }),
      // The rule's explicit opt-out, on every line it serves.
      ...(decision.unscoped === true && decision.rule !== undefined && { sessionPolicy: 'none', unscopedByRule: decision.rule }),
    };
  }
  // The caller's share of the operation's rate budget: the policy's tenant, else its own identity.
  const tenant = decision.tenant ?? callerIdentity(caller);
  const scoped = { ...invocation, tenant, account, ...(role !== undefined && { role }) };
  // Set before the call so a failed vendor call is still recorded as one.
  audit.source = 'vendor';
  if (op.expiresAt === undefined) {
    const result = await runOperation(op, body, scoped);
    if (result.vendorRequestId !== undefined) audit.vendorRequestId = result.vendorRequestId;
    return result;
  }
  // Two callers share credentials only when their scope is the same as well as their body;
  // the duration asked is left out of the key, and checked against what is cached instead.
  const hash = role === undefined ? scopedBodyKey(body, { account }) : scopedBodyKey(role.cacheBody, role);
  const { result, source, left } = await cachedCredentials(op, body, scoped, hash, role?.minimumLeftMs);
  audit.source = source;
  if (result.vendorRequestId !== undefined) audit.vendorRequestId = result.vendorRequestId;
  if (result.expiresAt !== undefined) {
    audit.expiresAt = result.expiresAt;
    credentialsServed(invocation.metrics, left, result.expiresAt);
  }
  return result;
}

/** The HTTP trigger: answers framed with security headers, one audit record, a size-capped JSON body. */
export function http(): HttpTrigger {
  return {
    kind: 'http',
    accepts: isHttpEvent,
    handler: (op) =>
      triggerStack<HttpEvent>(op)
        .use(httpAnswers())
        .use(invocationCaller())
        .use(auditLog())
        .use(httpJsonBody({ maxBytes: MAX_BODY_BYTES }))
        .handler(withInvocation((event: HttpEvent, invocation) => serveHttp(op, event, invocation))) as unknown as LambdaHandler,
  };
}
