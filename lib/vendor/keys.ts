/**
 * Vendor master keys from SSM: each vendor's adapter (lib/vendor/<vendor>.ts) declares the
 * key's shape, its secret half and the variable naming its parameter; this reads any of them.
 * @module
 */

import { clearParameters, ParameterUnusable, readJsonParameter } from '../aws/ssm-parameter.js';
import { readConfig } from '../core/config.js';
import { BrokerError } from '../core/errors.js';
import { registerSecret } from '../core/logger.js';
import { type KeysOf, keysParameterVariable, type VendorApi } from './api.js';

/** How to read a key. */
export interface ReadKeysOptions {
  /** Bypass the cache: the vendor said the cached key or its signature is bad. */
  fresh?: boolean;
}

/** A vendor's master key from SSM, cached for KEYS_CACHE_SECONDS; any failure is 503 KeysUnavailable. */
export async function readKeys<Api extends VendorApi>(vendor: Api, options: ReadKeysOptions = {}): Promise<KeysOf<Api>> {
  const parameter = vendor.readSettings()[keysParameterVariable(vendor.name)] as string;
  try {
    const keys = (await readJsonParameter(parameter, vendor.keys, {
      cacheSeconds: readConfig().KEYS_CACHE_SECONDS,
      ...(options.fresh !== undefined && { fresh: options.fresh }),
    })) as KeysOf<Api>;
    // The first secret field is the key's secret half: its value is scrubbed from any string too.
    registerSecret(keys[vendor.secretFields[0]] as string | undefined);
    return keys;
  } catch (error) {
    if (!(error instanceof ParameterUnusable)) throw error;
    const message =
      error.reason === 'unreadable'
        ? `The ${vendor.name} master key could not be read from SSM.`
        : `The ${vendor.name} master key parameter is malformed.`;
    throw new BrokerError('KeysUnavailable', message, { details: error.details, cause: error.cause });
  }
}

/** Forget every cached key (tests, and a rotated key in a warm function). */
export const clearKeys = clearParameters;
