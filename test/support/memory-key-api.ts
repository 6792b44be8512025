/**
 * A small in-memory MasterKeyApi for the rotation's unit tests (test/lib/rotation/): one
 * Alibaba Cloud RAM user's AccessKeys as the vendor keeps them (at most two, a new key valid
 * only after a propagation delay, an Inactive or deleted key refused by every call, last-used
 * times kept). Every call is authenticated with the key it is signed with, as the vendor
 * does. The simulator's key APIs (sim/) are what the end-to-end rotation tests use.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { type AccessKeyInfo, defineMasterKeyApi, KeyApiError, type MasterKeyApi } from '../../lib/rotation/api.js';
import { type AliyunKeys, aliyunApi } from '../../lib/vendor/aliyun.js';

interface StoredKey {
  secret: string;
  status: 'Active' | 'Inactive';
  createdAt: number;
  /** Epoch ms from which the vendor accepts the key. */
  validFrom: number;
  lastUsed?: number;
}

/** The user's keys and what was done with them, for a test to set up and assert on. */
export interface MemoryKeyApi {
  api: MasterKeyApi<typeof aliyunApi>;
  /** Adds a key as the vendor would have it (a key made elsewhere: by hand, another tool). */
  add(keyId: string, secret: string, options?: { status?: 'Active' | 'Inactive'; createdAt?: number; lastUsed?: number }): void;
  /** The user's keys, ids and status. */
  keys(): AccessKeyInfo[];
  /** Whether `keys` would be accepted now (what a broker function signing with them would see). */
  accepts(keys: AliyunKeys): boolean;
  /** Key ids a probe succeeded with, in order. */
  tested: string[];
  /** Every call, by name, in order. */
  calls: string[];
  /** How long a new key takes to be accepted. */
  propagationMs: number;
  /** Every key is accepted from now on (the vendor has propagated them). */
  propagate(): void;
}

/** An in-memory AccessKey store for one user, with `now` as its clock. */
export function memoryKeyApi(now: () => number = Date.now): MemoryKeyApi {
  const store = new Map<string, StoredKey>();
  const state: MemoryKeyApi = {
    api: undefined as unknown as MasterKeyApi<typeof aliyunApi>,
    add(keyId, secret, options = {}) {
      store.set(keyId, {
        secret,
        status: options.status ?? 'Active',
        createdAt: options.createdAt ?? now(),
        validFrom: 0,
        ...(options.lastUsed !== undefined && { lastUsed: options.lastUsed }),
      });
    },
    keys: () => [...store].map(([keyId, key]) => ({ keyId, status: key.status })),
    accepts(keys) {
      const key = store.get(keys.accessKeyId);
      return key !== undefined && key.secret === keys.accessKeySecret && key.status === 'Active' && now() >= key.validFrom;
    },
    tested: [],
    calls: [],
    propagationMs: 0,
    propagate() {
      for (const key of store.values()) key.validFrom = 0;
    },
  };
  const authenticate = (call: string, keys: AliyunKeys) => {
    state.calls.push(call);
    const key = store.get(keys.accessKeyId);
    if (key === undefined) throw new KeyApiError('denied', 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    if (key.secret !== keys.accessKeySecret) throw new KeyApiError('denied', 'SignatureDoesNotMatch', 'The signature does not match.');
    if (key.status !== 'Active') throw new KeyApiError('denied', 'InvalidAccessKeyId.Inactive', 'Specified access key is disabled.');
    if (now() < key.validFrom) throw new KeyApiError('notYetValid', 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    key.lastUsed = now();
  };
  const find = (keyId: string) => {
    const key = store.get(keyId);
    if (key === undefined) throw new KeyApiError('notFound', 'EntityNotExist.User.AccessKey', 'The AccessKey does not exist.');
    return key;
  };
  state.api = defineMasterKeyApi({
    vendor: aliyunApi,
    keyIdOf: (keys) => keys.accessKeyId,
    withNewKey: (keys, keyId, secret) => ({ ...keys, accessKeyId: keyId, accessKeySecret: secret }),
    async list(keys) {
      authenticate('list', keys);
      return [...store].map(([keyId, key]) => ({ keyId, status: key.status, createdAt: new Date(key.createdAt).toISOString() }));
    },
    async create(keys) {
      authenticate('create', keys);
      if (store.size >= 2) throw new KeyApiError('limitExceeded', 'LimitExceeded.User.AccessKey', 'At most 2 AccessKeys per user.');
      const keyId = `mem-${randomBytes(6).toString('hex')}`;
      const secret = `mem-secret-${randomBytes(12).toString('hex')}`;
      store.set(keyId, { secret, status: 'Active', createdAt: now(), validFrom: now() + state.propagationMs });
      return { keyId, secret };
    },
    async setStatus(keys, keyId, status) {
      authenticate('setStatus', keys);
      find(keyId).status = status;
    },
    async remove(keys, keyId) {
      authenticate('remove', keys);
      find(keyId);
      store.delete(keyId);
    },
    async lastUsed(keys, keyId) {
      authenticate('lastUsed', keys);
      const used = find(keyId).lastUsed;
      return used === undefined ? undefined : new Date(used).toISOString();
    },
    async probe(keys) {
      authenticate('probe', keys);
      state.tested.push(keys.accessKeyId);
    },
  });
  return state;
}
