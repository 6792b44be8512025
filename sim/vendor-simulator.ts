/**
 * A local stand-in for the vendor operations, served over real HTTP on `/`: Alibaba Cloud
 * BPStudio, CAMS, IMS and STS AssumeRole; UCloud UFile; Tencent Cloud STS AssumeRole; and the
 * AccessKey APIs of Alibaba Cloud IMS and Tencent Cloud CAM (sim/access-keys.ts), whose keys
 * are the ones every signed Alibaba and Tencent call is checked against.
 *
 * It checks requests the way the vendors do (docs/vendors.md): Alibaba Cloud ACS3-HMAC-SHA256
 * and HMAC-SHA1 (RPC) signatures, timestamps and nonces; UCloud SHA-1 signatures; Tencent
 * Cloud TC3-HMAC-SHA256 signatures and timestamps. It is written from the vendor documents
 * with node:crypto only and shares no code with lib/, so a signing bug in the broker shows
 * up here instead of being reproduced.
 *
 * Assumptions where the vendor documents are silent are marked "Assumption:".
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  AccessKeyBook,
  type AccessKeyView,
  CAM_KEY_ACTIONS,
  camKeyAction,
  DEFAULT_KEY_PROPAGATION_MS,
  IMS_KEY_ACTIONS,
  imsKeyAction,
  KeyActionRefusal,
  type KeyStatus,
} from './access-keys.js';
import { listenOnLoopback, readBody } from './loopback-server.js';
import type { IssuedCredentials } from './object-storage.js';
import { type AssumeRoleRecord, aliyunAssumeRole, type StsOutcome, tencentAssumeRole } from './sts-assume-role.js';
import { expectedTc3Signature, parseTc3Authorization, utcDate } from './tencent-signature.js';

export type { AccessKeyView, KeyStatus } from './access-keys.js';
export type { AssumeRoleRecord } from './sts-assume-role.js';

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

export interface AliyunKey {
  accessKeyId: string;
  accessKeySecret: string;
}

export interface UcloudKey {
  publicKey: string;
  privateKey: string;
}

export interface TencentKey {
  secretId: string;
  secretKey: string;
}

export interface SimulatorOptions {
  /** Vendors besides the built-in three (sim/vendors/index.ts loads them for the local world). */
  handlers?: SimulatorVendorHandler[];
  /** 0 (default) picks a free port. */
  port?: number;
  aliyunKeys?: AliyunKey[];
  ucloudKeys?: UcloudKey[];
  tencentKeys?: TencentKey[];
  /** The Alibaba RAM role's MaxSessionDuration: the most DurationSeconds AssumeRole accepts. Default 3600. */
  aliyunMaxSessionDurationSeconds?: number;
  /**
   * STS credentials (both vendors) live this share of the DurationSeconds asked, at least a
   * second: 1 (default) as the vendors do; npm start passes SIM_LIFETIME_SCALE, so that 1/60
   * makes 900 s credentials live 15 s and a test sees several lifetimes in a minute.
   */
  stsLifetimeScale?: number;
  /** CAMS `Expire`, in seconds. Default 3600. */
  camsExpireSeconds?: number;
  /** UFile `ExpireTime` = now + this many seconds. Default 86400. */
  ufileLifetimeSeconds?: number;
  /** How long a key made by CreateAccessKey (IMS, CAM) is refused before signed calls accept it. Default 300 ms. */
  keyPropagationMs?: number;
  /** Print one JSON line per call on stderr. */
  log?: boolean;
  /**
   * Each account's own rate limit, as the vendors count it per account (per AccessKey here:
   * each simulated account has its own key): a signed request of an action listed (all, when
   * `actions` is absent) that arrives when `perSecond` requests of the same key arrived in the
   * last second is throttled (Alibaba `Throttling.User`, UCloud 153, Tencent `RequestLimitExceeded`).
   */
  accountRateLimit?: { perSecond: number; actions?: string[] };
  /**
   * STS roles by ARN with what their trust policy demands: `externalId`, which AssumeRole must
   * then carry exactly (else Alibaba `NoPermission`, Tencent `InvalidParameter.ExternalIdError`).
   */
  stsRoles?: Record<string, { externalId?: string }>;
}

export type Fault =
  | { kind: 'aliyunError'; status: number; code: string; message?: string; headers?: Record<string, string> }
  | { kind: 'ucloudError'; retCode: number; message?: string }
  /** Tencent Cloud answers its errors with HTTP 200 and `Response.Error`. */
  | { kind: 'tencentError'; code: string; message?: string }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  | { kind: 'reset' }
  | { kind: 'malformed'; body: string };

/** The kinds of fault chaos mode draws from (see `ChaosOptions`). */
export type ChaosKind = 'throttle' | 'serverError' | 'reset' | 'hang' | 'lostReply' | 'reject';

/**
 * Probability-based faults (`setChaos`): each verified request that no scripted rule claims
 * suffers at most one fault, drawn with these probabilities (their sum at most 1).
 */
export interface ChaosOptions {
  /** Alibaba Cloud 400 `Throttling.User`; UCloud RetCode 153; Tencent Cloud `RequestLimitExceeded`. */
  throttleRate?: number;
  /** Alibaba Cloud 503 `ServiceUnavailable`; UCloud a 502 gateway page; Tencent Cloud `InternalError`. */
  serverErrorRate?: number;
  /** The connection is destroyed before the request is processed. */
  resetRate?: number;
  /** Never answered (close() ends it). */
  hangRate?: number;
  /** The request is processed (an IMS application is installed), then the connection is destroyed: the answer is lost. */
  lostReplyRate?: number;
  /** Refused as invalid: Alibaba Cloud 400 `InvalidParameter`; UCloud RetCode 230; Tencent Cloud `InvalidParameter`. */
  rejectRate?: number;
  /** Only requests for these actions suffer; every action when absent. */
  actions?: string[];
  /** The random source, in [0, 1); default Math.random. A seeded one makes a run repeatable. */
  random?: () => number;
}

export interface ScriptRule {
  /** Only requests for this action consume the rule; any action when absent. */
  action?: string;
  /** Only requests whose parameters include all of these values consume the rule. */
  params?: Record<string, string>;
  /** How many matching requests the rule applies to. Default 1. */
  times?: number;
  fault: Fault;
}

/** The vendors whose AccessKey APIs the simulator serves. */
export type KeyVendor = 'aliyun' | 'tencent';

export type SignatureMethod = 'ACS3-HMAC-SHA256' | 'HMAC-SHA1' | 'UCLOUD-SHA1' | 'TC3-HMAC-SHA256';

/**
 * A vendor this file does not know, plugged in (sim/vendors/<vendor>.ts `handler`): it claims
 * the requests that are its own, checks them as its vendor does and answers. Its calls are
 * recorded like the others; scripted faults and chaos apply to the built-in vendors only.
 */
export interface SimulatorVendorHandler {
  vendor: string;
  /** Whether a request is this vendor's: asked before the built-in vendors are. */
  claims(request: SimulatorRequest): boolean;
  /** The vendor's answer, refusals included; `action` and `code` go into the recorded call. */
  answer(request: SimulatorRequest): { action: string; code: string; status: number; headers: Record<string, string>; body: string };
}

/** A request as a plugged-in vendor sees it: header names in lower case. */
export interface SimulatorRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, string>;
  body: string;
}

