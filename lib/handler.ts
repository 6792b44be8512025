import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { BrokerError, errorBody, toBrokerError } from './errors.js';
import { routeEvent } from './events.js';
import { httpResponse, isHttpEvent } from './http.js';
import { type Invocation, invocationOf } from './invocation.js';
import type { Operation } from './operation.js';
import type { OperationResult } from './run-operation.js';

/** The exported Lambda handler: a plain `Context`, whatever middy's enriched types say. */
export type BrokerHandler = (event: unknown, context: Context) => Promise<unknown>;

type BrokerContext = Context & { invocation: Invocation };

/**
 * Frames HTTP answers: a result becomes docs/contracts.md's 200 body, any error its error body
 * with the table's status; every answer gets the no-store security headers. Other event
 * sources see plain results and thrown errors, so Lambda counts their failures.
 */
function httpAnswers(): middy.MiddlewareObj<unknown, unknown, Error, BrokerContext> {
  return {
    after: (request) => {
      if (!isHttpEvent(request.event)) return;
      const { requestId } = request.context.invocation;
      const { operation, ...rest } = request.response as OperationResult;
      request.response = httpResponse(200, { operation, requestId, ...rest }, requestId);
      logOutcome(request.context.invocation, 200);
    },
    onError: (request) => {
      if (!isHttpEvent(request.event)) return;
      // The invocation is missing only if the very first step failed.
      const invocation = request.context.invocation;
      const requestId = invocation?.requestId ?? request.context.awsRequestId ?? 'unknown';
      const error = toBrokerError(request.error);
      request.response = httpResponse(
        error.status,
        errorBody(error, requestId),
        requestId,
        error.retryAfterSeconds !== undefined ? { 'Retry-After': String(error.retryAfterSeconds) } : {},
      );
      if (invocation) logOutcome(invocation, error.status, error);
    },
  };
}

/** Every HTTP request ends with one audit record: who asked for what, the decision, the outcome. Never a secret. */
function logOutcome(invocation: Invocation, status: number, error?: BrokerError): void {
  const fields = { status, durationMs: Date.now() - invocation.startedAt };
  const { caller, bodyHash, decision, source, expiresAt } = invocation.audit;
  invocation.logger.audit({
    caller: caller ?? { kind: 'anonymous' },
    bodyHash: bodyHash ?? null,
    decision: decision === undefined ? 'not reached' : decision.allowed ? 'allowed' : 'denied',
    ...(decision?.allowed && { rule: decision.rule ?? 'no policy configured' }),
    outcome: { status, ...(error && { code: error.code }), ...(error?.vendorCode !== undefined && { vendorCode: error.vendorCode }) },
    source: source ?? null,
    expiresAt: expiresAt ?? null,
  });
  if (!error) {
    invocation.logger.info('request answered', fields);
    return;
  }
  const detail = {
    ...fields,
    code: error.code,
    vendorCode: error.vendorCode,
    vendorRequestId: error.vendorRequestId,
    details: error.details,
    ...(error.cause !== undefined && { cause: error.cause }),
  };
  if (error.status >= 500) invocation.logger.error('request failed', detail);
  else invocation.logger.warn('request refused', detail);
}

/** One shared middy stack for every function; a function file only names its operation. */
export function createHandler(op: Operation): BrokerHandler {
  const core = (event: unknown, context: BrokerContext) => routeEvent(op, event, context.invocation);
  return middy<unknown, unknown, Error, BrokerContext>({
    // A safety net behind the vendor call's own deadline checks (a hung SSM read, say).
    timeoutEarlyInMillis: 50,
    timeoutEarlyResponse: () => {
      throw new BrokerError('Timeout', 'The function deadline passed before an answer was ready.');
    },
  })
    .before((request) => {
      request.context.invocation = invocationOf(op, request.context);
    })
    .use(httpAnswers())
    .handler(core) as unknown as BrokerHandler;
}
