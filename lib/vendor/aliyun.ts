/**
 * Alibaba Cloud: its master key, variables, signers (ACS3-HMAC-SHA256, HMAC-SHA1) and answer
 * classes, in one place (docs/vendors.md, "Alibaba Cloud").
 * @module
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { accountList } from '../access/account.js';
import { baseUrl, keysParameter } from '../core/config.js';
import {
  defineVendor,
  type FailureClass,
  parseJsonObject,
  type ResponseHeaders,
  retryAfterMs,
  type SignedRequest,
  type VendorAdapter,
  type VendorOutcome,
  type VendorParams,
} from './api.js';
import { acs3Authorization, sha256Hex } from './signing/acs3-hmac-sha256.js';
import { rpcSignature } from './signing/hmac-sha1.js';
import { canonicalQuery } from './signing/percent-encode.js';

const aliyunKeysSchema = z.object({
  accessKeyId: z.string().check(z.minLength(1)),
  accessKeySecret: z.string().check(z.minLength(1)),
  /** The account's RAM role for STS AssumeRole (docs/contracts.md, "Accounts"); `default` falls back to ALIYUN_STS_ROLE_ARN. */
  stsRoleArn: z.optional(z.string().check(z.regex(/^acs:ram::\d+:role\/[\w.@+=,-]{1,64}$/))),
  /** STS AssumeRole's ExternalId, as the role's trust policy demands it: 2 to 1,224 characters (the vendor's limit). */
  externalId: z.optional(z.string().check(z.regex(/^[\w+=,.@:/-]{2,1224}$/))),
  /** The role's MaxSessionDuration: the most DurationSeconds asked of STS (900 to 43,200); absent: 3,600. */
  maxSessionSeconds: z.optional(z.int().check(z.minimum(900), z.maximum(43_200))),
});
/** An Alibaba Cloud AccessKey pair. */
export type AliyunKeys = z.infer<typeof aliyunKeysSchema>;

/** What an Alibaba Cloud spec says besides the common fields: RPC style, with the product's API version. */
export interface AliyunSpecFields {
  version: string;
  style: 'RPC';
  /** Where the official SDK puts the operation's parameters. */
  paramsIn: 'query' | 'body';
}

/** The two Alibaba Cloud signature methods (ALIYUN_SIGNATURE). */
export type AliyunSignatureMethod = 'ACS3-HMAC-SHA256' | 'HMAC-SHA1';

/** `YYYY-MM-DDTHH:mm:ssZ`, the only timestamp form both signature methods accept. */
export function aliyunTimestamp(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Alibaba RPC parameters are strings; lists are the caller's business (IMS joins scopes with `;`). */
function stringParams(params: VendorParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(';') : String(value);
  }
  return out;
}

function withQuery(endpoint: string, query: Record<string, string>): string {
  const url = new URL(endpoint);
  url.pathname = '/';
  const search = canonicalQuery(query);
  return `${url.origin}/${search ? `?${search}` : ''}`;
}

const FORM = 'application/x-www-form-urlencoded';

/** A fresh nonce for every attempt: the vendor refuses a repeated one (SignatureNonceUsed). */
const nonce = () => randomUUID().replaceAll('-', '');

/** `host[:port]` of an endpoint, parsed once per endpoint (an instance has one or two). */
const hosts = new Map<string, string>();
function hostOf(endpoint: string): string {
  let host = hosts.get(endpoint);
  if (host === undefined) {
    host = new URL(endpoint).host;
    hosts.set(endpoint, host);
  }
  return host;
}

/** Signs Alibaba Cloud RPC requests with `method` and classifies their answers. */
export function aliyunAdapter(method: AliyunSignatureMethod): VendorAdapter<AliyunKeys, Partial<AliyunSpecFields>> {
  return {
    sign({ endpoint, target, params, keys, now }): SignedRequest {
      const opParams = stringParams(params);
      const inBody = target.paramsIn === 'body' && Object.keys(opParams).length > 0;
      const timestamp = aliyunTimestamp(now);
      if (method === 'HMAC-SHA1') {
        const common: Record<string, string> = {
          Action: target.action,
          Version: target.version ?? '',
          Format: 'JSON',
          AccessKeyId: keys.accessKeyId,
          SignatureMethod: 'HMAC-SHA1',
          SignatureVersion: '1.0',
          SignatureNonce: nonce(),
          Timestamp: timestamp,
        };
        // The signature covers query and form parameters together.
        const signature = rpcSignature('POST', { ...common, ...opParams }, keys.accessKeySecret);
        const query = { ...common, ...(inBody ? {} : opParams), Signature: signature };
        return {
          url: withQuery(endpoint, query),
          method: 'POST',
          headers: { accept: 'application/json', ...(inBody && { 'content-type': FORM }) },
          ...(inBody && { body: canonicalQuery(opParams) }),
        };
      }
      const query = inBody ? {} : opParams;
      const body = inBody ? canonicalQuery(opParams) : '';
      const headers: Record<string, string> = {
        host: hostOf(endpoint),
        'x-acs-action': target.action,
        'x-acs-version': target.version ?? '',
        'x-acs-date': timestamp,
        'x-acs-signature-nonce': nonce(),
        'x-acs-content-sha256': sha256Hex(body),
        ...(inBody && { 'content-type': FORM }),
      };
      const authorization = acs3Authorization({ method: 'POST', host: headers.host!, path: '/', query, headers, body }, keys);
      // The HTTP client derives `host` from the URL itself; it is signed above with the same value.
      const { host: _host, ...sent } = headers;
      return {
        url: withQuery(endpoint, query),
        method: 'POST',
        headers: { ...sent, accept: 'application/json', authorization },
        ...(inBody && { body }),
      };
    },
    classify: classifyAliyunAnswer,
  };
}