export interface SimulatorCall {
  /** aliyun, ucloud, tencent, or a plugged-in vendor's name (SimulatorVendorHandler). */
  vendor: 'aliyun' | 'ucloud' | 'tencent' | (string & {});
  /** The requested action, '' when the request named none. */
  action: string;
  method: string;
  /** The operation's own parameters (query and body merged, signing parameters left out). */
  params: Record<string, string>;
  /** Everything that came in the query string / the body, as received (decoded). */
  query: Record<string, string>;
  body: Record<string, string>;
  signatureMethod?: SignatureMethod;
  accessKeyId?: string;
  publicKey?: string;
  /** Tencent Cloud: the SecretId of the Authorization header. */
  secretId?: string;
  /** Tencent Cloud: X-TC-Region, when sent. */
  region?: string;
  nonce?: string;
  /**
   * Outcome: Alibaba `Code` of the answer ('OK' on success), UCloud RetCode as a string
   * ('0' on success), Tencent `Response.Error.Code` ('OK' on success), `HTTP <status>` for a
   * scripted status/malformed answer, 'hang' or 'reset' for those faults, 'pending' while
   * the answer is still being prepared.
   */
  code: string;
  /** HTTP status sent; 0 when none was (hang, reset, pending). */
  status: number;
  /**
   * Whether the answer reached the client's connection: false while pending, for hang, reset
   * and lostReply, and when the client had gone (its own timeout) before the answer was written.
   */
  delivered: boolean;
  /** The scripted fault that applied to this request, if any (for chaos, the kind of answer it became). */
  fault?: Fault['kind'];
  /**
   * The chaos fault drawn for this request, if any. For `lostReply`, `code` is what the
   * vendor did ('OK', or its refusal) and `status` is 0: nothing was sent.
   */
  chaos?: ChaosKind;
  /** The request's signature as received (hex for V3, TC3 and UCloud, base64 for RPC), when it carried one. */
  signature?: string;
  /** When the request arrived (epoch ms), to check client-side rate limits. */
  receivedAt: number;
}

export interface VendorSimulator {
  url: string;
  port: number;
  calls: SimulatorCall[];
  callsTo(action: string): SimulatorCall[];
  /**
   * Every STS AssumeRole request (Alibaba or Tencent) that passed the signature check and
   * reached the action, in order, refused ones included: RoleArn, RoleSessionName and the
   * session policy as the vendor read it. Cleared by reset() (the same array object).
   */
  assumeRoleCalls: AssumeRoleRecord[];
  /**
   * The STS credentials the simulator issued under this key id (secret, token, expiry and
   * session policy), as a storage service of the vendor would know them: what
   * sim/object-storage.ts checks requests against. Undefined for a key it never issued.
   */
  issuedCredentials(accessKeyId: string): IssuedCredentials | undefined;
  /** Replace the accepted keys: simulates a master-key rotation at the vendor. Alibaba's and Tencent's become their user's AccessKeys, Active and propagated. */
  setKeys(keys: { aliyun?: AliyunKey[]; ucloud?: UcloudKey[]; tencent?: TencentKey[] }): void;
  /** The AccessKeys of the vendor's user (ids, status, creation, last accepted use; never secrets), oldest first. */
  accessKeys(vendor: KeyVendor): AccessKeyView[];
  /**
   * Adds a key the broker does not know (Active, propagated, created now and never used unless
   * told otherwise), beyond the 2-key limit if asked to; its secret is returned so a test can sign with it.
   */
  seedAccessKey(
    vendor: KeyVendor,
    options?: { status?: KeyStatus; createdAt?: Date; lastUsedAt?: Date; propagated?: boolean },
  ): { keyId: string; secret: string };
  /** How long keys created from now on take to be accepted (CreateAccessKey), in ms. */
  setKeyPropagationMs(ms: number): void;
  script(...rules: ScriptRule[]): void;
  /** Turns chaos mode on with these probabilities, or off (undefined). Scripted rules go first. */
  setChaos(options: ChaosOptions | undefined): void;
  /** The scopes an IMS application was installed with, or undefined when it is not installed. */
  provisionedScopes(appId: string): string[] | undefined;
  /** Clears calls, AssumeRole records, scripts, chaos, seen nonces and IMS state. Keys stay as they are. */
  reset(): void;
  close(): Promise<void>;
}

/** Obviously fake keys accepted by default (never shaped like real cloud keys). */
export const SIMULATOR_DEFAULT_KEYS: {
  readonly aliyun: Readonly<AliyunKey>;
  readonly ucloud: Readonly<UcloudKey>;
  readonly tencent: Readonly<TencentKey>;
} = Object.freeze({
  aliyun: Object.freeze({ accessKeyId: 'sim-aliyun-id', accessKeySecret: 'sim-aliyun-secret-0b6f3a9c2d71e845' }),
  ucloud: Object.freeze({ publicKey: 'sim-ucloud-public', privateKey: 'sim-ucloud-private-5e2c7a19f04b3d68' }),
  tencent: Object.freeze({ secretId: 'sim-tencent-id', secretKey: 'sim-tencent-secret-7c3e91b0a4d25f68' }),
});

/** The UFile tokens the simulator describes (stable, so tests can filter on them). */
export const SIMULATOR_UFILE_TOKENS = [
  { tokenId: '5a1f0c2e-0000-4000-8000-00000000a001', tokenName: 'sim-upload-token' },
  { tokenId: '5a1f0c2e-0000-4000-8000-00000000a002', tokenName: 'sim-readonly-token' },
] as const;

// ---------------------------------------------------------------------------
// Signature math (from docs/vendors.md; exported so tests can check it on the official vectors)
// ---------------------------------------------------------------------------

/** Alibaba percent-encoding: RFC 3986 unreserved stay, everything else %XY; space is %20. */
function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function canonicalParams(params: Record<string, string>): string {
  return Object.keys(params)
    .sort()
    .map((name) => `${percentEncode(name)}=${percentEncode(params[name] ?? '')}`)
    .join('&');
}

export interface Acs3Input {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Values of the signed headers, by lower-case name. */
  headers: Record<string, string>;
  signedHeaders: string[];
  payloadHash: string;
}

export function acs3CanonicalRequest(input: Acs3Input): string {
  const names = [...input.signedHeaders].sort();
  const canonicalHeaders = names.map((name) => `${name}:${(input.headers[name] ?? '').trim()}\n`).join('');
  return [input.method, input.path, canonicalParams(input.query), canonicalHeaders, names.join(';'), input.payloadHash].join('\n');
}

export function expectedAcs3Signature(input: Acs3Input, secret: string): string {
  const stringToSign = `ACS3-HMAC-SHA256\n${sha256Hex(acs3CanonicalRequest(input))}`;
  return createHmac('sha256', secret).update(stringToSign).digest('hex');
}

/** HMAC-SHA1 over query and form parameters together, `Signature` excluded. */
export function expectedRpcSignature(method: string, params: Record<string, string>, secret: string): string {
  const { Signature: _ignored, ...signed } = params;
  const stringToSign = `${method}&${percentEncode('/')}&${percentEncode(canonicalParams(signed))}`;
  return createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
}

/** UCloud: names in byte order, name+value concatenated, private key appended, SHA-1 hex. */
export function expectedUcloudSignature(params: Record<string, string>, privateKey: string): string {
  const names = Object.keys(params)
    .filter((name) => name !== 'Signature')
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const text = names.map((name) => `${name}${params[name]}`).join('') + privateKey;
  return createHash('sha1').update(text, 'utf8').digest('hex');
}

/** How UCloud turns a JSON scalar into signed text: true/false, 42 not 42.0, no exponent. */
export function ucloudValueText(value: string | number | boolean): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Number.isInteger(value)) return BigInt(value).toString();
  const text = String(value);
  return text.includes('e') ? value.toFixed(20).replace(/0+$/, '') : text;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

// ---------------------------------------------------------------------------
// Request parsing
// ---------------------------------------------------------------------------

