/**
 * JSON parameters (master keys, the caller policy) read through Powertools Parameters: it
 * reads and decrypts on demand (keys are needed only after a request is validated and
 * allowed), caches by age (`maxAge`), reads past the cache on `forceFetch`, and never
 * caches a failed read. Nothing is read at import time.
 * @module
 */
import { TransformParameterError } from '@aws-lambda-powertools/parameters/errors';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import * as z from 'zod/mini';
import { issueDetails } from '../core/schema.js';
import { ssmClient } from './ssm-client.js';

/** Created on first use: the provider's client resolves its configuration then. */
let provider: SSMProvider | undefined;
function parameters(): SSMProvider {
  provider ??= new SSMProvider({ awsSdkV3Client: ssmClient() });
  return provider;
}

/**
 * Parameters whose cached value failed its schema: read past the cache next time, so an
 * operator's fix takes effect on the next request. Bounded by the few parameter names in use.
 */
const unusable = new Set<string>();

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

/** How to read a parameter. */
export interface ReadParameterOptions {
  cacheSeconds: number;
  /** Bypass the cache (a vendor refused the cached key). */
  fresh?: boolean;
}

/**
 * Reads of a parameter under way, by name: a read that finds one joins it rather than asking SSM
 * again (the provider's cache fills only once a read ends, so a cold instance's early key read
 * and its vendor call's own would otherwise both reach SSM). Bounded by the names configured.
 */
const inFlight = new Map<string, Promise<unknown>>();

function getOnce(name: string, maxAge: number, forceFetch: boolean): Promise<unknown> {
  // A forced read wants SSM's value now: it never joins one that may have started before the key changed.
  const joined = forceFetch ? undefined : inFlight.get(name);
  if (joined !== undefined) return joined;
  const read = parameters()
    .get(name, { decrypt: true, transform: 'json', maxAge, forceFetch })
    .finally(() => {
      if (inFlight.get(name) === read) inFlight.delete(name);
    });
  inFlight.set(name, read);
  return read;
}

/** A decrypted JSON SSM parameter, checked against `schema`; cached for `cacheSeconds`, and never when unusable. */
export async function readJsonParameter<S extends z.core.$ZodType>(
  name: string,
  schema: S,
  options: ReadParameterOptions,
): Promise<z.infer<S>> {
  let value: unknown;
  try {
    value = await getOnce(name, options.cacheSeconds, options.fresh === true || unusable.has(name));
  } catch (error) {
    if (error instanceof TransformParameterError) throw new ParameterUnusable('malformed', [{ path: '(value)', message: 'not JSON' }]);
    throw new ParameterUnusable('unreadable', [], error);
  }
  const parsed = z.safeParse(schema, value);
  if (!parsed.success) {
    unusable.add(name);
    throw new ParameterUnusable('malformed', issueDetails(parsed.error));
  }
  unusable.delete(name);
  return parsed.data;
}

/** Forget every cached parameter (tests; a cold start does the same). */
export function clearParameters(): void {
  provider?.clearCache();
  inFlight.clear();
  unusable.clear();
}
