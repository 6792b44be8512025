/**
 * Signs requests in tests, independently of lib/ and of the simulator: Alibaba Cloud with
 * the vendor's own @alicloud/openapi-util, UCloud and Tencent Cloud with node:crypto from
 * the documented rules (Tencent's is checked on the vendor's example in test/sim).
 * Helpers return plain request objects so a test can tamper with them before `send`.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
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

export interface TencentTestKey {
  secretId: string;
  secretKey: string;
}

export interface TencentTestInput {
  baseUrl: string;
  key: TencentTestKey;
  action: string;
  version: string;
  /** The JSON body's object, or the body text itself. */
  params: Record<string, unknown> | string;
  /** X-TC-Region; absent when undefined. Default ap-guangzhou. */
  region?: string | undefined;
  /** X-TC-Timestamp, unix seconds; default now. */
  timestamp?: number;
  /** The credential scope's product. Default sts. */
  service?: string;
  /** Overrides the credential scope's date (default: the UTC date of the timestamp). */
  date?: string;
  contentType?: string;
  /** Headers sent and signed besides content-type and host (e.g. X-TC-Action). */
  signedExtra?: Record<string, string>;
}

/** TC3-HMAC-SHA256 from the vendor's "Signature v3" page; the host signed is the URL's host name without a port. */
export function tc3SignatureForTests(input: {
  secretKey: string;
  canonicalHeaders: Record<string, string>;
  body: string;
  timestamp: number;
  date: string;
  service: string;
}): { signature: string; signedHeaders: string } {
  const hex = (text: string) => createHash('sha256').update(text).digest('hex');
  const names = Object.keys(input.canonicalHeaders).sort();
  const headers = names.map((name) => `${name}:${input.canonicalHeaders[name]!.trim().toLowerCase()}\n`).join('');
  const signedHeaders = names.join(';');
  const canonical = ['POST', '/', '', headers, signedHeaders, hex(input.body)].join('\n');
  const scope = `${input.date}/${input.service}/tc3_request`;
  const stringToSign = ['TC3-HMAC-SHA256', String(input.timestamp), scope, hex(canonical)].join('\n');
  const mac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const key = mac(mac(mac(`TC3${input.secretKey}`, input.date), input.service), 'tc3_request');
  return { signature: createHmac('sha256', key).update(stringToSign).digest('hex'), signedHeaders };
}

/** A Tencent Cloud API 3.0 POST, signed with TC3-HMAC-SHA256. */
export function signTencent(input: TencentTestInput): TestRequest {
  const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
  const date = input.date ?? new Date(timestamp * 1000).toISOString().slice(0, 10);
  const service = input.service ?? 'sts';
  const contentType = input.contentType ?? 'application/json; charset=utf-8';
  const body = typeof input.params === 'string' ? input.params : JSON.stringify(input.params);
  const extra = Object.fromEntries(Object.entries(input.signedExtra ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
  const { signature, signedHeaders } = tc3SignatureForTests({
    secretKey: input.key.secretKey,
    canonicalHeaders: { 'content-type': contentType, host: new URL(input.baseUrl).hostname, ...extra },
    body,
    timestamp,
    date,
    service,
  });
  const region = 'region' in input ? input.region : 'ap-guangzhou';
  return {
    url: new URL('/', input.baseUrl).href,
    method: 'POST',
    headers: {
      'content-type': contentType,
      'x-tc-action': input.action,
      'x-tc-version': input.version,
      'x-tc-timestamp': String(timestamp),
      ...(region !== undefined && { 'x-tc-region': region }),
      ...extra,
      authorization: `TC3-HMAC-SHA256 Credential=${input.key.secretId}/${date}/${service}/tc3_request, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
    body,
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