interface ParsedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  query: Record<string, string>;
  /** The query string as received, without `?` (TC3 signs it as is). */
  rawQuery: string;
  body: Record<string, string>;
  rawBody: Buffer;
  /** A JSON body (UCloud), before its values are turned into text. */
  json?: Record<string, unknown>;
  jsonError?: string;
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function header(req: ParsedRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function isJsonBody(req: ParsedRequest): boolean {
  return /^application\/json\b/i.test(header(req, 'content-type') ?? '');
}

function parseRequest(req: IncomingMessage, rawBody: Buffer): ParsedRequest {
  const url = new URL(req.url ?? '/', 'http://simulator.invalid');
  const parsed: ParsedRequest = {
    method: req.method ?? 'GET',
    path: url.pathname,
    headers: req.headers,
    query: Object.fromEntries(url.searchParams),
    rawQuery: url.search.slice(1),
    body: {},
    rawBody,
  };
  if (rawBody.length === 0) return parsed;
  if (isJsonBody(parsed)) {
    try {
      const value: unknown = JSON.parse(rawBody.toString('utf8'));
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
      parsed.json = value as Record<string, unknown>;
    } catch {
      parsed.jsonError = 'body is not a JSON object';
    }
  } else if (/^application\/x-www-form-urlencoded\b/i.test(header(parsed, 'content-type') ?? '')) {
    parsed.body = Object.fromEntries(new URLSearchParams(rawBody.toString('utf8')));
  }
  return parsed;
}

/** One path serves every vendor: route by the shape of the request. */
function detectVendor(req: ParsedRequest): SimulatorCall['vendor'] {
  if (/^TC3-/i.test(header(req, 'authorization') ?? '') || header(req, 'x-tc-action') !== undefined) return 'tencent';
  if (isJsonBody(req)) return 'ucloud';
  if (/^ACS3-/i.test(header(req, 'authorization') ?? '') || header(req, 'x-acs-action') !== undefined) return 'aliyun';
  if ('PublicKey' in req.query || 'PublicKey' in req.body) return 'ucloud';
  return 'aliyun';
}

// ---------------------------------------------------------------------------
// Alibaba Cloud
// ---------------------------------------------------------------------------

interface AliyunAction {
  product: string;
  host: string;
  version: string;
  required: string[];
}

const ALIYUN_ACTIONS: Record<string, AliyunAction> = {
  GetToken: { product: 'BPStudio', host: 'bpstudio.cn-hangzhou.aliyuncs.com', version: '2021-09-31', required: [] },
  GetChatappUploadAuthorization: {
    product: 'cams',
    host: 'cams.ap-southeast-1.aliyuncs.com',
    version: '2020-06-06',
    required: ['CustSpaceId'],
  },
  ProvisionExternalApplication: { product: 'Ims', host: 'ims.aliyuncs.com', version: '2019-08-15', required: ['AppId'] },
  GetExternalApplication: { product: 'Ims', host: 'ims.aliyuncs.com', version: '2019-08-15', required: ['AppId'] },
  // Its parameters are checked (and every call recorded) by sim/sts-assume-role.ts.
  AssumeRole: { product: 'Sts', host: 'sts.aliyuncs.com', version: '2015-04-01', required: [] },
  // The master key's own AccessKeys (sim/access-keys.ts).
  ...Object.fromEntries(
    Object.entries(IMS_KEY_ACTIONS).map(([action, required]) => [
      action,
      { product: 'Ims', host: 'ims.aliyuncs.com', version: '2019-08-15', required },
    ]),
  ),
};

/** RPC common parameters: they sign the request and are not the operation's own. */
const RPC_COMMON = [
  'Action',
  'Version',
  'Format',
  'AccessKeyId',
  'SignatureMethod',
  'SignatureVersion',
  'SignatureNonce',
  'Timestamp',
  'Signature',
  'SecurityToken',
];

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/** A refusal the vendor would send: status and Code. */
class AliyunRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function aliyunErrorReply(status: number, code: string, message: string, host: string, extra: Record<string, string> = {}): Reply {
  const requestId = randomUUID().toUpperCase();
  const body = {
    RequestId: requestId,
    HostId: host,
    Code: code,
    Message: message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}&product=simulator&requestId=${requestId}`,
  };
  return jsonReply(status, body, { 'x-acs-request-id': requestId, ...extra });
}

function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json;charset=utf-8', ...headers }, body: JSON.stringify(body) };
}

/** The verified identity of an Alibaba request. */
interface AliyunAuth {
  action: string;
  version: string;
  params: Record<string, string>;
  timestamp: string;
  nonce: string;
}

function parseAcs3Authorization(value: string | undefined) {
  const match = /^ACS3-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-fA-F]+)$/.exec(
    (value ?? '').trim(),
  );
  if (!match) throw new AliyunRefusal(400, 'IncompleteSignature', 'The Authorization header is missing or not ACS3-HMAC-SHA256.');
  return { accessKeyId: match[1]!, signedHeaders: match[2]!.toLowerCase().split(';'), signature: match[3]!.toLowerCase() };
}

const V3_REQUIRED_HEADERS = ['x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256'];

/**
 * Every common header present must be signed (vendor doc: "all common request headers
 * except Authorization, when present, must be signed"): host, content-type, x-acs-*.
 */
function checkSignedHeaders(req: ParsedRequest, signed: string[]): void {
  const missing = V3_REQUIRED_HEADERS.filter((name) => header(req, name) === undefined);
  if (missing.length > 0) throw new AliyunRefusal(400, 'IncompleteSignature', `Missing header(s): ${missing.join(', ')}.`);
  const mustSign = Object.keys(req.headers).filter((name) => name === 'host' || name === 'content-type' || name.startsWith('x-acs-'));
  const unsigned = mustSign.filter((name) => !signed.includes(name));
  if (unsigned.length > 0) {
    throw new AliyunRefusal(400, 'IncompleteSignature', `Header(s) present but not signed: ${unsigned.join(', ')}.`);
  }
}

function verifyAcs3(req: ParsedRequest, sim: SimulatorState, call: SimulatorCall): AliyunAuth {
  call.signatureMethod = 'ACS3-HMAC-SHA256';
  call.action = header(req, 'x-acs-action') ?? '';
  const auth = parseAcs3Authorization(header(req, 'authorization'));
  call.accessKeyId = auth.accessKeyId;
  call.signature = auth.signature;
  call.nonce = header(req, 'x-acs-signature-nonce');
  checkSignedHeaders(req, auth.signedHeaders);
  const key = findAliyunKey(sim, auth.accessKeyId);
  const payloadHash = header(req, 'x-acs-content-sha256')!;
  // Assumption: a body that does not match its declared hash is reported as a signature mismatch.
  if (payloadHash !== sha256Hex(req.rawBody)) {
    throw new AliyunRefusal(400, 'SignatureDoesNotMatch', 'x-acs-content-sha256 does not match the request body.');
  }
  const headers = Object.fromEntries(auth.signedHeaders.map((name) => [name, header(req, name) ?? '']));
  const expected = expectedAcs3Signature(
    { method: req.method, path: req.path, query: req.query, headers, signedHeaders: auth.signedHeaders, payloadHash },
    key.accessKeySecret,
  );
  if (!sameText(expected, auth.signature)) {
    throw new AliyunRefusal(400, 'SignatureDoesNotMatch', 'The request signature does not conform to Aliyun standards.');
  }
  return {
    action: call.action,
    version: header(req, 'x-acs-version')!,
    params: { ...req.query, ...req.body },
    timestamp: header(req, 'x-acs-date')!,
    nonce: call.nonce!,
  };
}

function requireRpcParam(params: Record<string, string>, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') throw new AliyunRefusal(400, `Missing${name}`, `${name} is mandatory for this action.`);
  return value;
}

function verifyRpc(req: ParsedRequest, sim: SimulatorState, call: SimulatorCall): AliyunAuth {
  const all = { ...req.query, ...req.body };
  call.signatureMethod = 'HMAC-SHA1';
  call.action = all.Action ?? '';
  call.accessKeyId = all.AccessKeyId;
  call.nonce = all.SignatureNonce;
  if (all.Signature !== undefined) call.signature = all.Signature;
  for (const name of ['AccessKeyId', 'Signature', 'SignatureMethod', 'SignatureNonce', 'Timestamp', 'Action', 'Version']) {
    requireRpcParam(all, name);
  }
  if (all.SignatureMethod !== 'HMAC-SHA1') throw new AliyunRefusal(400, 'InvalidSignatureMethod', 'Only HMAC-SHA1 is accepted.');
  if (all.SignatureVersion !== '1.0') throw new AliyunRefusal(400, 'InvalidSignatureVersion', 'SignatureVersion must be 1.0.');
  // Assumption: the real API answers XML without Format=JSON; the simulator refuses instead.
  if (all.Format !== 'JSON') throw new AliyunRefusal(400, 'InvalidParameter.Format', 'Format must be JSON.');
  const key = findAliyunKey(sim, all.AccessKeyId!);
  if (!sameText(expectedRpcSignature(req.method, all, key.accessKeySecret), all.Signature!)) {
    throw new AliyunRefusal(400, 'SignatureDoesNotMatch', 'The request signature does not conform to Aliyun standards.');
  }
  const params = Object.fromEntries(Object.entries(all).filter(([name]) => !RPC_COMMON.includes(name)));
  return { action: all.Action!, version: all.Version!, params, timestamp: all.Timestamp!, nonce: all.SignatureNonce! };
}

/**
 * The key a request names, as IMS keeps it. A key not yet propagated is refused like one that
 * does not exist (Assumption: the vendor documents no code of its own for it).
 */
function findAliyunKey(sim: SimulatorState, accessKeyId: string): AliyunKey {
  const found = sim.aliyunBook.check(accessKeyId);
  if ('secret' in found) return { accessKeyId, accessKeySecret: found.secret };
  if (found.refusal === 'inactive') throw new AliyunRefusal(400, 'InvalidAccessKeyId.Inactive', 'Specified access key is disabled.');
  throw new AliyunRefusal(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
}

/** Runs after the signature is good, so a forged request cannot burn a nonce. */
function checkFreshness(auth: AliyunAuth, sim: SimulatorState): void {
  if (!TIMESTAMP.test(auth.timestamp)) {
    throw new AliyunRefusal(400, 'InvalidTimeStamp.Format', 'Timestamp must be YYYY-MM-DDTHH:mm:ssZ.');
  }
  if (Math.abs(Date.now() - Date.parse(auth.timestamp)) > MAX_CLOCK_SKEW_MS) {
    throw new AliyunRefusal(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
  }
  if (sim.nonces.has(auth.nonce)) throw new AliyunRefusal(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
  sim.nonces.add(auth.nonce);
}

function aliyunOperation(auth: AliyunAuth, sim: SimulatorState): Reply {
  const spec = ALIYUN_ACTIONS[auth.action];
  if (!spec) throw new AliyunRefusal(404, 'InvalidAction.NotFound', `Specified api is not found, please check your url and method.`);
  if (auth.version !== spec.version) throw new AliyunRefusal(400, 'InvalidVersion', `Specified parameter Version is not valid.`);
  for (const name of spec.required) requireRpcParam(auth.params, name);
  if (auth.action === 'GetToken') return jsonReply(200, bpstudioToken());
  if (auth.action === 'GetChatappUploadAuthorization') return jsonReply(200, camsAuthorization(auth.params, sim));
  if (auth.action === 'GetExternalApplication') return imsRead(auth.params, sim);
  if (auth.action in IMS_KEY_ACTIONS) {
    try {
      return jsonReply(200, imsKeyAction(auth.action, auth.params, sim.aliyunBook));
    } catch (error) {
      if (error instanceof KeyActionRefusal) throw new AliyunRefusal(error.status, error.code, error.message);
      throw error;
    }
  }
  if (auth.action === 'AssumeRole') {
    const done = recorded(
      sim,
      aliyunAssumeRole(auth.params, sim.aliyunMaxSessionDurationSeconds, Date.now(), sim.stsLifetimeScale, sim.stsRoles),
    );
    if ('refusal' in done) throw new AliyunRefusal(done.refusal.status, done.refusal.code, done.refusal.message);
    return jsonReply(200, done.answer);
  }
  return imsProvision(auth.params, sim);
}

/** Most issued STS credentials remembered for issuedCredentials(): the oldest are forgotten first. */
const MAX_ISSUED = 10_000;

/** Keeps the AssumeRole record for tests, whatever the outcome, and the credentials it issued. */
function recorded(sim: SimulatorState, done: StsOutcome): StsOutcome {
  sim.assumeRoleCalls.push(done.record);
  if ('answer' in done) {
    const issued = issuedBy(done.answer, done.record.policy);
    if (issued) {
      sim.issued.set(issued.accessKeyId, issued.credentials);
      if (sim.issued.size > MAX_ISSUED) sim.issued.delete(sim.issued.keys().next().value!);
    }
  }
  return done;
}

/** The credentials in an AssumeRole answer of either vendor. */
function issuedBy(answer: Record<string, unknown>, policy: string | undefined) {
  const c = answer.Credentials as Record<string, string> | undefined;
  if (!c) return undefined;
  const withPolicy = policy === undefined ? {} : { policy };
  if (c.AccessKeyId !== undefined) {
    return {
      accessKeyId: c.AccessKeyId,
      credentials: {
        accessKeySecret: c.AccessKeySecret!,
        securityToken: c.SecurityToken!,
        expiresAt: Date.parse(c.Expiration!),
        ...withPolicy,
      },
    };
  }
  return {
    accessKeyId: c.TmpSecretId!,
    credentials: { accessKeySecret: c.TmpSecretKey!, securityToken: c.Token!, expiresAt: Number(answer.ExpiredTime) * 1000, ...withPolicy },
  };
}

// ---- success bodies, in the shapes of the seed documents ----

function randomText(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

function stsAccessKeyId(): string {
  return `STS.sim${randomBytes(12).toString('hex')}`;
}

function bpstudioToken() {
  return {
    Message: 'Success',
    RequestId: randomUUID().toUpperCase(),
    Data: {
      SecurityToken: `sim-sts-token-${randomText(48)}`,
      Endpoint: 'https://oss-cn-hangzhou.aliyuncs.com',
      AccessKeySecret: `sim-sts-secret-${randomText(24)}`,
      AccessKeyId: stsAccessKeyId(),
      Bucket: 'sim-bpstudio-diagrams',
      SnapshotBucket: 'sim-bpstudio-snapshots',
      UploadPrefix: `/${randomBytes(4).readUInt32BE()}/`,
    },
    Code: '200',
  };
}

function camsAuthorization(params: Record<string, string>, sim: SimulatorState) {
  return {
    RequestId: randomUUID().toUpperCase(),
    Code: 'OK',
    Message: 'None',
    Data: {
      AccessKeyId: stsAccessKeyId(),
      AccessKeySecret: `sim-sts-secret-${randomText(24)}`,
      BucketName: 'sim-cams-media',
      Dir: `${params.CustSpaceId}/`,
      EndPoint: 'https://oss-ap-southeast-1.aliyuncs.com',
      SecurityToken: `sim-sts-token-${randomText(48)}`,
      Expire: sim.camsExpireSeconds,
    },
    AccessDeniedDetail: 'None',
  };
}

const SCOPE_DESCRIPTIONS: Record<string, string> = {
  openid: '用于获取用户的OpenID(默认权限范围,不可移除)',
  aliuid: 'Obtain the UID of the user',
  profile: 'Obtain the profile of the user',
};

const SIM_TENANT_ID = '1000000000000001';

function imsProvision(params: Record<string, string>, sim: SimulatorState): Reply {
  const appId = params.AppId!;
  // Assumption: the code a repeated provisioning gets is not documented; this one follows
  // RAM's EntityAlreadyExists.* family.
  if (sim.provisioned.has(appId)) {
    throw new AliyunRefusal(409, 'EntityAlreadyExists.ExternalApplication', `The external application ${appId} is already provisioned.`);
  }
  // Assumption: without Scopes the application gets only the default scope, openid.
  const scopes = (params.Scopes ?? 'openid').split(';').filter((s) => s !== '');
  const now = String(Date.now());
  const application = {
    DisplayName: `SimApp-${appId}`,
    UpdateDate: now,
    DelegatedScope: {
      PredefinedScopes: {
        PredefinedScope: scopes.map((name) => ({ Description: SCOPE_DESCRIPTIONS[name] ?? `Scope ${name}`, Name: name })),
      },
    },
    AppPrincipalName: `SimApp-${appId}@app.${SIM_TENANT_ID}.onaliyun.com`,
    CreateDate: now,
    TenantId: SIM_TENANT_ID,
    ForeignAppId: appId,
  };
  sim.provisioned.set(appId, application);
  return jsonReply(200, { RequestId: randomUUID().toUpperCase(), ExternalApplication: application });
}

/** GetExternalApplication: the installed application as ProvisionExternalApplication returned it. */
function imsRead(params: Record<string, string>, sim: SimulatorState): Reply {
  const application = sim.provisioned.get(params.AppId!);
  // Assumption: an application never installed gets RAM's EntityNotExist.* family.
  if (!application)
    throw new AliyunRefusal(404, 'EntityNotExist.ExternalApplication', `The external application ${params.AppId} does not exist.`);
  return jsonReply(200, { RequestId: randomUUID().toUpperCase(), ExternalApplication: application });
}

// ---------------------------------------------------------------------------
// UCloud
// ---------------------------------------------------------------------------

class UcloudRefusal extends Error {
  constructor(
    readonly retCode: number,
    message: string,
  ) {
    super(message);
  }
}

function ucloudReply(action: string, body: Record<string, unknown>): Reply {
  return jsonReply(200, { Action: `${action}Response`, ...body }, { 'x-ucloud-request-uuid': randomUUID() });
}

/** The JSON body's values as UCloud signs them; null skipped, nested values refused. */
function ucloudParams(req: ParsedRequest): Record<string, string> {
  if (req.jsonError) throw new UcloudRefusal(230, `Params not available: ${req.jsonError}`);
  if (!req.json) return { ...req.query, ...req.body };
  const params: Record<string, string> = { ...req.query };
  for (const [name, value] of Object.entries(req.json)) {
    if (value === null) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      // Assumption: the official SDK flattens lists to Name.0 before sending; a nested value is refused.
      throw new UcloudRefusal(230, `Params [${name}] not available`);
    }
    params[name] = ucloudValueText(value);
  }
  return params;
}

const UCLOUD_COMMON = ['Action', 'PublicKey', 'Signature'];

interface UcloudAuth {
  action: string;
  params: Record<string, string>;
}

function verifyUcloud(req: ParsedRequest, sim: SimulatorState, call: SimulatorCall): UcloudAuth {
  call.signatureMethod = 'UCLOUD-SHA1';
  const all = ucloudParams(req);
  call.action = all.Action ?? '';
  call.publicKey = all.PublicKey;
  if (all.Signature !== undefined) call.signature = all.Signature;
  call.params = Object.fromEntries(Object.entries(all).filter(([name]) => !UCLOUD_COMMON.includes(name)));
  const key = sim.ucloudKeys.find((k) => k.publicKey === all.PublicKey);
  if (!key) throw new UcloudRefusal(172, 'User Not Exists');
  if (!all.Signature) throw new UcloudRefusal(170, 'Missing signature');
  if (!sameText(expectedUcloudSignature(all, key.privateKey), all.Signature.toLowerCase())) {
    throw new UcloudRefusal(171, 'Signature VerifyAC Error');
  }
  if (!all.Action) throw new UcloudRefusal(160, 'Missing Action');
  return { action: all.Action, params: call.params };
}

function ucloudOperation(auth: UcloudAuth, sim: SimulatorState): Reply {
  // The official Go SDK's tests answer an unknown action with 161 "Action [X] not found".
  if (auth.action !== 'DescribeUFileToken') throw new UcloudRefusal(161, `Action [${auth.action}] not found`);
  return ucloudReply(auth.action, { RetCode: 0, DataSet: ufileTokens(auth.params, sim) });
}

function ufileTokens(params: Record<string, string>, sim: SimulatorState) {
  const now = Math.floor(Date.now() / 1000);
  // Assumption: Display=0 ("partial information") leaves out the optional IP lists.
  const partial = params.Display === '0';
  return SIMULATOR_UFILE_TOKENS.filter((t) => params.TokenId === undefined || t.tokenId === params.TokenId)
    .filter((t) => params.TokenName === undefined || t.tokenName === params.TokenName)
    .map((t, index) => ({
      // Assumption: the tokens exist in whichever region is asked for.
      Region: params.Region ?? 'cn-bj',
      TokenId: t.tokenId,
      TokenName: t.tokenName,
      PublicKey: `TOKEN_${t.tokenId}`,
      PrivateKey: sim.ufilePrivateKeys[index]!,
      AllowedOps: index === 0 ? ['TOKEN_ALLOW_READ', 'TOKEN_ALLOW_WRITE'] : ['TOKEN_ALLOW_READ', 'TOKEN_ALLOW_LIST'],
      AllowedPrefixes: ['uploads/'],
      AllowedBuckets: ['sim-ufile-bucket'],
      ExpireTime: now + sim.ufileLifetimeSeconds,
      CreateTime: sim.startedAt,
      ModifyTime: sim.startedAt,
      ...(partial ? {} : { BlackIPList: [], WhiteIPList: [] }),
    }));
}

// ---------------------------------------------------------------------------
// Tencent Cloud (API 3.0)
// ---------------------------------------------------------------------------

interface TencentAction {
  /** The product of the credential scope: the first label of the action's endpoint host. */
  service: string;
  version: string;
}

const TENCENT_ACTIONS: Record<string, TencentAction> = {
  AssumeRole: { service: 'sts', version: '2018-08-13' },
  // The master key's own AccessKeys (sim/access-keys.ts).
  ...Object.fromEntries(Object.keys(CAM_KEY_ACTIONS).map((action) => [action, { service: 'cam', version: '2019-01-16' }])),
  // What an app signs with the temporary credentials the broker handed out (the agent's e2e test).
  GetCallerIdentity: { service: 'sts', version: '2018-08-13' },
};

/** The Tencent Cloud actions the simulator accepts signed with temporary credentials (SecretId, SecretKey and X-TC-Token). */
const TENCENT_TEMPORARY_CREDENTIAL_ACTIONS = new Set(['GetCallerIdentity']);

/** "If the difference between the UNIX timestamp and the server time is greater than 5 minutes, a signature expiration error may occur." */
const TENCENT_MAX_SKEW_S = 5 * 60;

class TencentRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Every answer, error or not, is HTTP 200 with `{"Response": {..., "RequestId"}}`. */
function tencentReply(body: Record<string, unknown>): Reply {
  return jsonReply(200, { Response: { ...body, RequestId: randomUUID() } });
}

function tencentErrorReply(code: string, message: string): Reply {
  return tencentReply({ Error: { Code: code, Message: message } });
}

/** The verified identity of a Tencent Cloud request. */
interface TencentAuth {
  action: string;
  /** The SecretId that signed: a master key's, or temporary credentials' (GetCallerIdentity). */
  secretId: string;
  version: string;
  region: string | undefined;
  params: Record<string, unknown>;
}

/**
 * A signed header's value as the vendor canonicalises it. Assumption: `host` without a port,
 * as the official SDK signs the URL's host name (the vendor's endpoints are on 443, where
 * the two agree; the simulator is on a loopback port).
 */
function tc3HeaderValue(req: ParsedRequest, name: string): string {
  const value = header(req, name) ?? '';
  return name === 'host' ? value.replace(/:\d+$/, '') : value;
}

function requireTencentHeader(req: ParsedRequest, name: string): string {
  const value = header(req, name);
  if (!value) throw new TencentRefusal('MissingParameter', `The request is missing a required parameter \`${name}\`.`);
  return value;
}

