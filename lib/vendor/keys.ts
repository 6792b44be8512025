import * as z from 'zod/mini';
import { clearParameters, ParameterUnusable, readJsonParameter } from '../aws/ssm-parameter.js';
import { type Config, readConfig } from '../core/config.js';
import { BrokerError } from '../core/errors.js';
import { registerSecret } from '../core/logger.js';

/** The SSM SecureString values of docs/contracts.md, "Configuration". */
const aliyunKeysSchema = z.object({
  accessKeyId: z.string().check(z.minLength(1)),
  accessKeySecret: z.string().check(z.minLength(1)),
});
const ucloudKeysSchema = z.object({
  publicKey: z.string().check(z.minLength(1)),
  privateKey: z.string().check(z.minLength(1)),
  projectId: z.optional(z.string().check(z.minLength(1))),
});
const tencentKeysSchema = z.object({
  secretId: z.string().check(z.minLength(1)),
  secretKey: z.string().check(z.minLength(1)),
});
/** An Alibaba Cloud AccessKey pair. */
export type AliyunKeys = z.infer<typeof aliyunKeysSchema>;
/** A UCloud API key pair, with an optional default project. */
export type UcloudKeys = z.infer<typeof ucloudKeysSchema>;
/** A Tencent Cloud API key pair (SecretId, SecretKey). */
export type TencentKeys = z.infer<typeof tencentKeysSchema>;

/** Each vendor's key shape and the field that must never be printed. */
const vendorKeys = {
  aliyun: { schema: aliyunKeysSchema, secret: 'accessKeySecret' },
  ucloud: { schema: ucloudKeysSchema, secret: 'privateKey' },
  tencent: { schema: tencentKeysSchema, secret: 'secretKey' },
} as const;

/** A vendor whose master key the broker holds. */
export type Vendor = keyof typeof vendorKeys;
/** The key shape of vendor `V`. */
export type KeysOf<V extends Vendor> = z.infer<(typeof vendorKeys)[V]['schema']>;

/** Every vendor, in a stable order: what the local world seeds and a deployment may need keys for. */
export const VENDORS = Object.keys(vendorKeys) as Vendor[];

/** Holds only names lib/core/config.ts declares: a vendor without its variable there fails to compile. */
type DeclaredIn<Name extends keyof Config> = Name;

/**
 * The configuration variable naming a vendor's key parameter (`TENCENT_KEYS_PARAMETER`),
 * derived from the vendor's name as infra/environment.cjs derives it.
 */
export type KeysParameterVariable = DeclaredIn<`${Uppercase<Vendor>}_KEYS_PARAMETER`>;

export function keysParameterVariable(vendor: Vendor): KeysParameterVariable {
  return `${vendor.toUpperCase()}_KEYS_PARAMETER` as KeysParameterVariable;
}

/** How to read a key. */
export interface ReadKeysOptions {
  /** Bypass the cache: the vendor said the cached key or its signature is bad. */
  fresh?: boolean;
}

/** A vendor's master key from SSM, cached for KEYS_CACHE_SECONDS; any failure is 503 KeysUnavailable. */
export async function readKeys<V extends Vendor>(vendor: V, options: ReadKeysOptions = {}): Promise<KeysOf<V>> {
  const config = readConfig();
  const { schema, secret } = vendorKeys[vendor];
  try {
    const keys = (await readJsonParameter(config[keysParameterVariable(vendor)], schema, {
      cacheSeconds: config.KEYS_CACHE_SECONDS,
      ...(options.fresh !== undefined && { fresh: options.fresh }),
    })) as KeysOf<V>;
    registerSecret((keys as Record<string, string>)[secret]);
    return keys;
  } catch (error) {
    if (!(error instanceof ParameterUnusable)) throw error;
    const message =
      error.reason === 'unreadable'
        ? `The ${vendor} master key could not be read from SSM.`
        : `The ${vendor} master key parameter is malformed.`;
    throw new BrokerError('KeysUnavailable', message, { details: error.details, cause: error.cause });
  }
}

/** Forget every cached key (tests, and a rotated key in a warm function). */
export const clearKeys = clearParameters;
