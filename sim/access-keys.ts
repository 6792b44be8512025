/**
 * The AccessKeys of the simulator's vendor users, and the key APIs that manage them: Alibaba
 * Cloud IMS 2019-08-15 (CreateAccessKey, UpdateAccessKey, DeleteAccessKey, ListAccessKeys,
 * GetAccessKeyLastUsed) and Tencent Cloud CAM 2019-01-16 (CreateAccessKey, UpdateAccessKey,
 * DeleteAccessKey, ListAccessKeys, GetSecurityLastUsed), after the request's signature has been
 * checked (sim/vendor-simulator.ts). Facts and sources: docs/vendors.md, "AccessKey APIs".
 *
 * Each vendor has one user here, the one the broker's master key belongs to: its keys are a
 * bounded list (a new one refused at two), a created key is accepted by signed calls only
 * after a propagation delay, an Inactive or deleted key is refused by every signed call, and
 * every accepted signed call records its key's last use. Nothing here imports lib/.
 *
 * Assumptions where the vendor documents are silent are marked "Assumption:".
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';

/** An AccessKey's state, as both vendors spell it. */
export type KeyStatus = 'Active' | 'Inactive';

/** One AccessKey as the simulator keeps it. */
interface StoredKey {
  keyId: string;
  secret: string;
  status: KeyStatus;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms of the last status change. */
  updatedAt: number;
  /** Signed calls with it are accepted from this time on (epoch ms): creation plus the propagation delay. */
  validFrom: number;
  /** Epoch ms of the last signed call the simulator accepted with it. */
  lastUsedAt?: number;
}

/** What a test sees of a key: never its secret. */
export interface AccessKeyView {
  keyId: string;
  status: KeyStatus;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601, absent while no signed call with the key was accepted. */
  lastUsedAt?: string;
  /** Whether the propagation delay has passed: signed calls with it are accepted (when Active). */
  propagated: boolean;
}

/** Why the key a signed call names is refused: unknown (never created, or deleted), not yet propagated, or Inactive. */
export type KeyRefusal = 'unknown' | 'notYetValid' | 'inactive';

/** Both vendors: "每个账号最多支持两个AccessKey" (CAM), "a maximum of two AccessKey pairs" per RAM user. */
export const MAX_ACCESS_KEYS = 2;
/** How long a new key takes to be accepted by default: a few hundred ms, so tests see the delay without waiting long. */
export const DEFAULT_KEY_PROPAGATION_MS = 300;
/** Most keys a book holds, whatever setKeys and seedAccessKey are given: the limit above is the vendor's, this one the simulator's. */
const MAX_BOOK_SIZE = 16;

/** A key-API refusal, in the vendor's terms: Alibaba's HTTP status (Tencent answers 200 whatever the error) and code. */
export class KeyActionRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The keys of one vendor's user. */
export class AccessKeyBook {
  private keys: StoredKey[] = [];

  /** `prefix` makes ids and secrets obviously fake (`sim-aliyun-ak-…`); `propagationMs` is the delay of a new key. */
  constructor(
    private readonly prefix: string,
    public propagationMs: number,
  ) {}

  /** Replaces every key with these, Active and accepted at once (the simulator's setKeys). */
  replace(pairs: readonly { keyId: string; secret: string }[], now = Date.now()): void {
    if (pairs.length > MAX_BOOK_SIZE) throw new RangeError(`at most ${MAX_BOOK_SIZE} keys per vendor`);
    this.keys = pairs.map((pair) => ({ ...pair, status: 'Active', createdAt: now, updatedAt: now, validFrom: now }));
  }

  /** The key a signed call names with its secret, or why it is refused. */
  check(keyId: string | undefined, now = Date.now()): { secret: string } | { refusal: KeyRefusal } {
    const key = this.keys.find((k) => k.keyId === keyId);
    if (!key) return { refusal: 'unknown' };
    if (now < key.validFrom) return { refusal: 'notYetValid' };
    if (key.status !== 'Active') return { refusal: 'inactive' };
    return { secret: key.secret };
  }

