/**
 * Tencent Cloud: its master key, variables, signer (TC3-HMAC-SHA256) and error classes, in one
 * place (docs/vendors.md, "Tencent Cloud").
 * @module
 */
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
import { tc3Authorization } from './signing/tc3-hmac-sha256.js';

const tencentKeysSchema = z.object({
  secretId: z.string().check(z.minLength(1)),
  secretKey: z.string().check(z.minLength(1)),
  /** The account's CAM role for STS AssumeRole (docs/contracts.md, "Accounts"); `default` falls back to TENCENT_STS_ROLE_ARN. */
  stsRoleArn: z.optional(z.string().check(z.regex(/^qcs::cam::uin\/\d+:roleName\/[\w+=,.@-]{1,128}$/))),
  /** STS AssumeRole's ExternalId, as the role's trust policy demands it: 2 to 128 characters (the vendor's limit). */
  externalId: z.optional(z.string().check(z.regex(/^[\w+=,.@:/-]{2,128}$/))),
});
/** A Tencent Cloud API key pair (SecretId, SecretKey). */
export type TencentKeys = z.infer<typeof tencentKeysSchema>;

/**
 * What a Tencent Cloud API 3.0 spec says besides the common fields: TC3-HMAC-SHA256, POST, the
 * parameters as a JSON body, X-TC-Region from TENCENT_REGION (docs/vendors.md, "Tencent Cloud signing").
 */
export interface TencentSpecFields {
  /** X-TC-Version, e.g. STS `2018-08-13`. */
  version: string;
  /**
   * The product in the signature's credential scope, e.g. `sts`: the first label of the
   * vendor's endpoint host (`sts.tencentcloudapi.com`). Declared rather than read from the
   * endpoint, which may be the simulator's loopback address.
   */
  service: string;
}

/** The body's content type, as the vendor's signing example sends it; signed, so it must be sent as is. */
const CONTENT_TYPE = 'application/json; charset=utf-8';

/** The operation's parameters as a JSON object: absent ones left out, numbers and booleans kept as JSON types. */
function jsonBody(params: VendorParams): string {
  const defined: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) if (value !== undefined) defined[name] = value;
  return JSON.stringify(defined);
}

/** Signs Tencent Cloud API 3.0 requests (TC3-HMAC-SHA256, X-TC-Region `region`) and classifies their answers. */
export function tencentAdapter(region: string): VendorAdapter<TencentKeys, Partial<TencentSpecFields>> {
  return {
    sign({ endpoint, target, params, keys, now }): SignedRequest {
      if (!target.service || !target.version) throw new Error(`Tencent Cloud operation ${target.action} names no service or version`);
      const url = new URL('/', endpoint);
      const body = jsonBody(params);
      const timestamp = Math.floor(now.getTime() / 1000);
      // The official SDK signs the URL's host name without a port; the vendor's endpoints have none.
      const signed = { 'content-type': CONTENT_TYPE, host: url.hostname };
      const authorization = tc3Authorization(
        { method: 'POST', path: '/', query: '', headers: signed, body, timestamp, service: target.service },
        keys,
      );
      return {
        url: url.href,
        method: 'POST',
        headers: {
          'content-type': CONTENT_TYPE,
          accept: 'application/json',
          'x-tc-action': target.action,
          'x-tc-version': target.version,
          'x-tc-timestamp': String(timestamp),
          'x-tc-region': region,
          authorization,
        },
        body,
      };
    },
    classify: classifyTencentAnswer,
  };
}

/** Codes whose whole family means one thing (docs/vendors.md, "Tencent Cloud errors"). */
const FAMILIES: [prefix: string, kind: FailureClass][] = [
  ['RequestLimitExceeded', 'throttled'],
  ['InternalError', 'transient'],
  ['UnauthorizedOperation', 'accessDenied'],
  ['OperationDenied', 'accessDenied'],
  ['ResourceNotFound', 'notFound'],
];

