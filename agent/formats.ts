/**
 * The answer formats of the agent's endpoints, from credentials held for a route: Alibaba
 * Cloud's credentials-URI format (`ALIBABA_CLOUD_CREDENTIALS_URI`), its external-process
 * format (`process_command`), Tencent Cloud's temporary-credential shape, and a route's own
 * `data`. The STS answers' `data` is checked with a schema first; a format is never built from
 * credentials that have expired (an Error instead, which the server answers 503).
 * @module
 */
import * as z from 'zod/mini';

/** Credentials held for a route: the broker's `data` and its times (epoch ms). */
export interface HeldAnswer {
  data: unknown;
  expiresAt: number;
  refreshAfter: number;
}

/** `data` of `/v1/aliyun/sts/assume-role` (docs/contracts.md), the fields the formats use. */
export const aliyunStsData = z.looseObject({
  accessKeyId: z.string().check(z.minLength(1)),
  accessKeySecret: z.string().check(z.minLength(1)),
  securityToken: z.string().check(z.minLength(1)),
});

/** `data` of `/v1/tencent/sts/assume-role`, the fields the format uses. */
export const tencentStsData = z.looseObject({
  credentials: z.looseObject({
    tmpSecretId: z.string().check(z.minLength(1)),
    tmpSecretKey: z.string().check(z.minLength(1)),
    token: z.string().check(z.minLength(1)),
  }),
});

/** The Alibaba Cloud credentials-URI answer. */
export interface AliyunUriCredentials {
  Code: 'Success';
  AccessKeyId: string;
  AccessKeySecret: string;
  SecurityToken: string;
  /** `YYYY-MM-DDTHH:MM:SSZ`: the Go, Python and Java parsers refuse milliseconds. */
  Expiration: string;
}

/** The external-process JSON of aliyun CLI's and the credentials libraries' `process_command`. */
export interface AliyunProcessCredentials {
  mode: 'StsToken';
  access_key_id: string;
  access_key_secret: string;
  sts_token: string;
  expiration: string;
}

/** Tencent Cloud temporary credentials, as COS's `getAuthorization` and a tencentcloud-sdk credential take them. */
export interface TencentCredentials {
  TmpSecretId: string;
  TmpSecretKey: string;
  Token: string;
  /** Epoch seconds. */
  ExpiredTime: number;
}

/** Thrown when held credentials cannot be served: expired, or not the shape the endpoint needs. */
export class NotServable extends Error {
  override readonly name = 'NotServable';
}

/** `epochMs` as `YYYY-MM-DDTHH:MM:SSZ`, rounded down: never later than the credentials really live. */
export function isoSeconds(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function live(held: HeldAnswer, now: number): void {
  if (held.expiresAt <= now) throw new NotServable('the credentials held have expired');
}

function checked<T>(schema: z.ZodMiniType<T>, data: unknown, route: string): T {
  const parsed = schema.safeParse(data);
  // Only where it is wrong: values may be secrets.
  if (!parsed.success)
    throw new NotServable(`the ${route} answer is not STS credentials (${parsed.error.issues.map((i) => i.path.join('.')).join(', ')})`);
  return parsed.data;
}

/** `/aliyun/credentials`: the credentials-URI format. */
export function aliyunUri(held: HeldAnswer, now = Date.now()): AliyunUriCredentials {
  live(held, now);
  const data = checked(aliyunStsData, held.data, 'aliyun');
  return {
    Code: 'Success',
    AccessKeyId: data.accessKeyId,
    AccessKeySecret: data.accessKeySecret,
    SecurityToken: data.securityToken,
    Expiration: isoSeconds(held.expiresAt),
  };
}

/** `print aliyun`: the external-process format, from the credentials-URI answer. */
export function aliyunProcess(uri: AliyunUriCredentials): AliyunProcessCredentials {
  return {
    mode: 'StsToken',
    access_key_id: uri.AccessKeyId,
    access_key_secret: uri.AccessKeySecret,
    sts_token: uri.SecurityToken,
    expiration: uri.Expiration,
  };
}

/** The credentials-URI answer as `print aliyun` reads it back from a running agent. */
export const aliyunUriAnswer = z.object({
  Code: z.literal('Success'),
  AccessKeyId: z.string().check(z.minLength(1)),
  AccessKeySecret: z.string().check(z.minLength(1)),
  SecurityToken: z.string().check(z.minLength(1)),
  Expiration: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)),
});

/** `/tencent/credentials`. */
export function tencentCredentials(held: HeldAnswer, now = Date.now()): TencentCredentials {
  live(held, now);
  const data = checked(tencentStsData, held.data, 'tencent');
  return {
    TmpSecretId: data.credentials.tmpSecretId,
    TmpSecretKey: data.credentials.tmpSecretKey,
    Token: data.credentials.token,
    ExpiredTime: Math.floor(held.expiresAt / 1000),
  };
}

/** `/routes/<name>`: the route's `data` with `expiresAt` and `refreshAfter` (ISO 8601). */
export function routeAnswer(held: HeldAnswer, now = Date.now()): { data: unknown; expiresAt: string; refreshAfter: string } {
  live(held, now);
  return { data: held.data, expiresAt: new Date(held.expiresAt).toISOString(), refreshAfter: new Date(held.refreshAfter).toISOString() };
}
