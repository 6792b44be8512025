import * as z from 'zod/mini';
import { readConfig } from './config.js';
import { BrokerError } from './errors.js';
import { registerSecret } from './logger.js';
import { clearParameters, ParameterUnusable, readJsonParameter } from './ssm-parameter.js';

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
/** An Alibaba Cloud AccessKey pair. */
export type AliyunKeys = z.infer<typeof aliyunKeysSchema>;
/** A UCloud API key pair, with an optional default project. */
export type UcloudKeys = z.infer<typeof ucloudKeysSchema>;

const vendorKeys = {
  aliyun: { schema: aliyunKeysSchema, parameter: 'ALIYUN_KEYS_PARAMETER', secret: 'accessKeySecret' },
  ucloud: { schema: ucloudKeysSchema, parameter: 'UCLOUD_KEYS_PARAMETER', secret: 'privateKey' },
} as const;

/** A vendor whose master key the broker holds. */
export type Vendor = keyof typeof vendorKeys;
/** The key shape of vendor `V`. */
export type KeysOf<V extends Vendor> = z.infer<(typeof vendorKeys)[V]['schema']>;

/** How to read a key. */
export interface ReadKeysOptions {
  /** Bypass the cache: the vendor said the cached key or its signature is bad. */
  fresh?: boolean;
}

/** A vendor's master key from SSM, cached for KEYS_CACHE_SECONDS; any failure is 503 KeysUnavailable. */
export async function readKeys<V extends Vendor>(vendor: V, options: ReadKeysOptions = {}): Promise<KeysOf<V>> {
  const config = readConfig();
  const { schema, parameter, secret } = vendorKeys[vendor];
  try {
    const keys = (await readJsonParameter(config[parameter], schema, {
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