/**
 * The key of temporary credentials this simulator issued (STS AssumeRole), for the actions that
 * take them: the request must carry their token in X-TC-Token, before they expire. Undefined
 * when the SecretId is not of issued credentials. Assumption: the codes of a wrong or expired
 * token (the vendor lists AuthFailure.TokenFailure, "token error").
 */
function temporaryKey(req: ParsedRequest, sim: SimulatorState, action: string, secretId: string): TencentKey | undefined {
  const issued = sim.issued.get(secretId);
  if (issued === undefined || !TENCENT_TEMPORARY_CREDENTIAL_ACTIONS.has(action)) return undefined;
  if (header(req, 'x-tc-token') !== issued.securityToken)
    throw new TencentRefusal('AuthFailure.TokenFailure', 'The token is not the one issued with this SecretId.');
  if (Date.now() >= issued.expiresAt) throw new TencentRefusal('AuthFailure.TokenFailure', 'The temporary credentials have expired.');
  return { secretId, secretKey: issued.accessKeySecret };
}

function verifyTencent(req: ParsedRequest, sim: SimulatorState, call: SimulatorCall): TencentAuth {
  call.signatureMethod = 'TC3-HMAC-SHA256';
  call.action = header(req, 'x-tc-action') ?? '';
  const region = header(req, 'x-tc-region');
  if (region !== undefined) call.region = region;
  const json = req.json ?? {};
  call.params = Object.fromEntries(
    Object.entries(json).map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value)]),
  );
  const auth = parseTc3Authorization(header(req, 'authorization'));
  if (auth) {
    call.secretId = auth.secretId;
    call.signature = auth.signature;
  }
  // Assumption: POST with a JSON body only; the vendor also takes GET with a query, which the broker never sends.
  if (req.method !== 'POST' || !isJsonBody(req)) {
    throw new TencentRefusal('UnsupportedProtocol', 'The simulator serves POST with a JSON body only.');
  }
  // The vendor: content-type and host are required signed headers.
  if (!auth || ['content-type', 'host'].some((name) => !auth.signedHeaders.includes(name))) {
    throw new TencentRefusal('AuthFailure.InvalidAuthorization', 'Authorization in the request header is invalid.');
  }
  const action = requireTencentHeader(req, 'x-tc-action');
  const version = requireTencentHeader(req, 'x-tc-version');
  const timestampText = requireTencentHeader(req, 'x-tc-timestamp');
  if (!/^\d{1,12}$/.test(timestampText))
    throw new TencentRefusal('InvalidParameter', 'X-TC-Timestamp must be a unix timestamp in seconds.');
  const timestamp = Number(timestampText);
  // "密钥不存在。请在控制台检查密钥是否已被删除或者禁用": one code for a key unknown, deleted or disabled
  // (Assumption: and for one not yet propagated).
  const found = sim.tencentBook.check(auth.secretId);
  const key = 'secret' in found ? { secretId: auth.secretId, secretKey: found.secret } : temporaryKey(req, sim, action, auth.secretId);
  if (!key)
    throw new TencentRefusal('AuthFailure.SecretIdNotFound', 'The SecretId is not found, please ensure that your SecretId is correct.');
  if (Math.abs(Date.now() / 1000 - timestamp) > TENCENT_MAX_SKEW_S) {
    throw new TencentRefusal(
      'AuthFailure.SignatureExpire',
      'Signature expired. Timestamp and server time cannot differ by more than five minutes.',
    );
  }
  // The vendor recomputes with its own service and the UTC date of X-TC-Timestamp: a scope naming others cannot match.
  const service = TENCENT_ACTIONS[action]?.service ?? auth.service;
  const expected = expectedTc3Signature(
    {
      method: req.method,
      path: req.path,
      query: req.rawQuery,
      headers: Object.fromEntries(auth.signedHeaders.map((name) => [name, tc3HeaderValue(req, name)])),
      signedHeaders: auth.signedHeaders,
      body: req.rawBody,
      timestamp,
      service,
    },
    key.secretKey,
  );
  if (auth.date !== utcDate(timestamp) || auth.service !== service || !sameText(expected, auth.signature)) {
    throw new TencentRefusal(
      'AuthFailure.SignatureFailure',
      'The provided credentials could not be validated. Please check your signature is correct.',
    );
  }
  // Accepted: the master key's last use is now, whatever the action then answers.
  if ('secret' in found) sim.tencentBook.markUsed(auth.secretId);
  if (req.jsonError) throw new TencentRefusal('InvalidParameter', 'The request body is not a JSON object.');
  return { action, secretId: auth.secretId, version, region, params: json };
}

