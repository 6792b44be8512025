/**
 * STS AssumeRole as Alibaba Cloud (sts.aliyuncs.com, 2015-04-01) and Tencent Cloud
 * (sts.tencentcloudapi.com, 2018-08-13) answer it, after the request's signature has been
 * checked: parameters validated the way each vendor documents them, fresh random
 * credentials per call, expiry from DurationSeconds. Every call is recorded (RoleArn,
 * RoleSessionName, the session policy as the vendor read it) so tests can assert what the
 * broker sent. Facts and sources: docs/vendors.md, "STS AssumeRole".
 *
 * Assumptions where the vendor documents are silent are marked "Assumption:".
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** What the vendor made of one AssumeRole request that reached it. */
export interface AssumeRoleRecord {
  vendor: 'aliyun' | 'tencent';
  /** As sent; undefined when absent or not a string. */
  roleArn?: string;
  roleSessionName?: string;
  /** DurationSeconds as sent (a number), undefined when absent. */
  durationSeconds?: number;
  /**
   * The session policy as the vendor reads it: Alibaba's Policy as received; Tencent's after
   * the URL-decoding its server applies. Undefined when none was sent or it did not decode.
   */
  policy?: string;
  /** The Policy parameter exactly as it arrived (Tencent: still URL-encoded), to check the encoding. */
  policySent?: string;
  /** `policy` parsed as JSON, when it parses. */
  policyDocument?: unknown;
  externalId?: string;
  /** SourceIdentity as sent. */
  sourceIdentity?: string;
  /** Tencent Cloud's session Tags as sent, when they are a list of Key/Value strings. */
  tags?: { Key: string; Value: string }[];
  /** 'OK' or the code of the vendor's refusal. */
  code: string;
  /** The credentials issued, on success (their key id and expiry; never their secret). */
  issued?: { accessKeyId: string; expiration: string };
}

/** A refusal: Alibaba's HTTP status (Tencent answers 200 whatever the error), the vendor's code and message. */
export class StsRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The record of the call, and either the answer body or the refusal. */
export type StsOutcome = { record: AssumeRoleRecord; answer: Record<string, unknown> } | { record: AssumeRoleRecord; refusal: StsRefusal };

/**
 * The lifetime the simulator gives credentials asked to live `durationSeconds`: `lifetimeScale`
 * of it (at least a second), so a test sees several lifetimes in a minute (SimulatorOptions
 * `stsLifetimeScale`, SIM_LIFETIME_SCALE for npm start). The checks on DurationSeconds are the
 * vendor's, on the unscaled value.
 */
export function scaledLifetime(durationSeconds: number, lifetimeScale = 1): number {
  return Math.max(1, Math.round(durationSeconds * lifetimeScale));
}