  /** Records an accepted signed call with `keyId`. */
  markUsed(keyId: string | undefined, now = Date.now()): void {
    const key = this.keys.find((k) => k.keyId === keyId);
    if (key) key.lastUsedAt = now;
  }

  /** A new Active key, accepted after the propagation delay; refused at MAX_ACCESS_KEYS. */
  create(now = Date.now()): StoredKey | undefined {
    if (this.keys.length >= MAX_ACCESS_KEYS) return undefined;
    return this.add('Active', now, now + this.propagationMs);
  }

  /** A key nobody asked for (a test's "unknown" key): accepted at once unless `propagated` is false, last used when told. */
  seed(options: { status?: KeyStatus; createdAt?: number; lastUsedAt?: number; propagated?: boolean } = {}, now = Date.now()): StoredKey {
    if (this.keys.length >= MAX_BOOK_SIZE) throw new RangeError(`at most ${MAX_BOOK_SIZE} keys per vendor`);
    const createdAt = options.createdAt ?? now;
    const key = this.add(options.status ?? 'Active', createdAt, options.propagated === false ? now + this.propagationMs : createdAt);
    if (options.lastUsedAt !== undefined) key.lastUsedAt = options.lastUsedAt;
    return key;
  }

  /** Sets a key's status; false for an unknown key. */
  setStatus(keyId: string, status: KeyStatus, now = Date.now()): boolean {
    const key = this.keys.find((k) => k.keyId === keyId);
    if (!key) return false;
    key.status = status;
    key.updatedAt = now;
    return true;
  }

  /** Deletes a key at once (Assumption: no recycle bin: it stops counting towards the limit); false for an unknown key. */
  remove(keyId: string): boolean {
    const before = this.keys.length;
    this.keys = this.keys.filter((k) => k.keyId !== keyId);
    return this.keys.length < before;
  }

  /** The keys, oldest first. */
  list(): readonly Readonly<StoredKey>[] {
    return this.keys;
  }

  /** The keys as a test sees them. */
  views(now = Date.now()): AccessKeyView[] {
    return this.keys.map((key) => ({
      keyId: key.keyId,
      status: key.status,
      createdAt: new Date(key.createdAt).toISOString(),
      ...(key.lastUsedAt !== undefined && { lastUsedAt: new Date(key.lastUsedAt).toISOString() }),
      propagated: now >= key.validFrom,
    }));
  }

  private add(status: KeyStatus, createdAt: number, validFrom: number): StoredKey {
    const key: StoredKey = {
      keyId: `${this.prefix}-ak-${randomBytes(8).toString('hex')}`,
      secret: `${this.prefix}-secret-${randomBytes(16).toString('hex')}`,
      status,
      createdAt,
      updatedAt: createdAt,
      validFrom,
    };
    this.keys.push(key);
    return key;
  }
}