/**
 * STS GetCallerIdentity: who signed. Assumption: the local account's uin (100000000001) and, for
 * temporary credentials, an assumed-role ARN naming their SecretId (the simulator does not keep
 * which role issued them).
 */
function callerIdentity(auth: TencentAuth, sim: SimulatorState): Record<string, unknown> {
  const temporary = sim.issued.has(auth.secretId);
  return {
    Arn: temporary ? `qcs::sts:100000000001:assumed-role/sim/${auth.secretId}` : 'qcs::cam::uin/100000000001:uin/100000000001',
    AccountId: '100000000001',
    UserId: temporary ? auth.secretId : '100000000001',
    PrincipalId: '100000000001',
    Type: temporary ? 'CAMRole' : 'RootAccount',
  };
}

function tencentOperation(auth: TencentAuth, sim: SimulatorState): Reply {
  const spec = TENCENT_ACTIONS[auth.action];
  if (!spec) throw new TencentRefusal('InvalidAction', `The API \`${auth.action}\` does not exist.`);
  if (auth.version !== spec.version) throw new TencentRefusal('NoSuchVersion', `The API version \`${auth.version}\` does not exist.`);
  // CAM: "Region: not required for this API"; the broker sends its TENCENT_REGION anyway.
  if (auth.action in CAM_KEY_ACTIONS) {
    try {
      return tencentReply(camKeyAction(auth.action, auth.params, sim.tencentBook));
    } catch (error) {
      if (error instanceof KeyActionRefusal) throw new TencentRefusal(error.code, error.message);
      throw error;
    }
  }
  // STS AssumeRole lists Region as required.
  if (!auth.region) throw new TencentRefusal('MissingParameter', 'The request is missing a required parameter `Region`.');
  if (auth.action === 'GetCallerIdentity') return tencentReply(callerIdentity(auth, sim));
  const done = recorded(sim, tencentAssumeRole(auth.params, Date.now(), sim.stsLifetimeScale, sim.stsRoles));
  if ('refusal' in done) throw new TencentRefusal(done.refusal.code, done.refusal.message);
  return tencentReply(done.answer);
}

