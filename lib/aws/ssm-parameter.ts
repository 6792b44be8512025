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

/** A decrypted JSON SSM parameter, checked against `schema`; cached for `cacheSeconds`, and never when unusable. */
export async function readJsonParameter<S extends z.core.$ZodType>(
  name: string,
  schema: S,
  options: ReadParameterOptions,
): Promise<z.infer<S>> {
  let value: unknown;
  try {
    value = await parameters().get(name, {
      decrypt: true,
      transform: 'json',
      maxAge: options.cacheSeconds,
      forceFetch: options.fresh === true || unusable.has(name),
    });
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
  unusable.clear();
}