/** Codes that mean success in the products' own envelopes (BPStudio "200", CAMS "OK"). */
const SUCCESS_CODES = new Set(['200', 'OK', 'Success']);

const KEY_CODES = new Set(['SignatureDoesNotMatch', 'IncompleteSignature', 'InvalidAccessKeyId.NotFound', 'InvalidAccessKeyId.Inactive']);
const CLOCK_CODES = new Set(['InvalidTimeStamp.Expired', 'SignatureNonceUsed']);
const ACCESS_DENIED_CODES = new Set(['NoPermission', 'Ram.PermissionDeny', 'Product.Unsubscript', 'Unknown.ResourceOwnerId']);
/** Codes that say the broker itself built a request the vendor cannot route. */
const BUG_CODES = new Set(['InvalidAction.NotFound', 'InvalidVersion', 'InvalidApi.NotFound']);
const TRANSIENT_CODES = new Set(['ServiceUnavailable', 'InternalError']);

/** docs/vendors.md, "Alibaba Cloud errors": status codes differ between products, so classify by Code. */
export function classifyAliyunCode(code: string, status: number): FailureClass {
  if (code.startsWith('Throttling') || code === 'System.LimitControl') return 'throttled';
  if (KEY_CODES.has(code)) return 'key';
  if (CLOCK_CODES.has(code)) return 'clock';
  if (code.startsWith('Forbidden') || ACCESS_DENIED_CODES.has(code)) return 'accessDenied';
  if (BUG_CODES.has(code)) return 'bug';
  if (code.endsWith('.NotFound') || code.startsWith('EntityNotExist')) return 'notFound';
  if (TRANSIENT_CODES.has(code) || status >= 500) return 'transient';
  return 'rejected';
}

/** An Alibaba Cloud answer as success or one failure class, with its code and request id. */
export function classifyAliyunAnswer(status: number, headers: ResponseHeaders, text: string): VendorOutcome {
  const body = parseJsonObject(text);
  const vendorRequestId = typeof body?.RequestId === 'string' ? body.RequestId : undefined;
  const code = typeof body?.Code === 'string' ? body.Code : undefined;
  const requestId = vendorRequestId === undefined ? {} : { vendorRequestId };
  if (status >= 200 && status < 300 && body && (code === undefined || SUCCESS_CODES.has(code))) {
    return { kind: 'ok', payload: body, ...requestId };
  }
  if (!body || code === undefined) {
    // A gateway page or a torn body: only a 5xx is worth retrying.
    return { kind: status >= 500 ? 'transient' : 'malformed', vendorCode: `HTTP ${status}`, ...requestId };
  }
  const hint = retryAfterHint(headers);
  return {
    kind: classifyAliyunCode(code, status),
    vendorCode: code,
    ...requestId,
    ...(hint !== undefined && { retryAfterMs: hint }),
  };
}

/** `x-acs-retry-after` is given in milliseconds where present; the standard header in seconds. */
function retryAfterHint(headers: ResponseHeaders): number | undefined {
  const acs = headers.get('x-acs-retry-after');
  if (acs !== null && /^\d+$/.test(acs.trim())) return Number(acs);
  return retryAfterMs(headers);
}

/** Alibaba Cloud, as a spec names it (`api`): signed as ALIYUN_SIGNATURE says. */
export const aliyunApi = defineVendor({
  name: 'aliyun',
  title: 'Alibaba Cloud',
  keys: aliyunKeysSchema,
  // The key's secret, STS's SecurityToken and the header that carries it.
  secretFields: ['accessKeySecret', 'securityToken', 'x-acs-security-token'],
  settings: z.object({
    ALIYUN_KEYS_PARAMETER: keysParameter('aliyun'),
    /** The accounts besides `default` (lib/access/account.ts): each with its key parameter `<ALIYUN_KEYS_PARAMETER>/<name>`. */
    ALIYUN_ACCOUNTS: accountList,
    ALIYUN_SIGNATURE: z._default(z.enum(['ACS3-HMAC-SHA256', 'HMAC-SHA1']), 'ACS3-HMAC-SHA256'),
    ALIYUN_BPSTUDIO_ENDPOINT: z._default(baseUrl, 'https://bpstudio.cn-hangzhou.aliyuncs.com'),
    ALIYUN_CAMS_ENDPOINT: z._default(baseUrl, 'https://cams.ap-southeast-1.aliyuncs.com'),
    ALIYUN_IMS_ENDPOINT: z._default(baseUrl, 'https://ims.aliyuncs.com'),
    ALIYUN_STS_ENDPOINT: z._default(baseUrl, 'https://sts.aliyuncs.com'),
  }),
  // A deployment sets the method per stage (aliyunSignature), and its accounts (aliyunAccounts).
  deploySettings: ['ALIYUN_SIGNATURE', 'ALIYUN_ACCOUNTS'],
  describe: (target: AliyunSpecFields) => `Alibaba Cloud API version ${target.version}`,
  adapter: (settings): VendorAdapter<AliyunKeys, AliyunSpecFields> => aliyunAdapter(settings.ALIYUN_SIGNATURE),
});
