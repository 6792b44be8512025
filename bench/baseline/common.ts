/**
 * What a team would write without this project: the shared bits of the two baseline
 * handlers. Keys come from SSM through Powertools Parameters (decrypted, JSON, cached like
 * ours), the vendor is called through the official Alibaba Cloud SDK clients, and the answer
 * is a JSON body shaped like ours over API Gateway HTTP API (payload 2.0).
 *
 * devDependencies only; never deployed. Built by bench/run.mjs with scripts/build.mjs.
 */
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

export interface AliyunKeys {
  accessKeyId: string;
  accessKeySecret: string;
}

const KEYS_PARAMETER = process.env.ALIYUN_KEYS_PARAMETER || '/cloud-token-broker/dev/keys/aliyun';
/** Same lifetime as ours: KEYS_CACHE_SECONDS, default 300. */
const KEYS_MAX_AGE = Number(process.env.KEYS_CACHE_SECONDS || 300);

export async function aliyunKeys(): Promise<AliyunKeys> {
  const keys = await getParameter<AliyunKeys>(KEYS_PARAMETER, { decrypt: true, transform: 'json', maxAge: KEYS_MAX_AGE });
  if (!keys || typeof keys.accessKeyId !== 'string' || typeof keys.accessKeySecret !== 'string') {
    throw new HttpError(503, 'KeysUnavailable', 'The aliyun master key could not be read from SSM.');
  }
  return keys;
}

/** The SDK takes a protocol and a host[:port] apart: split a base URL such as `http://127.0.0.1:PORT`. */
export function sdkEndpoint(baseUrl: string): { protocol: string; endpoint: string } {
  const url = new URL(baseUrl);
  return { protocol: url.protocol.replace(':', ''), endpoint: url.host };
}

/** One SDK client per key pair, built on first use and kept while the keys do not change. */
export function clientCache<C>(make: (keys: AliyunKeys) => C): (keys: AliyunKeys) => C {
  let held: { id: string; secret: string; client: C } | undefined;
  return (keys) => {
    if (!held || held.id !== keys.accessKeyId || held.secret !== keys.accessKeySecret) {
      held = { id: keys.accessKeyId, secret: keys.accessKeySecret, client: make(keys) };
    }
    return held.client;
  };
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly vendorCode?: string,
  ) {
    super(message);
  }
}

const HEADERS = {
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'X-Content-Type-Options': 'nosniff',
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
};

function answer(status: number, body: unknown, requestId: string): APIGatewayProxyStructuredResultV2 {
  return { statusCode: status, headers: { ...HEADERS, 'X-Request-Id': requestId }, body: JSON.stringify(body) };
}

export function jsonBody(event: APIGatewayProxyEventV2): Record<string, unknown> {
  if (event.requestContext?.http?.method !== 'POST') throw new HttpError(400, 'InvalidRequest', 'Use POST.');
  try {
    const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
    const body: unknown = JSON.parse(text);
    if (body !== null && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new HttpError(400, 'InvalidRequest', 'The body must be a JSON object.');
}

/** An SDK error (tea/darabonba ResponseError) carries the vendor's status and Code. */
interface SdkError {
  code?: string;
  statusCode?: number;
  data?: { statusCode?: number; RequestId?: string };
}

export function sdkFailure(thrown: unknown): HttpError {
  if (thrown instanceof HttpError) return thrown;
  const error = thrown as SdkError;
  const status = error?.statusCode ?? error?.data?.statusCode;
  const vendorCode = typeof error?.code === 'string' ? error.code : undefined;
  if (status === 403) return new HttpError(403, 'VendorAccessDenied', 'The vendor refused the request.', vendorCode);
  if (status === 404) return new HttpError(404, 'VendorNotFound', 'The vendor says the resource does not exist.', vendorCode);
  if (status === 429 || vendorCode?.startsWith('Throttling'))
    return new HttpError(429, 'Throttled', 'The vendor is throttling requests.', vendorCode);
  if (status !== undefined && status >= 400 && status < 500)
    return new HttpError(422, 'VendorRejected', 'The vendor rejected the request.', vendorCode);
  return new HttpError(502, 'VendorError', 'The vendor failed.', vendorCode);
}

/** Wraps a body handler: JSON in, docs/contracts.md-like JSON out, errors as `{error: {...}}`. */
export function httpHandler(
  run: (body: Record<string, unknown>) => Promise<Record<string, unknown>>,
): (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2> {
  return async (event, context) => {
    const requestId = context.awsRequestId;
    try {
      const result = await run(jsonBody(event));
      return answer(200, { ...result, requestId }, requestId);
    } catch (thrown) {
      const error = sdkFailure(thrown);
      const body = { error: { code: error.code, message: error.message, vendorCode: error.vendorCode, requestId } };
      return answer(error.status, body, requestId);
    }
  };
}
