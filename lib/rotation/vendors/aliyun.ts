/**
 * Alibaba Cloud's AccessKey APIs for the master-key rotation: IMS 2019-08-15 (`ims.aliyuncs.com`,
 * ALIYUN_IMS_ENDPOINT), RPC with the parameters in the query as the official
 * `@alicloud/ims20190815` client sends them, signed as ALIYUN_SIGNATURE says. Every call leaves
 * `UserPrincipalName` out, so it acts on the RAM user the key itself belongs to
 * (docs/vendors.md, "AccessKey APIs").
 * @module
 */
import * as z from 'zod/mini';
import { registerSecret } from '../../core/logger.js';
import { type AliyunKeys, type AliyunSpecFields, aliyunApi } from '../../vendor/aliyun.js';
import type { VendorParams } from '../../vendor/api.js';
import { type AccessKeyInfo, defineMasterKeyApi, type KeyApiFailure } from '../api.js';
import { isoOrUndefined, keyCall } from '../key-call.js';

const IMS: AliyunSpecFields = { version: '2019-08-15', style: 'RPC', paramsIn: 'query' };

/** IMS codes that mean more than their class (the rest: lib/vendor/aliyun.ts, classifyAliyunCode). */
const CODES: Readonly<Record<string, KeyApiFailure>> = {
  // RAM documents it (409) for CreateAccessKey at 2 keys; IMS is assumed to answer the same.
  'LimitExceeded.User.AccessKey': 'limitExceeded',
  // Assumption: a key IMS has not propagated yet is refused as one that does not exist.
  'InvalidAccessKeyId.NotFound': 'notYetValid',
  'InvalidAccessKeyId.Inactive': 'denied',
  'EntityNotExist.User.AccessKey': 'notFound',
};

const status = z.enum(['Active', 'Inactive']);
const listAnswer = z.object({
  // With no key at all the vendor may leave the list out.
  AccessKeys: z.optional(
    z.object({ AccessKey: z.optional(z.array(z.object({ AccessKeyId: z.string(), Status: status, CreateDate: z.optional(z.string()) }))) }),
  ),
});
const createAnswer = z.object({
  AccessKey: z.object({ AccessKeyId: z.string().check(z.minLength(1)), AccessKeySecret: z.string().check(z.minLength(1)) }),
});
const lastUsedAnswer = z.object({ AccessKeyLastUsed: z.optional(z.object({ LastUsedDate: z.optional(z.nullable(z.string())) })) });
const emptyAnswer = z.object({});

function ims<Answer>(action: string, params: VendorParams, keys: AliyunKeys, answer: z.ZodMiniType<Answer>): Promise<Answer> {
  const settings = aliyunApi.readSettings();
  return keyCall({
    api: 'Alibaba Cloud IMS',
    adapter: aliyunApi.adapter(settings),
    endpoint: settings.ALIYUN_IMS_ENDPOINT,
    target: { action, ...IMS },
    params,
    keys,
    codes: CODES,
    answer,
  });
}

async function listKeys(keys: AliyunKeys): Promise<AccessKeyInfo[]> {
  const answer = await ims('ListAccessKeys', {}, keys, listAnswer);
  return (answer.AccessKeys?.AccessKey ?? []).map((key) => {
    const createdAt = isoOrUndefined(key.CreateDate);
    return { keyId: key.AccessKeyId, status: key.Status, ...(createdAt !== undefined && { createdAt }) };
  });
}

/** Alibaba Cloud's master key, rotated through IMS. */
export const aliyunMasterKeyApi = defineMasterKeyApi({
  vendor: aliyunApi,
  keyIdOf: (keys) => keys.accessKeyId,
  withNewKey: (keys, keyId, secret) => ({ ...keys, accessKeyId: keyId, accessKeySecret: secret }),
  list: listKeys,
  async create(keys) {
    const { AccessKey } = await ims('CreateAccessKey', {}, keys, createAnswer);
    // From here on the new secret is masked in any log line, as the stored one is.
    registerSecret(AccessKey.AccessKeySecret);
    return { keyId: AccessKey.AccessKeyId, secret: AccessKey.AccessKeySecret };
  },
  async setStatus(keys, keyId, to) {
    await ims('UpdateAccessKey', { UserAccessKeyId: keyId, Status: to }, keys, emptyAnswer);
  },
  async remove(keys, keyId) {
    await ims('DeleteAccessKey', { UserAccessKeyId: keyId }, keys, emptyAnswer);
  },
  async lastUsed(keys, keyId) {
    const answer = await ims('GetAccessKeyLastUsed', { UserAccessKeyId: keyId }, keys, lastUsedAnswer);
    return isoOrUndefined(answer.AccessKeyLastUsed?.LastUsedDate);
  },
  // ListAccessKeys is read-only and needs nothing but the key's own user.
  async probe(keys) {
    await listKeys(keys);
  },
});
