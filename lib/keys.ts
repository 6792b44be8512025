import ssm from '@middy/ssm';
import { clearCache, getInternal } from '@middy/util';
import * as z from 'zod/mini';
import { readConfig } from './config.js';
import { BrokerError } from './errors.js';
import { registerSecret } from './logger.js';
import { issueDetails } from './schema.js';

/** The SSM SecureString values of DESIGN.md, "Configuration". */
export const aliyunKeysSchema = z.object({
  accessKeyId: z.string().check(z.minLength(1)),
  accessKeySecret: z.string().check(z.minLength(1)),
});
export const ucloudKeysSchema = z.object({
  publicKey: z.string().check(z.minLength(1)),
  privateKey: z.string().check(z.minLength(1)),
  projectId: z.optional(z.string().check(z.minLength(1))),
});
export type AliyunKeys = z.infer<typeof aliyunKeysSchema>;
export type UcloudKeys = z.infer<typeof ucloudKeysSchema>;

const vendorKeys = {
  aliyun: { schema: aliyunKeysSchema, parameter: 'ALIYUN_KEYS_PARAMETER', secret: 'accessKeySecret' },
  ucloud: { schema: ucloudKeysSchema, parameter: 'UCLOUD_KEYS_PARAMETER', secret: 'privateKey' },
} as const;

export type Vendor = keyof typeof vendorKeys;
export type KeysOf<V extends Vendor> = z.infer<(typeof vendorKeys)[V]['schema']>;

/** The one step of @middy/ssm used here: `before` fills `request.internal` with the (cached) values. */
type SsmBefore = (request: { internal: Record<string, unknown> }) => Promise<void>;
const middlewares = new Map<string, SsmBefore>();

/**
 * @middy/ssm does the reading, decryption, JSON parsing and caching. It is driven here
 * on demand rather than as a `before` step, because keys are needed only after the
 * request is validated (and on a token-cache miss), and must be re-read past the cache
 * when a vendor refuses them. Prefetch is off: an import must never touch the network.
 */
function middlewareFor(name: string, cacheSeconds: number): { before: SsmBefore; cacheKey: string } {
  const cacheKey = `keys:${name}:${cacheSeconds}`;
  let before = middlewares.get(cacheKey);
  if (!before) {
    const middleware = ssm({
      fetchData: { keys: name },
      cacheKey,
      cacheExpiry: cacheSeconds * 1000,
      disablePrefetch: true,
    });
    before = middleware.before as unknown as SsmBefore;
    middlewares.set(cacheKey, before);
  }
  return { before, cacheKey };
}

export interface ReadKeysOptions {
  /** Bypass the cache: the vendor said the cached key or its signature is bad. */
  fresh?: boolean;
}

export async function readKeys<V extends Vendor>(vendor: V, options: ReadKeysOptions = {}): Promise<KeysOf<V>> {
  const config = readConfig();
  const name = config[vendorKeys[vendor].parameter];
  const { before, cacheKey } = middlewareFor(name, config.KEYS_CACHE_SECONDS);
  if (options.fresh) clearCache([cacheKey]);
  const request = { internal: {} };
  let value: unknown;
  try {
    await before(request);
    ({ keys: value } = (await getInternal(['keys'], request as never)) as { keys: unknown });
  } catch (error) {
    // Failed reads are not cached by middy, so the next request tries SSM again.
    throw new BrokerError('KeysUnavailable', `The ${vendor} master key could not be read from SSM.`, { cause: error });
  }
  const parsed = z.safeParse(vendorKeys[vendor].schema, value);
  if (!parsed.success) {
    // Do not keep a malformed value: the operator's fix takes effect on the next request.
    clearCache([cacheKey]);
    throw new BrokerError('KeysUnavailable', `The ${vendor} master key parameter is malformed.`, {
      details: issueDetails(parsed.error),
    });
  }
  const keys = parsed.data as KeysOf<V>;
  registerSecret((keys as Record<string, string>)[vendorKeys[vendor].secret]);
  return keys;
}

/** Forget every cached key (tests, and a rotated key in a warm function). */
export function clearKeys(): void {
  clearCache([...middlewares.keys()]);
  middlewares.clear();
}
