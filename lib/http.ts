import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import { BrokerError } from './errors.js';

export type HttpEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;

/** API Gateway HTTP API (payload 2.0) or REST API (payload 1.0) proxy event. */
export function isHttpEvent(event: unknown): event is HttpEvent {
  if (event === null || typeof event !== 'object') return false;
  const e = event as Record<string, unknown>;
  const context = e.requestContext as Record<string, unknown> | undefined;
  if (typeof context !== 'object' || context === null) return false;
  return (e.version === '2.0' && typeof context.http === 'object') || typeof e.httpMethod === 'string';
}

export function httpMethod(event: HttpEvent): string {
  return 'httpMethod' in event && typeof event.httpMethod === 'string'
    ? event.httpMethod
    : (event as APIGatewayProxyEventV2).requestContext.http.method;
}

function header(event: HttpEvent, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) if (key.toLowerCase() === name) return value ?? undefined;
  return undefined;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** The JSON body of a request; an absent body is `{}` (every field of some operations is optional). */
export function jsonBody(event: HttpEvent): unknown {
  const raw = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  if (raw.trim() === '') return {};
  const type = header(event, 'content-type');
  if (!type || !JSON_TYPE.test(type)) {
    throw new BrokerError('InvalidRequest', 'The body must be JSON, sent with Content-Type: application/json.', {
      details: [{ path: '(headers).content-type', message: 'expected application/json' }],
    });
  }
  try {
    return JSON.parse(raw);
  } catch {
    throw new BrokerError('InvalidRequest', 'The body is not valid JSON.', { details: [{ path: '(body)', message: 'invalid JSON' }] });
  }
}

/** Headers every answer carries, success or error: nothing of it may be cached anywhere. */
export function securityHeaders(requestId: string): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
    'X-Request-Id': requestId,
  };
}

export function httpResponse(
  status: number,
  body: unknown,
  requestId: string,
  extraHeaders: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { ...securityHeaders(requestId), ...extraHeaders },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}
