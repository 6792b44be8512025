import type middy from '@middy/core';
import { callerForAudit } from '../../access/caller.js';
import { type BrokerError, toBrokerError } from '../../core/errors.js';
import { countFault, metricMembers, servedFrom } from '../../core/metrics.js';
import type { HttpEvent } from './http-json-body.js';
import type { BrokerContext, Invocation } from './invocation-context.js';

/**
 * One audit record per HTTP request: who asked for what, the policy's decision, where the
 * answer came from, the outcome, the request's trace and vendor request ids, and the
 * request's metrics (EMF, lib/core/metrics.ts). Never a secret, never a body value (a hash names
 * the body). A failure also gets a warn or error line with its cause, for the operator.
 * The caller is the one invocationCaller put on the invocation (anonymous without it).
 */
export function auditLog(): middy.MiddlewareObj<HttpEvent, unknown, Error, BrokerContext> {
  return {
    before: (request) => {
      const { invocation } = request.context;
      if (invocation.caller !== undefined) invocation.audit.caller = callerForAudit(invocation.caller);
    },
    after: (request) => record(request.context.invocation, 200),
    onError: (request) => {
      const invocation = request.context.invocation;
      // Missing only if the very first step failed; httpAnswers still answers.
      if (!invocation) return;
      const error = toBrokerError(request.error);
      record(invocation, error.status, error);
    },
  };
}

function record(invocation: Invocation, status: number, error?: BrokerError): void {
  const { caller, bodyHash, decision, session, source, expiresAt, vendorRequestId, account } = invocation.audit;
  const { metrics } = invocation;
  metrics.count('Requests');
  if (!error && source !== undefined) servedFrom(metrics, source);
  // Denied until the policy decides: only a Forbidden answer is the policy's refusal.
  if (decision?.allowed === false && error?.code === 'Forbidden') metrics.count('PolicyDenials');
  countFault(metrics, error);
  invocation.logger.audit(
    {
      caller: caller ?? { kind: 'anonymous' },
      bodyHash: bodyHash ?? null,
      decision: decision === undefined ? 'not reached' : decision.allowed ? 'allowed' : 'denied',
      ...(decision?.allowed && { rule: decision.rule ?? 'no policy configured' }),
      ...(account !== undefined && { account }),
      ...(session !== undefined && { session }),
      outcome: { status, ...(error && { code: error.code }), ...(error?.vendorCode !== undefined && { vendorCode: error.vendorCode }) },
      source: source ?? null,
      expiresAt: expiresAt ?? null,
      vendorRequestId: vendorRequestId ?? error?.vendorRequestId ?? null,
      traceId: invocation.traceId ?? null,
      durationMs: Date.now() - invocation.startedAt,
    },
    metricMembers(invocation.operation, metrics, { code: error?.code ?? 'OK' }),
  );
  if (!error) return;
  const detail = {
    status,
    code: error.code,
    vendorCode: error.vendorCode,
    vendorRequestId: error.vendorRequestId,
    // Counts, not lists: a hostile body's thousand unknown fields stay out of the logs.
    ...(error.details !== undefined && { detailCount: error.details.length }),
    ...(error.cause !== undefined && { cause: error.cause }),
  };
  if (status >= 500) invocation.logger.error('request failed', detail);
  else invocation.logger.warn('request refused', detail);
}
