/**
 * A typed client of the broker for apps that cannot run the credentials agent: one POST per call,
 * authenticated by `authorize` (client/auth.ts), the answer checked for the fields every route
 * answers with, and any failure thrown as a `BrokerCallError` whose message carries no secret.
 * @module
 */
import * as z from 'zod/mini';
import { authorize, type BrokerAuth } from './auth.js';
import type { Answer, RequestBody, RoutePath } from './broker-api.js';

/** Where the broker is and how to authenticate to it. */
export interface BrokerClientOptions {
  /** Base URL of the broker's API: https, or http on a loopback host (a local `npm start`). */
  broker: string;
  auth: BrokerAuth;
  /** Per call, default 10 s. */
  timeoutMs?: number;
}

/** A broker client: `post` one route, typed by openapi.json. */
export interface BrokerClient {
  /** POSTs `body` to `path`; resolves with the 200 answer, or throws a `BrokerCallError`. */
  post<P extends RoutePath>(path: P, body: RequestBody<P>): Promise<Answer<P>>;
}

/** A failed broker call: its status, the broker's error code, and when to retry if the broker said. */
export class BrokerCallError extends Error {
  override readonly name = 'BrokerCallError';
  /** The HTTP status, when the broker answered. */
  readonly status?: number;
  /** The broker's error code (`Forbidden`, `Throttled`, `VendorError`, …), when it sent one. */
  readonly code?: string;
  /** From `Retry-After`, when the broker sent one. */
  readonly retryAfterMs?: number;
  /** The broker's request id, for its logs. */
  readonly requestId?: string;

  constructor(message: string, details: { status?: number; code?: string; retryAfterMs?: number; requestId?: string } = {}) {
    super(message);
    this.status = details.status;
    this.code = details.code;
    this.retryAfterMs = details.retryAfterMs;
    this.requestId = details.requestId;
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;
// An error message is the broker's own (secret-free by contract) but still capped: a proxy in between may answer anything.
const MAX_MESSAGE = 200;

/** The fields every answer has (docs/contracts.md, "Answers"); the route's own `data` is typed by openapi.json. */
export const commonAnswer = z.looseObject({
  operation: z.string(),
  requestId: z.string(),
  expiresAt: z.optional(z.iso.datetime({ offset: true })),
  refreshAfter: z.optional(z.iso.datetime({ offset: true })),
  data: z.nullable(z.record(z.string(), z.unknown())),
});

const errorAnswer = z.object({
  error: z.object({ code: z.string(), message: z.optional(z.string()), requestId: z.optional(z.string()) }),
});

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Checks the base URL: https anywhere, plain http only on loopback (credentials never cross a network in clear). */
function baseUrl(broker: string): string {
  let url: URL;
  try {
    url = new URL(broker);
  } catch {
    throw new Error('broker must be an absolute URL (https://…, or http://127.0.0.1:… for a local broker)');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new Error(`broker must be https (plain http only on loopback), got ${url.protocol}//${url.host}`);
  }
  if (url.search || url.hash || url.username || url.password) throw new Error('broker must be a base URL without query, fragment or user');
  return url.href.replace(/\/+$/, '');
}

function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Creates a client of the broker at `options.broker`. */
export function createBrokerClient(options: BrokerClientOptions): BrokerClient {
  const base = baseUrl(options.broker);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    async post(path, body) {
      const request = await authorize(
        { url: `${base}${path}`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) },
        options.auth,
      );
      let response: Response;
      try {
        response = await fetch(request.url, {
          method: request.method,
          headers: request.headers,
          body: request.body,
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'unreachable';
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        throw new BrokerCallError(`broker ${path}: ${reason}${cause ? ` (${cause})` : ''}`);
      }
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (!response.ok) {
        const parsed = errorAnswer.safeParse(json);
        const error = parsed.success ? parsed.data.error : undefined;
        const said = error ? `${error.code}${error.message ? `: ${error.message.slice(0, MAX_MESSAGE)}` : ''}` : 'no broker error body';
        throw new BrokerCallError(`broker ${path} answered ${response.status} ${said}`, {
          status: response.status,
          code: error?.code,
          retryAfterMs: retryAfter(response.headers.get('retry-after')),
          requestId: error?.requestId ?? response.headers.get('x-request-id') ?? undefined,
        });
      }
      const parsed = commonAnswer.safeParse(json);
      if (!parsed.success) {
        // Only the paths of what is wrong: the values may be credentials.
        const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(answer)').join(', ');
        throw new BrokerCallError(`broker ${path} answered 200 with an answer that is not the broker's (${fields})`, {
          status: response.status,
        });
      }
      return parsed.data as Answer<typeof path>;
    },
  };
}