/** `YYYY-MM-DDTHH:mm:ssZ`: both vendors' Expiration (Alibaba's example 2015-04-09T11:52:19Z). */
function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function randomText(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Roles by ARN with what their trust policy demands (the simulator's `stsRoles`). */
export type StsRoles = Record<string, { externalId?: string }>;

/** Runs the checks; a thrown StsRefusal becomes the outcome, with what was read so far recorded. */
function outcome(record: AssumeRoleRecord, run: () => Record<string, unknown>): StsOutcome {
  try {
    const answer = run();
    record.code = 'OK';
    return { record, answer };
  } catch (error) {
    if (!(error instanceof StsRefusal)) throw error;
    record.code = error.code;
    return { record, refusal: error };
  }
}

// ---------------------------------------------------------------------------
// Alibaba Cloud: AssumeRole 2015-04-01, RPC parameters (strings)
// ---------------------------------------------------------------------------

/** `acs:ram::<account id>:role/<role name>`; role names are 1–64 letters, digits, `.` and `-`. */
const ALIYUN_ROLE_ARN = /^acs:ram::\d+:role\/[A-Za-z0-9.-]{1,64}$/;
/** 2–64 letters, digits and `. @ - _`. */
const ALIYUN_SESSION_NAME = /^[\w.@-]{2,64}$/;
/** 2–1224 letters, digits and `= , . @ : / - _`. */
const ALIYUN_EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
/** Assumption: SourceIdentity as the SDK model describes RoleSessionName: 2–64 letters, digits and `. @ - _`. */
const ALIYUN_SOURCE_IDENTITY = /^[\w.@-]{2,64}$/;
const ALIYUN_MIN_DURATION = 900;
const ALIYUN_DEFAULT_DURATION = 3600;
const ALIYUN_MAX_POLICY_BYTES = 2048;

function aliyunBadParameter(name: string): StsRefusal {
  return new StsRefusal(400, `InvalidParameter.${name}`, `The parameter ${name} is wrongly formed.`);
}

/** A RAM policy: a JSON object with Version "1" and a Statement list. */
function aliyunPolicyDocument(policy: string): unknown {
  if (Buffer.byteLength(policy) > ALIYUN_MAX_POLICY_BYTES) {
    throw new StsRefusal(400, 'InvalidParameter.PolicySize', 'The size of Policy must be smaller than 2048 bytes.');
  }
  const document = parseJson(policy);
  // Assumption: "grammar check" covers at least a JSON object with Version "1" and a Statement list.
  if (!isObject(document) || document.Version !== '1' || !Array.isArray(document.Statement)) {
    throw new StsRefusal(400, 'InvalidParameter.PolicyGrammar', 'The parameter Policy has not passed grammar check.');
  }
  return document;
}

/**
 * Alibaba Cloud AssumeRole. `maxSessionDurationSeconds` is the role's MaxSessionDuration
 * (3600 by default, up to 43200), the upper bound of DurationSeconds.
 */
export function aliyunAssumeRole(
  params: Record<string, string>,
  maxSessionDurationSeconds: number,
  now = Date.now(),
  lifetimeScale = 1,
  roles: StsRoles = {},
): StsOutcome {
  const record: AssumeRoleRecord = { vendor: 'aliyun', code: 'pending' };
  if (params.SourceIdentity !== undefined) record.sourceIdentity = params.SourceIdentity;
  if (params.RoleArn !== undefined) record.roleArn = params.RoleArn;
  if (params.RoleSessionName !== undefined) record.roleSessionName = params.RoleSessionName;
  if (params.DurationSeconds !== undefined && /^\d+$/.test(params.DurationSeconds)) record.durationSeconds = Number(params.DurationSeconds);
  if (params.ExternalId !== undefined) record.externalId = params.ExternalId;
  if (params.Policy !== undefined) {
    record.policy = params.Policy;
    record.policySent = params.Policy;
    const document = parseJson(params.Policy);
    if (document !== undefined) record.policyDocument = document;
  }
  return outcome(record, () => {
    // The gateway's usual refusal of a missing required parameter (the simulator's other actions answer the same).
    for (const name of ['RoleArn', 'RoleSessionName']) {
      if (!params[name]) throw new StsRefusal(400, `Missing${name}`, `${name} is mandatory for this action.`);
    }
    if (!ALIYUN_ROLE_ARN.test(params.RoleArn!)) throw aliyunBadParameter('RoleArn');
    if (!ALIYUN_SESSION_NAME.test(params.RoleSessionName!)) throw aliyunBadParameter('RoleSessionName');
    const duration = params.DurationSeconds === undefined ? ALIYUN_DEFAULT_DURATION : Number(params.DurationSeconds);
    if (!/^\d+$/.test(params.DurationSeconds ?? '3600') || duration < ALIYUN_MIN_DURATION || duration > maxSessionDurationSeconds) {
      throw new StsRefusal(400, 'InvalidParameter.DurationSeconds', 'The Min/Max value of DurationSeconds is 15min/1hr.');
    }
    if (params.ExternalId !== undefined && !ALIYUN_EXTERNAL_ID.test(params.ExternalId)) throw aliyunBadParameter('ExternalId');
    if (params.SourceIdentity !== undefined && !ALIYUN_SOURCE_IDENTITY.test(params.SourceIdentity))
      throw aliyunBadParameter('SourceIdentity');
    if (params.Policy !== undefined) aliyunPolicyDocument(params.Policy);
    // Assumption: a trust policy whose sts:ExternalId condition fails is the vendor's usual refusal to assume the role.
    const demanded = Object.hasOwn(roles, params.RoleArn!) ? roles[params.RoleArn!]?.externalId : undefined;
    if (demanded !== undefined && params.ExternalId !== demanded) {
      throw new StsRefusal(403, 'NoPermission', 'You are not authorized to do this action. You should be authorized by RAM.');
    }

    const expiration = isoSeconds(Math.floor(now / 1000) + scaledLifetime(duration, lifetimeScale));
    const accessKeyId = `STS.sim${randomBytes(12).toString('hex')}`;
    record.issued = { accessKeyId, expiration };
    // Assumption: the role id is any stable number; the simulator derives one from the ARN.
    const roleId = BigInt(`0x${createHash('sha256').update(params.RoleArn!).digest('hex').slice(0, 14)}`).toString();
    return {
      RequestId: randomUUID().toUpperCase(),
      AssumedRoleUser: { AssumedRoleId: `${roleId}:${params.RoleSessionName}`, Arn: `${params.RoleArn}/${params.RoleSessionName}` },
      Credentials: {
        SecurityToken: `sim-sts-token-${randomText(48)}`,
        Expiration: expiration,
        AccessKeySecret: `sim-sts-secret-${randomText(24)}`,
        AccessKeyId: accessKeyId,
      },
    };
  });
}

// ---------------------------------------------------------------------------
// Tencent Cloud: AssumeRole 2018-08-13, JSON parameters (typed)
// ---------------------------------------------------------------------------

/** `qcs::cam::uin/<uin>:role/<id>` or `:roleName/<name>` (service roles add a path). */
const TENCENT_ROLE_ARN = /^qcs::cam::uin\/\d+:(role|roleName)\/\S+$/;
/** 2–128 letters, digits and `= , . @ _ -` (regex `[\w+=,.@-]*`). */
const TENCENT_SESSION_NAME = /^[\w+=,.@-]{2,128}$/;
/** 2–128 letters, digits and `= , . @ : / -`. */
const TENCENT_EXTERNAL_ID = /^[\w+=,.@:/-]{2,128}$/;
const TENCENT_DEFAULT_DURATION = 7200;
const TENCENT_MAX_DURATION = 43_200;
/** Assumption: the SDK model calls SourceIdentity "the caller's identity uin" (调用者身份uin) and gives no limits: digits. */
const TENCENT_SOURCE_IDENTITY = /^\d{1,20}$/;
/** Session tags: at most 50, no key twice, each Key 1–128 and Value 0–256 characters (the vendor's Tag model). */
const TENCENT_MAX_TAGS = 50;
const TENCENT_PARAMETERS = new Set(['RoleArn', 'RoleSessionName', 'DurationSeconds', 'Policy', 'ExternalId', 'Tags', 'SourceIdentity']);

// Assumption: the codes of a malformed RoleArn, RoleSessionName or ExternalId are not documented
// one by one; STS lists InvalidParameter.ParamError ("参数错误") for parameter errors.
const paramError = (message: string) => new StsRefusal(200, 'InvalidParameter.ParamError', message);

/** What the vendor's server does to Policy: a URL-decode (`+` is a space, `%XY` a byte of UTF-8). */
function urlDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/** A CAM policy: a JSON object with version "2.0" and a statement list, without `principal`. */
function tencentPolicyDocument(policy: string): unknown {
  const document = parseJson(policy);
  if (!isObject(document) || document.version !== '2.0' || !Array.isArray(document.statement)) {
    throw new StsRefusal(200, 'InvalidParameter.StrategyFormatError', 'The policy does not follow the CAM policy syntax.');
  }
  // The vendor's note: "策略中不能包含 principal 元素" (the policy may not hold a principal element).
  if (document.statement.some((statement) => isObject(statement) && 'principal' in statement)) {
    throw new StsRefusal(200, 'InvalidParameter.StrategyInvalid', 'A session policy may not contain a principal element.');
  }
  return document;
}

/** Tencent Cloud AssumeRole, given the JSON body's object. */
export function tencentAssumeRole(params: Record<string, unknown>, now = Date.now(), lifetimeScale = 1, roles: StsRoles = {}): StsOutcome {
  const record: AssumeRoleRecord = { vendor: 'tencent', code: 'pending' };
  const text = (name: string) => (typeof params[name] === 'string' ? (params[name] as string) : undefined);
  if (text('SourceIdentity') !== undefined) record.sourceIdentity = text('SourceIdentity')!;
  const tagsSent = params.Tags;
  const tagsWellFormed =
    tagsSent === undefined ||
    (Array.isArray(tagsSent) &&
      tagsSent.length <= TENCENT_MAX_TAGS &&
      tagsSent.every(
        (tag) =>
          isObject(tag) &&
          typeof tag.Key === 'string' &&
          tag.Key.length >= 1 &&
          tag.Key.length <= 128 &&
          typeof tag.Value === 'string' &&
          tag.Value.length <= 256,
      ) &&
      new Set(tagsSent.map((tag) => (tag as { Key: string }).Key)).size === tagsSent.length);
  if (Array.isArray(tagsSent) && tagsWellFormed) record.tags = tagsSent as { Key: string; Value: string }[];
  if (text('RoleArn') !== undefined) record.roleArn = text('RoleArn')!;
  if (text('RoleSessionName') !== undefined) record.roleSessionName = text('RoleSessionName')!;
  if (typeof params.DurationSeconds === 'number') record.durationSeconds = params.DurationSeconds;
  if (text('ExternalId') !== undefined) record.externalId = text('ExternalId')!;
  const policySent = text('Policy');
  if (policySent !== undefined) {
    record.policySent = policySent;
    const decoded = urlDecode(policySent);
    if (decoded !== undefined) {
      record.policy = decoded;
      const document = parseJson(decoded);
      if (document !== undefined) record.policyDocument = document;
    }
  }
  return outcome(record, () => {
    const unknown = Object.keys(params).filter((name) => !TENCENT_PARAMETERS.has(name));
    if (unknown.length > 0) throw new StsRefusal(200, 'UnknownParameter', `The parameter \`${unknown[0]}\` is not recognized.`);
    for (const name of ['RoleArn', 'RoleSessionName']) {
      if (params[name] === undefined)
        throw new StsRefusal(200, 'MissingParameter', `The request is missing a required parameter \`${name}\`.`);
    }
    for (const name of ['RoleArn', 'RoleSessionName', 'Policy', 'ExternalId', 'SourceIdentity']) {
      // The common code for a parameter of the wrong type ("参数错误（包括参数格式、类型等错误）").
      if (params[name] !== undefined && typeof params[name] !== 'string')
        throw new StsRefusal(200, 'InvalidParameter', `${name} must be a string.`);
    }
    if (!TENCENT_ROLE_ARN.test(record.roleArn!)) throw paramError('RoleArn is not a role resource description.');
    if (!TENCENT_SESSION_NAME.test(record.roleSessionName!))
      throw paramError('RoleSessionName must be 2 to 128 characters of [\\w+=,.@-].');
    const duration = params.DurationSeconds ?? TENCENT_DEFAULT_DURATION;
    if (typeof duration !== 'number' || !Number.isInteger(duration))
      throw new StsRefusal(200, 'InvalidParameter', 'DurationSeconds must be an integer.');
    if (duration > TENCENT_MAX_DURATION)
      throw new StsRefusal(200, 'InvalidParameter.OverTimeError', 'DurationSeconds may be at most 43200.');
    // Assumption: the documents give no minimum; the simulator refuses only a non-positive duration.
    if (duration < 1) throw paramError('DurationSeconds must be positive.');
    if (record.externalId !== undefined && !TENCENT_EXTERNAL_ID.test(record.externalId)) throw paramError('ExternalId is wrongly formed.');
    if (record.sourceIdentity !== undefined && !TENCENT_SOURCE_IDENTITY.test(record.sourceIdentity))
      throw paramError('SourceIdentity is wrongly formed.');
    if (!tagsWellFormed) throw paramError('Tags must be at most 50 of {Key: 1-128 characters, Value: 0-256 characters}.');
    // Assumption: the code of a trust policy's failed ExternalId condition.
    const demanded = Object.hasOwn(roles, record.roleArn!) ? roles[record.roleArn!]?.externalId : undefined;
    if (demanded !== undefined && record.externalId !== demanded) {
      throw new StsRefusal(200, 'InvalidParameter.ExternalIdError', 'The ExternalId does not match the role trust policy.');
    }
    if (policySent !== undefined) {
      if (record.policy === undefined) throw paramError('Policy is not URL-encoded text.');
      tencentPolicyDocument(record.policy);
    }

    const expiredTime = Math.floor(now / 1000) + scaledLifetime(duration, lifetimeScale);
    const tmpSecretId = `AKIDsim${randomBytes(16).toString('hex')}`;
    const expiration = isoSeconds(expiredTime);
    record.issued = { accessKeyId: tmpSecretId, expiration };
    return {
      Credentials: { Token: `sim-tc-token-${randomText(48)}`, TmpSecretId: tmpSecretId, TmpSecretKey: `sim-tc-secret-${randomText(24)}` },
      ExpiredTime: expiredTime,
      Expiration: expiration,
    };
  });
}
