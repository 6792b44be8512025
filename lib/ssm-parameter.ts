import ssm from '@middy/ssm';
import { clearCache, getInternal } from '@middy/util';
import * as z from 'zod/mini';
import { issueDetails } from './schema.js';
import { SharedSsmClient } from './ssm-client.js';

/** The one step of @middy/ssm used here: `before` fills `request.internal` with the (cached) value. */
type SsmBefore = (request: { internal: Record<string, unknown> }) => Promise<void>;
const readers = new Map<string, SsmBefore>();
/** When each cached value was read (epoch ms): its age decides expiry, not a timer. */
const readAt = new Map<string, number>();

/**
 * @middy/ssm does the reading, decryption, JSON parsing and caching. It is driven here
 * on demand rather than as a `before` step, because parameters are needed only after a
 * request is validated (keys: only on a token-cache miss), and must be re-read past the
 * cache when a vendor refuses a key. Prefetch is off: an import must never touch the network.
 * middy's own expiry is off too (`cacheExpiry: -1`): it refreshes on a timer, and a failed
 * background refresh is an unhandled rejection that kills the instance. Expiry by age
 * instead: an expired value is read again on the request that needs it.
 */
function readerFor(name: string): { before: SsmBefore; cacheKey: string } {
  const cacheKey = `ssm:${name}`;
  let before = readers.get(cacheKey);
  if (!before) {
    const middleware = ssm({ fetchData: { value: name }, cacheKey, cacheExpiry: -1, disablePrefetch: true, AwsClient: SharedSsmClient });
    before = middleware.before as unknown as SsmBefore;
    readers.set(cacheKey, before);
  }
  return { before, cacheKey };
}

/** Why a parameter could not be used: SSM failed, or the value does not fit its schema. */
export class ParameterUnusable extends Error {
  override readonly name = 'ParameterUnusable';
  constructor(
    readonly reason: 'unreadable' | 'malformed',
    readonly details: { path: string; message: string }[] = [],
    cause?: unknown,
  ) {
    super(reason === 'unreadable' ? 'the parameter could not be read from SSM' : 'the parameter value does not match its schema', {
      cause,
    });
  }
}

export interface ReadParameterOptions {
  cacheSeconds: number;
  /** Bypass the cache (a vendor refused the cached key). */
  fresh?: boolean;
}

/** A decrypted JSON SSM parameter, checked against `schema`; cached, and never cached when unusable. */
export async function readJsonParameter<S extends z.core.$ZodType>(
  name: string,
  schema: S,
  options: ReadParameterOptions,
): Promise<z.infer<S>> {
  const { before, cacheKey } = readerFor(name);
  const age = Date.now() - (readAt.get(cacheKey) ?? Number.NEGATIVE_INFINITY);
  if (options.fresh || age >= options.cacheSeconds * 1000) {
    clearCache([cacheKey]);
    readAt.set(cacheKey, Date.now());
  }
  const request = { internal: {} };
  let value: unknown;
  try {
    await before(request);
    ({ value } = (await getInternal(['value'], request as never)) as { value: unknown });
  } catch (error) {
    // Failed reads are not kept by middy; forget this one too, so the next request tries SSM again.
    clearCache([cacheKey]);
    readAt.delete(cacheKey);
    throw new ParameterUnusable('unreadable', [], error);
  }
  const parsed = z.safeParse(schema, value);
  if (!parsed.success) {
    // Do not keep a malformed value: the operator's fix takes effect on the next request.
    clearCache([cacheKey]);
    readAt.delete(cacheKey);
    throw new ParameterUnusable('malformed', issueDetails(parsed.error));
  }
  return parsed.data;
}

/** Forget every cached parameter (tests; a cold start does the same). */
export function clearParameters(): void {
  clearCache([...readers.keys()]);
  readers.clear();
  readAt.clear();
}