const EXACT: Record<string, FailureClass> = {
  // STS: "超过频率限制" (over the frequency limit).
  'InvalidParameter.OverLimit': 'throttled',
  'AuthFailure.SignatureFailure': 'key',
  'AuthFailure.SecretIdNotFound': 'key',
  'AuthFailure.InvalidSecretId': 'key',
  'AuthFailure.TokenFailure': 'key',
  // STS: the key is not of a kind that may call this API, or is malformed.
  'AuthFailure.AccessKeyIllegal': 'key',
  'InvalidParameter.AccessKeyNotSupport': 'key',
  'AuthFailure.SignatureExpire': 'clock',
  'AuthFailure.UnauthorizedOperation': 'accessDenied',
  'AuthFailure.MFAFailure': 'accessDenied',
  // The broker built a request the vendor cannot route or read: our bug (or TENCENT_REGION's).
  'AuthFailure.InvalidAuthorization': 'bug',
  InvalidAction: 'bug',
  NoSuchVersion: 'bug',
  UnknownParameter: 'bug',
  UnsupportedProtocol: 'bug',
  UnsupportedRegion: 'bug',
  ActionOffline: 'bug',
  // STS: "角色非法" (the role is not valid), a refusal however its family is named.
  'InternalError.IllegalRole': 'rejected',
};

/** The failure class of a Tencent Cloud error Code. */
export function classifyTencentCode(code: string): FailureClass {
  const exact = EXACT[code];
  if (exact !== undefined) return exact;
  const family = FAMILIES.find(([prefix]) => code === prefix || code.startsWith(`${prefix}.`));
  return family?.[1] ?? 'rejected';
}

/**
 * A Tencent Cloud answer as success or one failure class. Answers are HTTP 200 with
 * `{"Response": {..., "RequestId"}}`, errors with `Response.Error.Code`; success keeps the
 * whole answer as the payload (an operation's `response.field` is `Response`).
 */
export function classifyTencentAnswer(status: number, headers: ResponseHeaders, text: string): VendorOutcome {
  const body = parseJsonObject(text);
  const response = body?.Response;
  const inner =
    response !== null && typeof response === 'object' && !Array.isArray(response) ? (response as Record<string, unknown>) : undefined;
  const vendorRequestId = typeof inner?.RequestId === 'string' ? { vendorRequestId: inner.RequestId } : {};
  const error = inner?.Error as { Code?: unknown } | undefined;
  const code = typeof error?.Code === 'string' ? error.Code : undefined;
  if (!body || !inner || (error !== undefined && code === undefined)) {
    // A gateway page or a torn body: only a 5xx is worth retrying.
    return { kind: status >= 500 ? 'transient' : 'malformed', vendorCode: `HTTP ${status}`, ...vendorRequestId };
  }
  if (code === undefined) {
    if (status >= 200 && status < 300) return { kind: 'ok', payload: body, ...vendorRequestId };
    return { kind: status >= 500 ? 'transient' : 'malformed', vendorCode: `HTTP ${status}`, ...vendorRequestId };
  }
  const hint = retryAfterMs(headers);
  return { kind: classifyTencentCode(code), vendorCode: code, ...vendorRequestId, ...(hint !== undefined && { retryAfterMs: hint }) };
}

/** Tencent Cloud, as a spec names it (`api`): X-TC-Region from TENCENT_REGION. */
export const tencentApi = defineVendor({
  name: 'tencent',
  title: 'Tencent Cloud',
  keys: tencentKeysSchema,
  // The key's secretKey, STS's TmpSecretKey and Token, the X-TC-Token header.
  secretFields: ['secretKey', 'tmpSecretKey', 'token', 'x-tc-token'],
  settings: z.object({
    TENCENT_KEYS_PARAMETER: keysParameter('tencent'),
    /** The accounts besides `default` (lib/access/account.ts): each with its key parameter `<TENCENT_KEYS_PARAMETER>/<name>`. */
    TENCENT_ACCOUNTS: accountList,
    TENCENT_STS_ENDPOINT: z._default(baseUrl, 'https://sts.tencentcloudapi.com'),
    /** CAM 2019-01-16, where the master key's own AccessKeys are listed, created and deleted (lib/rotation/vendors/tencent.ts). */
    TENCENT_CAM_ENDPOINT: z._default(baseUrl, 'https://cam.tencentcloudapi.com'),
    /** X-TC-Region of every Tencent Cloud call (STS AssumeRole requires one; docs/vendors.md, "Tencent Cloud signing"). */
    TENCENT_REGION: z._default(z.string().check(z.regex(/^[a-z]+(-[a-z0-9]+)+$/)), 'ap-guangzhou'),
  }),
  // A deployment sets the region per stage (tencentRegion), defaulting to the one above, and its accounts (tencentAccounts).
  deploySettings: ['TENCENT_REGION', 'TENCENT_ACCOUNTS'],
  describe: (target: TencentSpecFields) => `Tencent Cloud API 3.0, ${target.service} version ${target.version}`,
  adapter: (settings): VendorAdapter<TencentKeys, TencentSpecFields> => tencentAdapter(settings.TENCENT_REGION),
});
