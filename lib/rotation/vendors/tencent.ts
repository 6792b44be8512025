/**
 * Tencent Cloud's AccessKey APIs for the master-key rotation: CAM 2019-01-16
 * (`cam.tencentcloudapi.com`, TENCENT_CAM_ENDPOINT), API 3.0 with TC3-HMAC-SHA256 and a JSON
 * body, as the official `tencentcloud-sdk-nodejs` CAM client sends them. Every call leaves
 * `TargetUin` out, so it acts on the CAM user the key itself belongs to (docs/vendors.md,
 * "AccessKey APIs").
 * @module
 */
import * as z from 'zod/mini';
import { registerSecret } from '../../core/logger.js';
import type { VendorParams } from '../../vendor/api.js';
import { type TencentKeys, type TencentSpecFields, tencentApi } from '../../vendor/tencent.js';
import { type AccessKeyInfo, defineMasterKeyApi, KeyApiError, type KeyApiFailure } from '../api.js';
import { isoOrUndefined, keyCall } from '../key-call.js';

const CAM: TencentSpecFields = { service: 'cam', version: '2019-01-16' };

/** CAM codes that mean more than their class (the rest: lib/vendor/tencent.ts, classifyTencentCode). */
const CODES: Readonly<Record<string, KeyApiFailure>> = {
  // "每个账号最多支持两个AccessKey" (at most two AccessKeys each); its family, OperationDenied, is a refusal.
  'OperationDenied.AccessKeyOverLimit': 'limitExceeded',
  // The vendor's one code for a key unknown, deleted or disabled; right after CreateAccessKey it means not propagated yet.
  'AuthFailure.SecretIdNotFound': 'notYetValid',
};

/** "操作访问密钥错误" (error operating the access key): what CAM answers, among other things, for a key it does not have. */
const KEY_OPERATION_FAILED = 'FailedOperation.Accesskey';

/** Description of the keys the rotation makes ("[\w+=,.@:/-]*", 1–1024 characters). */
const DESCRIPTION = 'cloud-token-broker-rotation';

const status = z.enum(['Active', 'Inactive']);
const listAnswer = z.object({
  Response: z.object({
    // "此字段可能返回 null" (may be null).
    AccessKeys: z.optional(z.nullable(z.array(z.object({ AccessKeyId: z.string(), Status: status, CreateTime: z.optional(z.string()) })))),
  }),
});
const createAnswer = z.object({
  Response: z.object({
    AccessKey: z.object({ AccessKeyId: z.string().check(z.minLength(1)), SecretAccessKey: z.string().check(z.minLength(1)) }),
  }),
});
const lastUsedAnswer = z.object({
  Response: z.object({
    SecretIdLastUsedRows: z.optional(
      z.nullable(
        z.array(
          z.object({
            SecretId: z.string(),
            LastUsedDate: z.optional(z.nullable(z.string())),
            LastSecretUsedDate: z.optional(z.nullable(z.number())),
          }),
        ),
      ),
    ),
  }),
});
const emptyAnswer = z.object({ Response: z.object({}) });

function cam<Answer>(action: string, params: VendorParams, keys: TencentKeys, answer: z.ZodMiniType<Answer>): Promise<Answer> {
  const settings = tencentApi.readSettings();
  return keyCall({
    api: 'Tencent Cloud CAM',
    adapter: tencentApi.adapter(settings),
    endpoint: settings.TENCENT_CAM_ENDPOINT,
    target: { action, ...CAM },
    params,
    keys,
    codes: CODES,
    answer,
  });
}

/**
 * CreateTime is `2020-03-03 18:00:26`, without a zone. Assumption: Beijing time (UTC+8), as the
 * console shows it; an ISO time with a zone is taken as it is.
 */
function createdAtOf(createTime: string | undefined): string | undefined {
  if (createTime === undefined) return undefined;
  const plain = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/.exec(createTime);
  return isoOrUndefined(plain ? `${plain[1]}T${plain[2]}+08:00` : createTime);
}

async function listKeys(keys: TencentKeys): Promise<AccessKeyInfo[]> {
  const answer = await cam('ListAccessKeys', {}, keys, listAnswer);
  return (answer.Response.AccessKeys ?? []).map((key) => {
    const createdAt = createdAtOf(key.CreateTime);
    return { keyId: key.AccessKeyId, status: key.Status, ...(createdAt !== undefined && { createdAt }) };
  });
}

/**
 * Runs an action on one key; CAM's vague FailedOperation.Accesskey becomes `notFound` when the
 * key is indeed not in the list (so a rerun finds a key it deleted already gone, not a failure).
 */
async function onKey(keys: TencentKeys, keyId: string, action: string, params: VendorParams): Promise<void> {
  try {
    await cam(action, { AccessKeyId: keyId, ...params }, keys, emptyAnswer);
  } catch (error) {
    if (!(error instanceof KeyApiError && error.vendorCode === KEY_OPERATION_FAILED)) throw error;
    if ((await listKeys(keys)).some((key) => key.keyId === keyId)) throw error;
    throw new KeyApiError('notFound', error.vendorCode, `Tencent Cloud CAM ${action}: the key ${keyId} does not exist.`);
  }
}

/** Tencent Cloud's master key, rotated through CAM. */
export const tencentMasterKeyApi = defineMasterKeyApi({
  vendor: tencentApi,
  keyIdOf: (keys) => keys.secretId,
  withNewKey: (keys, keyId, secret) => ({ ...keys, secretId: keyId, secretKey: secret }),
  list: listKeys,
  async create(keys) {
    const { AccessKey } = (await cam('CreateAccessKey', { Description: DESCRIPTION }, keys, createAnswer)).Response;
    // From here on the new secret is masked in any log line, as the stored one is.
    registerSecret(AccessKey.SecretAccessKey);
    return { keyId: AccessKey.AccessKeyId, secret: AccessKey.SecretAccessKey };
  },
  setStatus: (keys, keyId, to) => onKey(keys, keyId, 'UpdateAccessKey', { Status: to }),
  remove: (keys, keyId) => onKey(keys, keyId, 'DeleteAccessKey', {}),
  async lastUsed(keys, keyId) {
    const answer = await cam('GetSecurityLastUsed', { SecretIdList: [keyId] }, keys, lastUsedAnswer);
    const row = answer.Response.SecretIdLastUsedRows?.find((r) => r.SecretId === keyId);
    // LastSecretUsedDate is epoch ms (tccli's example 1671681023555); LastUsedDate only a day, a day late.
    // Assumption: 0 means never, like null.
    return isoOrUndefined(row?.LastSecretUsedDate || row?.LastUsedDate);
  },
  // ListAccessKeys is read-only and needs nothing but the key's own user.
  async probe(keys) {
    await listKeys(keys);
  },
});
