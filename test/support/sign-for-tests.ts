/**
 * Signs requests in tests, independently of lib/ and of the simulator: Alibaba Cloud with
 * the vendor's own @alicloud/openapi-util, UCloud with node:crypto from the documented rule.
 * Helpers return plain request objects so a test can tamper with them before `send`.
 */
import { createHash, randomUUID } from 'node:crypto';
import openApiUtilModule from '@alicloud/openapi-util';

type OpenApiUtilClass = typeof openApiUtilModule.default;

// A CJS module with `exports.default`: plain Node hands the ESM default import module.exports,
// vitest unwraps it to the class itself. Accept both.
export const OpenApiUtil: OpenApiUtilClass =
  (openApiUtilModule as unknown as { default?: OpenApiUtilClass }).default ?? (openApiUtilModule as unknown as OpenApiUtilClass);

type TeaRequest = Parameters<typeof OpenApiUtil.getAuthorization>[0];

export interface AliyunTestKey {
  accessKeyId: string;
  accessKeySecret: string;
}

export interface UcloudTestKey {
  publicKey: string;
  privateKey: string;
}

export interface TestRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

export interface AliyunTestInput {
  baseUrl: string;
  key: AliyunTestKey;
  action: string;
  version: string;
  /** Operation parameters sent in the query string. */
  query?: Record<string, string>;
  /** Operation parameters sent as an application/x-www-form-urlencoded body. */
  form?: Record<string, string>;
  method?: string;
  nonce?: string;
  /** Overrides the timestamp, e.g. a stale one. */
  timestamp?: string;
}

/** Alibaba percent-encoding (docs/vendors.md): encodeURIComponent plus !'()*. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function encodeParams(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`)
    .join('&');
}

/** `YYYY-MM-DDTHH:mm:ssZ` in UTC. */
export function aliyunTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function freshNonce(): string {
  return randomUUID().replaceAll('-', '');
}

function withQuery(baseUrl: string, query: Record<string, string>): string {
  const search = encodeParams(query);
  return `${new URL('/', baseUrl).href}${search ? `?${search}` : ''}`;
}

/** ACS3-HMAC-SHA256 via the vendor's getAuthorization. */
export function signAliyunV3(input: AliyunTestInput): TestRequest {
  const method = input.method ?? 'POST';
  const query = input.query ?? {};
  const body = input.form ? encodeParams(input.form) : '';
  const headers: Record<string, string> = {
    host: new URL(input.baseUrl).host,
    'x-acs-action': input.action,
    'x-acs-version': input.version,
    'x-acs-date': input.timestamp ?? aliyunTimestamp(),
    'x-acs-signature-nonce': input.nonce ?? freshNonce(),
    'x-acs-content-sha256': createHash('sha256').update(body).digest('hex'),
    ...(input.form && { 'content-type': 'application/x-www-form-urlencoded' }),
  };
  const request = { pathname: '/', method, query, headers } as unknown as TeaRequest;
  const authorization = OpenApiUtil.getAuthorization(
    request,
    'ACS3-HMAC-SHA256',
    headers['x-acs-content-sha256']!,
    input.key.accessKeyId,
    input.key.accessKeySecret,
  );
  // fetch sets Host from the URL, to the same value signed above.
  const { host: _host, ...sent } = headers;
  return { url: withQuery(input.baseUrl, query), method, headers: { ...sent, authorization }, ...(input.form && { body }) };
}

/** HMAC-SHA1 (RPC, SignatureVersion 1.0) via the vendor's getRPCSignature. */
export function signAliyunRpc(input: AliyunTestInput): TestRequest {
  const method = input.method ?? 'POST';
  const common: Record<string, string> = {
    Action: input.action,
    Version: input.version,
    Format: 'JSON',
    AccessKeyId: input.key.accessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: input.nonce ?? freshNonce(),
    Timestamp: input.timestamp ?? aliyunTimestamp(),
  };
  const query = { ...common, ...input.query };
  const signature = OpenApiUtil.getRPCSignature({ ...query, ...input.form }, method, input.key.accessKeySecret);
  return {
    url: withQuery(input.baseUrl, { ...query, Signature: signature }),
    method,
    headers: input.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
    ...(input.form && { body: encodeParams(input.form) }),
  };
}

/** UCloud's rule: names in byte order, name+value with no separators, private key, SHA-1 hex. */
export function ucloudSignature(params: Record<string, string | number | boolean>, privateKey: string): string {
  const names = Object.keys(params)
    .filter((name) => name !== 'Signature')
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const text = names.map((name) => `${name}${String(params[name])}`).join('');
  return createHash('sha1')
    .update(text + privateKey, 'utf8')
    .digest('hex');
}

export interface UcloudTestInput {
  baseUrl: string;
  key: UcloudTestKey;
  /** Action and operation parameters; PublicKey and Signature are added. */
  params: Record<string, string | number | boolean>;
  /** POST with a JSON body (the official JS SDK) or GET with a query. Default POST. */
  method?: 'POST' | 'GET';
}

export function signUcloud(input: UcloudTestInput): TestRequest {
  const params = { ...input.params, PublicKey: input.key.publicKey };
  const signed = { ...params, Signature: ucloudSignature(params, input.key.privateKey) };
  if (input.method === 'GET') {
    const text = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k, String(v)]));
    return { url: withQuery(input.baseUrl, text), method: 'GET', headers: {} };
  }
  return {
    url: new URL('/', input.baseUrl).href,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(signed),
  };
}

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: any;
}

export async function send(request: TestRequest, signal?: AbortSignal): Promise<TestResponse> {
  const response = await fetch(request.url, {
    method: request.method,
    headers: request.headers,
    ...(request.body !== undefined && { body: request.body }),
    ...(signal && { signal }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}
