import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/core/logger.js';
import { createMeasures } from '../../../lib/core/metrics.js';
import { createTokenCache, type TokenRequest, type TokenStore } from '../../../lib/state/token-cache.js';
import { LEASE_MS, type StoredToken, type TokenItem } from '../../../lib/state/token-lease.js';
import { createTokenMemory } from '../../../lib/state/token-memory.js';

/** A store in memory: items by pk, a lease with an owner and an end, writes that never go back in time. */
function memoryStore(options: { failReads?: boolean } = {}) {
  const items = new Map<string, TokenItem>();
  const calls: string[] = [];
  const store: TokenStore = {
    async read(pk) {
      calls.push('read');
      if (options.failReads) throw new Error('table down');
      const item = items.get(pk);
      return item && { ...item };
    },
    async takeLease(pk, owner) {
      calls.push('takeLease');
      const item = items.get(pk) ?? {};
      if (item.leaseUntil !== undefined && item.leaseUntil > Date.now()) return false;
      items.set(pk, { ...item, leaseOwner: owner, leaseUntil: Date.now() + LEASE_MS });
      return true;
    },
    async renewLease() {
      return true;
    },
    async releaseLease(pk) {
      calls.push('releaseLease');
      const { leaseOwner: _owner, leaseUntil: _until, ...rest } = items.get(pk) ?? {};
      items.set(pk, rest);
    },
    async write(pk, token) {
      calls.push('write');
      const held = items.get(pk)?.token;
      if (held && Date.parse(held.expiresAt) >= Date.parse(token.expiresAt)) return false;
      items.set(pk, { token });
      return true;
    },
    worked: () => undefined,
    failed: () => calls.push('failed'),
    wroteNothing: () => false,
  };
  return { store, items, calls };
}

const token = (lifetimeMs: number, label: string, fetchedAt = Date.now()): StoredToken => ({
  data: { label },
  fetchedAt: new Date(fetchedAt).toISOString(),
  expiresAt: new Date(fetchedAt + lifetimeMs).toISOString(),
});

/** A request whose fetch hands out numbered tokens of `lifetimeMs`, counting fetches and misses. */
function request(store: TokenStore | undefined, lifetimeMs = 3_600_000) {
  const counts = { fetches: 0, misses: 0 };
  const req: TokenRequest<string> = {
    key: 'k',
    pk: 'fn#k',
    store: () => store,
    async fetch() {
      counts.fetches += 1;
      const fetched = token(lifetimeMs, `fetch-${counts.fetches}`);
      return { result: `fetch-${counts.fetches}`, token: fetched };
    },
    onMiss: () => {
      counts.misses += 1;
    },
    fromToken: (t) => String((t.data as { label: string }).label),
    deadline: Date.now() + 5_000,
    logger: createLogger({ requestId: 'test' }),
    metrics: createMeasures(),
  };
  return { req, counts };
}

const newCache = () => createTokenCache(createTokenMemory(() => 100));

describe('token cache, against a store in memory and a fake fetch', () => {
  it('fetches once for many concurrent asks, then serves from memory', async () => {
    const cache = newCache();
    const { store, calls } = memoryStore();
    const { req, counts } = request(store);
    const served = await Promise.all([cache.serve(req), cache.serve(req), cache.serve(req)]);
    expect(served.map((s) => s.result)).toEqual(['fetch-1', 'fetch-1', 'fetch-1']);
    expect(served[0]!.source).toBe('vendor');
    expect(counts).toEqual({ fetches: 1, misses: 1 });
    expect(calls).toEqual(['read', 'takeLease', 'write']);
    expect((await cache.serve(req)).source).toBe('memory');
  });

  it("serves another instance's token from the store, without fetching or calling onMiss", async () => {
    const cache = newCache();
    const { store, items } = memoryStore();
    items.set('fn#k', { token: token(3_600_000, 'theirs') });
    const { req, counts } = request(store);
    expect(await cache.serve(req)).toMatchObject({ result: 'theirs', source: 'table' });
    expect(counts).toEqual({ fetches: 0, misses: 0 });
  });

  it('fetches past a stored token that lives shorter than asked, and writes the longer one', async () => {
    const cache = newCache();
    const { store, items } = memoryStore();
    items.set('fn#k', { token: token(600_000, 'short') });
    const { req } = request(store);
    expect((await cache.serve(req, 900_000)).result).toBe('fetch-1');
    expect(items.get('fn#k')?.token?.data).toEqual({ label: 'fetch-1' });
  });

  it('replaces an unreadable item with a fresh token', async () => {
    const cache = newCache();
    const { store, items } = memoryStore();
    items.set('fn#k', { unreadable: {} });
    const { req } = request(store);
    expect((await cache.serve(req)).result).toBe('fetch-1');
    expect(items.get('fn#k')?.token?.data).toEqual({ label: 'fetch-1' });
  });

  it('waits on a live lease of another instance and serves the token it writes', async () => {
    const cache = newCache();
    const { store, items } = memoryStore();
    items.set('fn#k', { leaseOwner: 'other', leaseUntil: Date.now() + LEASE_MS });
    setTimeout(() => items.set('fn#k', { token: token(3_600_000, 'landed') }), 30);
    const { req, counts } = request(store);
    expect(await cache.serve(req)).toMatchObject({ result: 'landed', source: 'table' });
    expect(counts.fetches).toBe(0);
  });

  it('answers Timeout rather than wait on a lease past the deadline', async () => {
    const cache = newCache();
    const { store, items } = memoryStore();
    items.set('fn#k', { leaseOwner: 'other', leaseUntil: Date.now() + LEASE_MS });
    const { req } = request(store);
    await expect(cache.serve({ ...req, deadline: Date.now() + 50 })).rejects.toMatchObject({ code: 'Timeout' });
  });

  it('degrades to fetching when the store cannot be read', async () => {
    const cache = newCache();
    const { store, calls } = memoryStore({ failReads: true });
    const { req } = request(store);
    expect(await cache.serve(req)).toMatchObject({ result: 'fetch-1', source: 'vendor' });
    expect(calls).toEqual(['read', 'failed']);
  });

  it('releases the lease when the fetch fails, so waiting instances need not wait it out', async () => {
    const cache = newCache();
    const { store, items, calls } = memoryStore();
    const { req } = request(store);
    await expect(cache.serve({ ...req, fetch: () => Promise.reject(new Error('vendor down')) })).rejects.toThrow('vendor down');
    expect(calls).toContain('releaseLease');
    expect(items.get('fn#k')?.leaseOwner).toBeUndefined();
  });

  it('keeps memory only without a store', async () => {
    const cache = newCache();
    const { req, counts } = request(undefined);
    await cache.serve(req);
    expect((await cache.serve(req)).source).toBe('memory');
    expect(counts.fetches).toBe(1);
    expect(cache.size).toBe(1);
  });

  it('rotates only once half the lifetime is gone, and never writes the store back in time', async () => {
    const cache = newCache();
    const { store, items } = memoryStore();
    items.set('fn#k', { token: token(3_600_000, 'young') });
    const { req } = request(store, 60_000);
    expect(await cache.rotate(req)).toBe('fresh');
    items.set('fn#k', { token: token(3_600_000, 'old', Date.now() - 3_000_000) });
    // The fetched token (60 s) expires before the stored one: the store keeps the later expiry.
    expect(await cache.rotate(req)).toBe('rotated');
    expect(items.get('fn#k')?.token?.data).toEqual({ label: 'old' });
  });
});
