import type middy from '@middy/core';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { errorBody, toBrokerError } from '../../core/errors.js';
import type { OperationResult } from '../run-operation.js';
import type { BrokerContext } from './invocation-context.js';

/** Headers every answer carries, success or error: nothing of it may be cached anywhere. */
function securityHeaders(requestId: string): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
    'X-Request-Id': requestId,
  };
}

function httpResponse(status: number, body: unknown, requestId: string, extraHeaders: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { ...securityHeaders(requestId), ...extraHeaders },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

/**
 * Frames HTTP answers: a result becomes the 200 body, any error its error body with the
 * error table's status (and `Retry-After` where it has one); every answer gets the
 * no-store security headers. Errors are answered, never rethrown.
 */
export function httpAnswers(): middy.MiddlewareObj<unknown, unknown, Error, BrokerContext> {
  return {
    after: (request) => {
      const { requestId } = request.context.invocation;
      const { operation, ...rest } = request.response as OperationResult;
      request.response = httpResponse(200, { operation, requestId, ...rest }, requestId);
    },
    onError: (request) => {
      const requestId = request.context.invocation?.requestId ?? request.context.awsRequestId ?? 'unknown';
      const error = toBrokerError(request.error);
      const retryAfter: Record<string, string> =
        error.retryAfterSeconds !== undefined ? { 'Retry-After': String(error.retryAfterSeconds) } : {};
      request.response = httpResponse(error.status, errorBody(error, requestId), requestId, retryAfter);
    },
  };
}