// ---------------------------------------------------------------------------
// Scripted faults
// ---------------------------------------------------------------------------

interface QueuedRule {
  action?: string;
  params?: Record<string, string>;
  remaining: number;
  fault: Fault;
}

function takeFault(sim: SimulatorState, action: string, params: Record<string, string>): Fault | undefined {
  const index = sim.scripts.findIndex(
    (rule) =>
      (rule.action === undefined || rule.action === action) &&
      Object.entries(rule.params ?? {}).every(([name, value]) => params[name] === value),
  );
  const rule = sim.scripts[index];
  if (!rule) return undefined;
  rule.remaining -= 1;
  if (rule.remaining <= 0) sim.scripts.splice(index, 1);
  return rule.fault;
}

interface ChaosState {
  /** Upper bounds of each kind's share of [0, 1), in a fixed order. */
  bands: [ChaosKind, number][];
  actions: Set<string> | undefined;
  random: () => number;
}

const CHAOS_RATES: [ChaosKind, keyof ChaosOptions][] = [
  ['throttle', 'throttleRate'],
  ['serverError', 'serverErrorRate'],
  ['reset', 'resetRate'],
  ['hang', 'hangRate'],
  ['lostReply', 'lostReplyRate'],
  ['reject', 'rejectRate'],
];

function chaosState(options: ChaosOptions): ChaosState {
  const bands: [ChaosKind, number][] = [];
  let upTo = 0;
  for (const [kind, field] of CHAOS_RATES) {
    const rate = (options[field] as number | undefined) ?? 0;
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`chaos ${field} must be between 0 and 1, not ${rate}`);
    upTo += rate;
    bands.push([kind, upTo]);
  }
  if (upTo > 1 + 1e-9) throw new RangeError(`chaos rates add up to ${upTo}, more than 1`);
  return { bands, actions: options.actions && new Set(options.actions), random: options.random ?? Math.random };
}

/** Most keys whose arrivals the per-account limit tracks; past it the oldest key is forgotten. */
const MAX_RATE_KEYS = 1_000;

