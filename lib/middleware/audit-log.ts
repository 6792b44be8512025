import type middy from '@middy/core';
import { callerForAudit, callerOf } from '../caller.js';
import { type BrokerError, toBrokerError } from '../errors.js';
import type { HttpEvent } from './http-json-body.js';
import type { BrokerContext, Invocation } from './invocation-context.js';

/**
 * One audit record per HTTP request: who asked for what, the policy's decision, where the
 * answer came from, and the outcome. Never a secret, never a body value (a hash names the
 * body). A failure also gets a warn or error line with its cause, for the operator.
 */
export function auditLog(): middy.MiddlewareObj<HttpEvent, unknown, Error, BrokerContext> {
  return {
    before: (request) => {
      request.context.invocation.audit.caller = callerForAudit(callerOf(request.event));
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
  const { caller, bodyHash, decision, source, expiresAt } = invocation.audit;
  invocation.logger.audit({
    caller: caller ?? { kind: 'anonymous' },
    bodyHash: bodyHash ?? null,
    decision: decision === undefined ? 'not reached' : decision.allowed ? 'allowed' : 'denied',
    ...(decision?.allowed && { rule: decision.rule ?? 'no policy configured' }),
    outcome: { status, ...(error && { code: error.code }), ...(error?.vendorCode !== undefined && { vendorCode: error.vendorCode }) },
    source: source ?? null,
    expiresAt: expiresAt ?? null,
    durationMs: Date.now() - invocation.startedAt,
  });
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
