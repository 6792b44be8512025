/**
 * Vendor master keys from SSM: each vendor's adapter (lib/vendor/<vendor>.ts) declares the
 * key's shape, its secret half and the variable naming its parameter; this reads any of them.
 * @module
 */

import { accountKeysParameter, accountsVariable, DEFAULT_ACCOUNT } from '../access/account.js';
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

/** The accounts a vendor has in this deployment: `default` and those `<VENDOR>_ACCOUNTS` lists. */
export function vendorAccounts(vendor: VendorApi): string[] {
  const listed = (vendor.readSettings()[accountsVariable(vendor.name)] as string[] | undefined) ?? [];
  return [...new Set([DEFAULT_ACCOUNT, ...listed])];
}

/** 403 Forbidden unless `account` is one of the vendor's configured accounts: checked before any key is read. */
export function requireAccount(vendor: VendorApi, account: string): void {
  if (account === DEFAULT_ACCOUNT || vendorAccounts(vendor).includes(account)) return;
  // The name comes from the policy or a claim: checked against the list, so it is one of ours or refused unnamed.
  throw new BrokerError('Forbidden', `This deployment has no such ${vendor.title} account.`);
}

/**
 * A vendor's master key of `account` (default `default`) from SSM, cached per account for
 * KEYS_CACHE_SECONDS; an account not configured is 403 Forbidden before SSM is asked; any
 * failure to read is 503 KeysUnavailable.
 */
export async function readKeys<Api extends VendorApi>(
  vendor: Api,
  accountOrOptions: string | ReadKeysOptions = DEFAULT_ACCOUNT,
  moreOptions: ReadKeysOptions = {},
): Promise<KeysOf<Api>> {
  const account = typeof accountOrOptions === 'string' ? accountOrOptions : DEFAULT_ACCOUNT;
  const options = typeof accountOrOptions === 'string' ? moreOptions : accountOrOptions;
  requireAccount(vendor, account);
  const parameter = accountKeysParameter(vendor.readSettings()[keysParameterVariable(vendor.name)] as string, account);
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
        ? `The ${vendor.name} master key${account === DEFAULT_ACCOUNT ? '' : ` of account ${account}`} could not be read from SSM.`
        : `The ${vendor.name} master key parameter${account === DEFAULT_ACCOUNT ? '' : ` of account ${account}`} is malformed.`;
    throw new BrokerError('KeysUnavailable', message, { details: error.details, cause: error.cause });
  }
}

/** Forget every cached key (tests, and a rotated key in a warm function). */
export const clearKeys = clearParameters;