/** Throttling by the request's own account (accountRateLimit), counted like the vendor: on arrival, per key. */
function accountThrottle(sim: SimulatorState, call: SimulatorCall): Fault | undefined {
  const limit = sim.accountRateLimit;
  const key = call.accessKeyId ?? call.secretId ?? call.publicKey;
  if (limit === undefined || key === undefined || (limit.actions && !limit.actions.has(call.action))) return undefined;
  const recent = (sim.arrivals.get(key) ?? []).filter((at) => at > call.receivedAt - 1_000);
  sim.arrivals.delete(key);
  if (recent.length >= limit.perSecond) {
    sim.arrivals.set(key, recent);
    call.chaos = 'throttle';
    return chaosFault('throttle', call.vendor);
  }
  recent.push(call.receivedAt);
  sim.arrivals.set(key, recent);
  if (sim.arrivals.size > MAX_RATE_KEYS) sim.arrivals.delete(sim.arrivals.keys().next().value!);
  return undefined;
}

/** The chaos fault this request suffers, if any: one draw per request. */
function drawChaos(sim: SimulatorState, action: string): ChaosKind | undefined {
  const chaos = sim.chaos;
  if (!chaos || (chaos.actions && !chaos.actions.has(action))) return undefined;
  const draw = chaos.random();
  return chaos.bands.find(([, upTo]) => draw < upTo)?.[0];
}

/** The answer a chaos fault gives, in the vendor's own shape; undefined for lostReply (the request runs). */
function chaosFault(kind: ChaosKind, vendor: SimulatorCall['vendor']): Fault | undefined {
  if (vendor === 'tencent') return tencentChaosFault(kind);
  const aliyun = vendor === 'aliyun';
  switch (kind) {
    case 'throttle':
      return aliyun
        ? { kind: 'aliyunError', status: 400, code: 'Throttling.User', message: 'Request was denied due to user flow control.' }
        : { kind: 'ucloudError', retCode: 153, message: 'Request too frequently' };
    case 'serverError':
      return aliyun
        ? {
            kind: 'aliyunError',
            status: 503,
            code: 'ServiceUnavailable',
            message: 'The request has failed due to a temporary failure of the server.',
          }
        : { kind: 'status', status: 502 };
    case 'reject':
      return aliyun
        ? { kind: 'aliyunError', status: 400, code: 'InvalidParameter', message: 'The specified parameter is not valid.' }
        : { kind: 'ucloudError', retCode: 230, message: 'Params not available' };
    case 'reset':
      return { kind: 'reset' };
    case 'hang':
      return { kind: 'hang' };
    case 'lostReply':
      return undefined;
  }
}

/** Chaos as Tencent Cloud shows it: its errors are HTTP 200 answers with `Response.Error`. */
function tencentChaosFault(kind: ChaosKind): Fault | undefined {
  switch (kind) {
    case 'throttle':
      return { kind: 'tencentError', code: 'RequestLimitExceeded', message: 'The number of requests exceeds the frequency limit.' };
    case 'serverError':
      return { kind: 'tencentError', code: 'InternalError', message: 'Internal error.' };
    case 'reject':
      return { kind: 'tencentError', code: 'InvalidParameter', message: 'Incorrect parameter.' };
    case 'reset':
      return { kind: 'reset' };
    case 'hang':
      return { kind: 'hang' };
    case 'lostReply':
      return undefined;
  }
}

function faultReply(fault: Fault, call: SimulatorCall, host: string): Reply | undefined {
  switch (fault.kind) {
    case 'aliyunError':
      call.code = fault.code;
      return aliyunErrorReply(fault.status, fault.code, fault.message ?? `Simulated ${fault.code}.`, host, fault.headers);
    case 'ucloudError':
      call.code = String(fault.retCode);
      return ucloudReply(call.action, { RetCode: fault.retCode, Message: fault.message ?? `Simulated RetCode ${fault.retCode}` });
    case 'tencentError':
      call.code = fault.code;
      return tencentErrorReply(fault.code, fault.message ?? `Simulated ${fault.code}.`);
    case 'status': {
      call.code = `HTTP ${fault.status}`;
      const body = fault.body ?? `<html><body><h1>${fault.status}</h1>Simulated gateway answer</body></html>`;
      const type = /^\s*[[{]/.test(body) ? 'application/json;charset=utf-8' : 'text/html';
      return { status: fault.status, headers: { 'content-type': type }, body };
    }
    case 'malformed':
      call.code = 'HTTP 200';
      return { status: 200, headers: { 'content-type': 'application/json;charset=utf-8' }, body: fault.body };
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

interface SimulatorState {
  handlers: SimulatorVendorHandler[];
  /** The AccessKeys of the Alibaba Cloud RAM user and of the Tencent Cloud CAM user. */
  aliyunBook: AccessKeyBook;
  ucloudKeys: UcloudKey[];
  tencentBook: AccessKeyBook;
  aliyunMaxSessionDurationSeconds: number;
  accountRateLimit: { perSecond: number; actions?: Set<string> } | undefined;
  /** Arrival times of the last second's requests, per key (bounded: one entry per key in use, perSecond times each). */
  arrivals: Map<string, number[]>;
  stsRoles: Record<string, { externalId?: string }>;
  stsLifetimeScale: number;
  assumeRoleCalls: AssumeRoleRecord[];
  /** Issued STS credentials by key id, oldest first (bounded by MAX_ISSUED). */
  issued: Map<string, IssuedCredentials>;
  camsExpireSeconds: number;
  ufileLifetimeSeconds: number;
  calls: SimulatorCall[];
  scripts: QueuedRule[];
  nonces: Set<string>;
  provisioned: Map<string, Record<string, unknown>>;
  ufilePrivateKeys: string[];
  startedAt: number;
  timers: Set<NodeJS.Timeout>;
  chaos: ChaosState | undefined;
  closed: boolean;
}

/** Checks the request like the vendor; returns the action's runner, or throws a refusal. */
function authenticate(req: ParsedRequest, sim: SimulatorState, call: SimulatorCall): () => Reply {
  if (call.vendor === 'ucloud') {
    const auth = verifyUcloud(req, sim, call);
    return () => ucloudOperation(auth, sim);
  }
  if (call.vendor === 'tencent') {
    const auth = verifyTencent(req, sim, call);
    return () => tencentOperation(auth, sim);
  }
  if (req.path !== '/') throw new AliyunRefusal(404, 'InvalidApi.NotFound', `Specified api is not found: ${req.path}.`);
  const isV3 = /^ACS3-/i.test(header(req, 'authorization') ?? '') || header(req, 'x-acs-action') !== undefined;
  const auth = isV3 ? verifyAcs3(req, sim, call) : verifyRpc(req, sim, call);
  call.params = auth.params;
  checkFreshness(auth, sim);
  // Accepted: the key's last use is now, whatever the action then answers.
  sim.aliyunBook.markUsed(call.accessKeyId);
  return () => aliyunOperation(auth, sim);
}

function refusalReply(error: unknown, call: SimulatorCall, host: string): Reply {
  if (error instanceof UcloudRefusal) {
    call.code = String(error.retCode);
    return ucloudReply(call.action, { RetCode: error.retCode, Message: error.message });
  }
  if (error instanceof AliyunRefusal) {
    call.code = error.code;
    return aliyunErrorReply(error.status, error.code, error.message, host);
  }
  if (error instanceof TencentRefusal) {
    call.code = error.code;
    return tencentErrorReply(error.code, error.message);
  }
  throw error;
}

function outcomeCode(call: SimulatorCall): string {
  if (call.code !== 'pending') return call.code;
  return call.vendor === 'ucloud' ? '0' : 'OK';
}

function sleep(sim: SimulatorState, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sim.timers.delete(timer);
      resolve();
    }, ms);
    sim.timers.add(timer);
  });
}