/** `YYYY-MM-DDTHH:mm:ssZ`, as IMS writes CreateDate (`2020-10-15T08:08:54Z`). */
function isoSeconds(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------------------
// Alibaba Cloud IMS 2019-08-15 (RPC; parameters are strings)
// ---------------------------------------------------------------------------

/** The IMS AccessKey actions and the parameters each requires. */
export const IMS_KEY_ACTIONS: Record<string, string[]> = {
  CreateAccessKey: [],
  UpdateAccessKey: ['UserAccessKeyId', 'Status'],
  DeleteAccessKey: ['UserAccessKeyId'],
  ListAccessKeys: [],
  GetAccessKeyLastUsed: ['UserAccessKeyId'],
};

const imsKeyNotFound = (keyId: string) =>
  new KeyActionRefusal(404, 'EntityNotExist.User.AccessKey', `The user access key ${keyId} does not exist.`);

/** One IMS AccessKey action on `book`; the answer body, or a KeyActionRefusal. */
export function imsKeyAction(
  action: string,
  params: Record<string, string>,
  book: AccessKeyBook,
  now = Date.now(),
): Record<string, unknown> {
  // Assumption: the simulator knows only the calling user, addressed by leaving UserPrincipalName out.
  if (params.UserPrincipalName) throw new KeyActionRefusal(404, 'EntityNotExist.User', 'The user does not exist.');
  const RequestId = randomUUID().toUpperCase();
  const keyId = params.UserAccessKeyId ?? '';
  switch (action) {
    case 'CreateAccessKey': {
      const key = book.create(now);
      // RAM's documented refusal (409); Assumption: IMS answers the same.
      if (!key)
        throw new KeyActionRefusal(
          409,
          'LimitExceeded.User.AccessKey',
          'The access key count of the user access keys beyond the current limits.',
        );
      return {
        RequestId,
        AccessKey: { AccessKeyId: key.keyId, AccessKeySecret: key.secret, CreateDate: isoSeconds(key.createdAt), Status: key.status },
      };
    }
    case 'UpdateAccessKey': {
      // Assumption: a Status other than Active or Inactive is refused as RAM refuses a malformed parameter.
      if (params.Status !== 'Active' && params.Status !== 'Inactive') {
        throw new KeyActionRefusal(400, 'InvalidParameter.Status', 'The parameter Status is wrongly formed.');
      }
      if (!book.setStatus(keyId, params.Status, now)) throw imsKeyNotFound(keyId);
      return { RequestId };
    }
    case 'DeleteAccessKey':
      if (!book.remove(keyId)) throw imsKeyNotFound(keyId);
      return { RequestId };
    case 'ListAccessKeys':
      return {
        RequestId,
        AccessKeys: {
          AccessKey: book.list().map((key) => ({
            AccessKeyId: key.keyId,
            Status: key.status,
            CreateDate: isoSeconds(key.createdAt),
            UpdateDate: isoSeconds(key.updatedAt),
          })),
        },
      };
    default: {
      const key = book.list().find((k) => k.keyId === keyId);
      if (!key) throw imsKeyNotFound(keyId);
      // Assumption: a key never used has no LastUsedDate. The simulator knows no service names; it says "Simulator".
      return {
        RequestId,
        AccessKeyLastUsed: { ...(key.lastUsedAt !== undefined && { LastUsedDate: isoSeconds(key.lastUsedAt) }), ServiceName: 'Simulator' },
      };
    }
  }
}

// ---------------------------------------------------------------------------
// Tencent Cloud CAM 2019-01-16 (API 3.0; a JSON body with typed values)
// ---------------------------------------------------------------------------

/** The CAM AccessKey actions: their parameters and which are required. */
export const CAM_KEY_ACTIONS: Record<string, { params: string[]; required: string[] }> = {
  CreateAccessKey: { params: ['TargetUin', 'Description'], required: [] },
  UpdateAccessKey: { params: ['AccessKeyId', 'Status', 'TargetUin'], required: ['AccessKeyId', 'Status'] },
  DeleteAccessKey: { params: ['AccessKeyId', 'TargetUin'], required: ['AccessKeyId'] },
  ListAccessKeys: { params: ['TargetUin'], required: [] },
  GetSecurityLastUsed: { params: ['SecretIdList'], required: ['SecretIdList'] },
};

/** The uin of the simulator's CAM user (the local role's account, sim/vendors/tencent.ts). */
export const SIM_TENCENT_UIN = 100000000001;

/** Tencent writes CreateTime as `2020-03-03 18:00:26`. Assumption: in Beijing time (UTC+8), as the console shows times. */
function beijingTime(epochMs: number): string {
  return new Date(epochMs + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

const paramError = (message: string) => new KeyActionRefusal(200, 'InvalidParameter.ParamError', message);

/** Checks the body the way API 3.0 does: unknown names, missing and mistyped values. */
function checkCamParams(action: string, params: Record<string, unknown>): void {
  const spec = CAM_KEY_ACTIONS[action]!;
  const unknown = Object.keys(params).filter((name) => !spec.params.includes(name));
  if (unknown.length > 0) throw new KeyActionRefusal(200, 'UnknownParameter', `The parameter \`${unknown[0]}\` is not recognized.`);
  for (const name of spec.required) {
    if (params[name] === undefined)
      throw new KeyActionRefusal(200, 'MissingParameter', `The request is missing a required parameter \`${name}\`.`);
  }
  const wrongType = (name: string, ok: (value: unknown) => boolean) => params[name] !== undefined && !ok(params[name]);
  if (
    wrongType('TargetUin', Number.isInteger) ||
    ['AccessKeyId', 'Status', 'Description'].some((name) => wrongType(name, (v) => typeof v === 'string')) ||
    wrongType('SecretIdList', (v) => Array.isArray(v) && v.every((id) => typeof id === 'string'))
  ) {
    throw new KeyActionRefusal(200, 'InvalidParameter', 'A parameter has the wrong type.');
  }
  // Assumption: another user's uin is refused as the SDK's error list names it.
  if (params.TargetUin !== undefined && params.TargetUin !== SIM_TENCENT_UIN) {
    throw new KeyActionRefusal(200, 'InvalidParameter.UserNotExist', 'The user does not exist.');
  }
}

/** Assumption: an unknown AccessKeyId gets the SDK's "操作访问密钥错误" (error operating the access key). */
const camKeyNotFound = () => new KeyActionRefusal(200, 'FailedOperation.Accesskey', 'The access key does not exist.');

/** One CAM AccessKey action on `book`: the `Response` body without its RequestId, or a KeyActionRefusal. */
export function camKeyAction(
  action: string,
  params: Record<string, unknown>,
  book: AccessKeyBook,
  now = Date.now(),
): Record<string, unknown> {
  checkCamParams(action, params);
  switch (action) {
    case 'CreateAccessKey': {
      const key = book.create(now);
      if (!key) throw new KeyActionRefusal(200, 'OperationDenied.AccessKeyOverLimit', 'Each account can have up to two AccessKeys.');
      return {
        AccessKey: {
          AccessKeyId: key.keyId,
          SecretAccessKey: key.secret,
          Status: key.status,
          CreateTime: beijingTime(key.createdAt),
          ...(typeof params.Description === 'string' && { Description: params.Description }),
        },
      };
    }
    case 'UpdateAccessKey': {
      if (params.Status !== 'Active' && params.Status !== 'Inactive') throw paramError('Status must be Active or Inactive.');
      if (!book.setStatus(params.AccessKeyId as string, params.Status, now)) throw camKeyNotFound();
      return {};
    }
    case 'DeleteAccessKey':
      if (!book.remove(params.AccessKeyId as string)) throw camKeyNotFound();
      return {};
    case 'ListAccessKeys':
      return {
        AccessKeys: book.list().map((key) => ({ AccessKeyId: key.keyId, Status: key.status, CreateTime: beijingTime(key.createdAt) })),
      };
    default: {
      const ids = params.SecretIdList as string[];
      // "查询密钥ID列表。最多支持10个。" (at most 10 ids).
      if (ids.length < 1 || ids.length > 10) throw paramError('SecretIdList holds 1 to 10 ids.');
      // Assumption: an id the account does not have is left out of the rows; a key never used has nulls.
      const rows = ids.flatMap((id) => {
        const key = book.list().find((k) => k.keyId === id);
        if (!key) return [];
        const used = key.lastUsedAt;
        // LastUsedDate is a day (`2022-12-19`, "有1天延迟": a day late at the vendor); LastSecretUsedDate epoch ms (tccli's example 1671681023555).
        return [
          { SecretId: id, LastUsedDate: used === undefined ? null : beijingTime(used).slice(0, 10), LastSecretUsedDate: used ?? null },
        ];
      });
      return { SecretIdLastUsedRows: rows };
    }
  }
}
