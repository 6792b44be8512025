import type middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { BrokerError } from '../../core/errors.js';
import type { BrokerContext } from './invocation-context.js';

/** An API Gateway proxy event, with the body this middleware parsed. */
export type HttpEvent = (APIGatewayProxyEventV2 | APIGatewayProxyEvent) & { parsedBody?: unknown };

/** Options of httpJsonBody. */
export interface HttpJsonBodyOptions {
  /** Bodies larger than this (bytes, after base64 decoding) are refused with 413 before parsing. */
  maxBytes: number;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** The request method, from either payload version. */
export function httpMethod(event: HttpEvent): string {
  return 'httpMethod' in event && typeof event.httpMethod === 'string'
    ? event.httpMethod
    : (event as APIGatewayProxyEventV2).requestContext.http.method;
}

/** A request header by lower-case name, whatever case the client sent. */
export function header(event: HttpEvent, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) if (key.toLowerCase() === name) return value ?? undefined;
  return undefined;
}

/**
 * POST only (every answer carries secrets, which must stay out of URLs), a JSON content
 * type, at most `maxBytes`, then parsed into `event.parsedBody`. An absent body is `{}`:
 * every field of some operations is optional.
 */
export function httpJsonBody({ maxBytes }: HttpJsonBodyOptions): middy.MiddlewareObj<HttpEvent, unknown, Error, BrokerContext> {
  if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new TypeError('httpJsonBody: maxBytes must be a positive integer');
  return {
    before: (request) => {
      const { event } = request;
      if (httpMethod(event) !== 'POST') {
        throw new BrokerError('InvalidRequest', 'Use POST: every answer carries secrets, which must stay out of URLs.');
      }
      const text = event.body ?? '';
      // A base64 body's decoded size follows from its length less its padding: measured, not decoded.
      const bytes = Buffer.byteLength(text, event.isBase64Encoded ? 'base64' : 'utf8');
      if (bytes > maxBytes) {
        throw new BrokerError('PayloadTooLarge', `The body is larger than ${maxBytes} bytes.`);
      }
      const raw = event.isBase64Encoded ? Buffer.from(text, 'base64').toString('utf8') : text;
      if (raw.trim() === '') {
        event.parsedBody = {};
        return;
      }
      const type = header(event, 'content-type');
      if (!type || !JSON_TYPE.test(type)) {
        throw new BrokerError('InvalidRequest', 'The body must be JSON, sent with Content-Type: application/json.', {
          details: [{ path: '(headers).content-type', message: 'expected application/json' }],
        });
      }
      try {
        event.parsedBody = JSON.parse(raw);
      } catch {
        throw new BrokerError('InvalidRequest', 'The body is not valid JSON.', { details: [{ path: '(body)', message: 'invalid JSON' }] });
      }
    },
  };
}