/** Answers a request a plugged-in vendor claims, recording it like the others. */
function servePlugged(sim: SimulatorState, handler: SimulatorVendorHandler, request: SimulatorRequest, res: ServerResponse): void {
  const call: SimulatorCall = {
    vendor: handler.vendor,
    action: '',
    method: request.method,
    params: {},
    query: request.query,
    body: {},
    code: 'pending',
    status: 0,
    delivered: false,
    receivedAt: Date.now(),
  };
  sim.calls.push(call);
  const reply = handler.answer(request);
  Object.assign(call, { action: reply.action, code: reply.code, status: reply.status });
  if (sim.closed || res.destroyed) return;
  res.once('finish', () => {
    call.delivered = true;
  });
  res.writeHead(reply.status, reply.headers).end(reply.body);
}

async function serve(sim: SimulatorState, req: ParsedRequest, res: ServerResponse, log: boolean): Promise<void> {
  const request: SimulatorRequest = {
    method: req.method,
    path: req.path,
    headers: req.headers,
    query: req.query,
    body: req.rawBody.toString('utf8'),
  };
  const plugged = sim.handlers.find((handler) => handler.claims(request));
  if (plugged !== undefined) return servePlugged(sim, plugged, request, res);
  const call: SimulatorCall = {
    vendor: detectVendor(req),
    action: '',
    method: req.method,
    params: {},
    query: req.query,
    body: req.json ? Object.fromEntries(Object.entries(req.json).map(([k, v]) => [k, String(v)])) : req.body,
    code: 'pending',
    status: 0,
    delivered: false,
    receivedAt: Date.now(),
  };
  sim.calls.push(call);
  const host = ALIYUN_ACTIONS[header(req, 'x-acs-action') ?? req.query.Action ?? req.body.Action ?? '']?.host ?? 'simulator.local';
  let reply: Reply;
  try {
    const run = authenticate(req, sim, call);
    let fault = takeFault(sim, call.action, call.params) ?? accountThrottle(sim, call);
    if (!fault) {
      const chaos = drawChaos(sim, call.action);
      if (chaos) call.chaos = chaos;
      fault = chaos && chaosFault(chaos, call.vendor);
    }
    if (fault) call.fault = fault.kind;
    if (fault?.kind === 'hang') {
      call.code = 'hang';
      return; // never answered; close() destroys the socket
    }
    if (fault?.kind === 'reset') {
      call.code = 'reset';
      res.socket?.destroy();
      return;
    }
    if (fault?.kind === 'delay') await sleep(sim, fault.ms);
    reply = (fault && faultReply(fault, call, host)) ?? run();
  } catch (error) {
    reply = refusalReply(error, call, host);
  }
  call.code = outcomeCode(call);
  if (call.chaos === 'lostReply') {
    // Done at the vendor, and the answer lost on the way back.
    res.socket?.destroy();
    return;
  }
  call.status = reply.status;
  if (log) process.stderr.write(`${JSON.stringify({ simulator: { ...call, params: undefined, query: undefined, body: undefined } })}\n`);
  if (sim.closed || res.destroyed) return;
  res.once('finish', () => {
    call.delivered = true;
  });
  res.writeHead(reply.status, reply.headers).end(reply.body);
}

export async function startVendorSimulator(options: SimulatorOptions = {}): Promise<VendorSimulator> {
  const sim: SimulatorState = {
    handlers: options.handlers ?? [],
    aliyunBook: new AccessKeyBook('sim-aliyun', options.keyPropagationMs ?? DEFAULT_KEY_PROPAGATION_MS),
    ucloudKeys: options.ucloudKeys ?? [{ ...SIMULATOR_DEFAULT_KEYS.ucloud }],
    tencentBook: new AccessKeyBook('sim-tencent', options.keyPropagationMs ?? DEFAULT_KEY_PROPAGATION_MS),
    aliyunMaxSessionDurationSeconds: options.aliyunMaxSessionDurationSeconds ?? 3600,
    accountRateLimit: options.accountRateLimit && {
      perSecond: options.accountRateLimit.perSecond,
      ...(options.accountRateLimit.actions !== undefined && { actions: new Set(options.accountRateLimit.actions) }),
    },
    arrivals: new Map(),
    stsRoles: options.stsRoles ?? {},
    stsLifetimeScale: options.stsLifetimeScale ?? 1,
    assumeRoleCalls: [],
    issued: new Map(),
    camsExpireSeconds: options.camsExpireSeconds ?? 3600,
    ufileLifetimeSeconds: options.ufileLifetimeSeconds ?? 86_400,
    calls: [],
    scripts: [],
    nonces: new Set(),
    provisioned: new Map(),
    ufilePrivateKeys: SIMULATOR_UFILE_TOKENS.map(() => randomUUID()),
    startedAt: Math.floor(Date.now() / 1000),
    timers: new Set(),
    chaos: undefined,
    closed: false,
  };
  const setKeys: VendorSimulator['setKeys'] = (keys) => {
    if (keys.aliyun) sim.aliyunBook.replace(keys.aliyun.map((k) => ({ keyId: k.accessKeyId, secret: k.accessKeySecret })));
    if (keys.ucloud) sim.ucloudKeys = keys.ucloud.map((k) => ({ ...k }));
    if (keys.tencent) sim.tencentBook.replace(keys.tencent.map((k) => ({ keyId: k.secretId, secret: k.secretKey })));
  };
  setKeys({
    aliyun: options.aliyunKeys ?? [SIMULATOR_DEFAULT_KEYS.aliyun],
    tencent: options.tencentKeys ?? [SIMULATOR_DEFAULT_KEYS.tencent],
  });
  const bookOf = (vendor: KeyVendor) => (vendor === 'aliyun' ? sim.aliyunBook : sim.tencentBook);
  const server = createServer((req, res) => {
    readBody(req)
      .then((raw) => serve(sim, parseRequest(req, raw), res, options.log ?? false))
      .catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed) res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      });
  });
  const loopback = await listenOnLoopback(server, options.port);

  return {
    url: loopback.url,
    port: loopback.port,
    calls: sim.calls,
    callsTo: (action) => sim.calls.filter((call) => call.action === action),
    assumeRoleCalls: sim.assumeRoleCalls,
    issuedCredentials: (accessKeyId) => sim.issued.get(accessKeyId),
    setKeys,
    accessKeys: (vendor) => bookOf(vendor).views(),
    seedAccessKey(vendor, options = {}) {
      const key = bookOf(vendor).seed({
        ...(options.status !== undefined && { status: options.status }),
        ...(options.createdAt !== undefined && { createdAt: options.createdAt.getTime() }),
        ...(options.lastUsedAt !== undefined && { lastUsedAt: options.lastUsedAt.getTime() }),
        ...(options.propagated !== undefined && { propagated: options.propagated }),
      });
      return { keyId: key.keyId, secret: key.secret };
    },
    setKeyPropagationMs(ms) {
      if (!(ms >= 0)) throw new RangeError(`the propagation delay must be at least 0 ms, not ${ms}`);
      sim.aliyunBook.propagationMs = ms;
      sim.tencentBook.propagationMs = ms;
    },
    script(...rules) {
      for (const rule of rules) {
        const queued: QueuedRule = { remaining: rule.times ?? 1, fault: rule.fault };
        if (rule.action !== undefined) queued.action = rule.action;
        if (rule.params !== undefined) queued.params = rule.params;
        sim.scripts.push(queued);
      }
    },
    setChaos(options) {
      sim.chaos = options && chaosState(options);
    },
    provisionedScopes(appId) {
      const application = sim.provisioned.get(appId) as
        | { DelegatedScope: { PredefinedScopes: { PredefinedScope: { Name: string }[] } } }
        | undefined;
      return application?.DelegatedScope.PredefinedScopes.PredefinedScope.map((scope) => scope.Name);
    },
    reset() {
      sim.calls.length = 0; // same array object: callers holding `calls` see it cleared
      sim.assumeRoleCalls.length = 0;
      sim.issued.clear();
      sim.scripts.length = 0;
      sim.chaos = undefined;
      sim.nonces.clear();
      sim.provisioned.clear();
      sim.arrivals.clear();
    },
    async close() {
      sim.closed = true;
      for (const timer of sim.timers) clearTimeout(timer);
      sim.timers.clear();
      await loopback.close(); // drops open connections, hung requests included
    },
  };
}
