/**
 * The shared interface between the rotation (lib/rotation/*) and each vendor's AccessKey APIs
 * (lib/rotation/vendors/<vendor>.ts): what a vendor's key API offers, how its failures are
 * classified, and the marker by which the rotation registry (lib/rotation/index.ts) finds them.
 * @module
 */
import type { KeysOf, VendorApi } from '../vendor/api.js';

/** One AccessKey as the vendor lists it (ids only, never secrets). */
export interface AccessKeyInfo {
  keyId: string;
  status: 'Active' | 'Inactive';
  /** When the vendor created it (ISO), if it says. */
  createdAt?: string;
}

/** Why a key-API call failed, classified for the rotation's decisions. */
export type KeyApiFailure =
  /** A new key the vendor has not propagated yet: retry. */
  | 'notYetValid'
  /** The user already has its maximum of keys (2). */
  | 'limitExceeded'
  | 'notFound'
  | 'denied'
  | 'throttled'
  | 'transient'
  | 'other';

/** A key-API call the vendor refused or could not answer, with the vendor's own code (never a secret). */
export class KeyApiError extends Error {
  /** `failure`: the class the rotation decides on; `vendorCode`: the vendor's error code as it said it. */
  constructor(
    readonly failure: KeyApiFailure,
    readonly vendorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'KeyApiError';
  }
}

/** A vendor's AccessKey APIs, signed with `keys` (the key that manages itself: its own user/sub-user). */
export interface MasterKeyApi<Api extends VendorApi = VendorApi> {
  /** The vendor whose key parameter this rotates. */
  vendor: Api;
  /** The key id inside a stored key (accessKeyId, secretId, publicKey). */
  keyIdOf(keys: KeysOf<Api>): string;
  /** Replaces the id and secret fields of `keys` with a new key's, keeping every other field (e.g. stsRoleArn). */
  withNewKey(keys: KeysOf<Api>, keyId: string, secret: string): KeysOf<Api>;
  /** The keys of the user that `keys` belongs to. */
  list(keys: KeysOf<Api>): Promise<AccessKeyInfo[]>;
  /** Creates a key: its secret is returned this once. */
  create(keys: KeysOf<Api>): Promise<{ keyId: string; secret: string }>;
  /** Sets a key Active or Inactive. */
  setStatus(keys: KeysOf<Api>, keyId: string, status: 'Active' | 'Inactive'): Promise<void>;
  /** Deletes a key. */
  remove(keys: KeysOf<Api>, keyId: string): Promise<void>;
  /** Last use of a key (ISO), if the vendor says; used to refuse deleting a key still in use. */
  lastUsed(keys: KeysOf<Api>, keyId: string): Promise<string | undefined>;
  /** A signed read-only call with `keys` (e.g. GetCallerIdentity / ListAccessKeys): resolves when the vendor accepts them. */
  probe(keys: KeysOf<Api>): Promise<void>;
}

/** Marks a value made by defineMasterKeyApi, so the rotation registry can tell it from other exports. */
const MASTER_KEY_API = Symbol.for('cloud-token-broker.master-key-api');

/** Declares a vendor's key API; lib/rotation/index.ts finds every value made here in lib/rotation/vendors/. */
export function defineMasterKeyApi<Api extends VendorApi>(api: MasterKeyApi<Api>): MasterKeyApi<Api> {
  return Object.freeze({ ...api, [MASTER_KEY_API]: true });
}

/** True for a value made by defineMasterKeyApi. */
export function isMasterKeyApi(value: unknown): value is MasterKeyApi {
  return typeof value === 'object' && value !== null && MASTER_KEY_API in value;
}
