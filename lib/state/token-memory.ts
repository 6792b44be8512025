import type { StoredToken } from './token-lease.js';

/** A token held in memory, with its instants parsed once. */
export interface HeldToken {
  token: StoredToken;
  /** Epoch ms. */
  fetchedAt: number;
  expiresAt: number;
}

/** A stored token as memory holds it, its instants parsed. */
export function holdToken(token: StoredToken): HeldToken {
  return { token, fetchedAt: Date.parse(token.fetchedAt), expiresAt: Date.parse(token.expiresAt) };
}

/** A bounded, least-recently-used memory of tokens. */
export interface TokenMemory {
  /** The token held under `key`, unless it has expired (then it is dropped); counts as a use. */
  get(key: string, now?: number): HeldToken | undefined;
  /** Holds a token; the least recently used go first when `capacity()` is passed; expired tokens are never held. */
  set(key: string, held: HeldToken, now?: number): void;
  readonly size: number;
  clear(): void;
}

/** Every this often, a `set` also drops the expired tokens that nobody asked for since. */
const SWEEP_EVERY_MS = 60_000;

/**
 * A warm instance's tokens, bounded: a Map keeps insertion order, so re-inserting on every
 * use leaves the least recently used first, where eviction takes them from. `capacity` is
 * read on each insert (TOKEN_MEMORY_ENTRIES can change between tests).
 */
export function createTokenMemory(capacity: () => number): TokenMemory {
  const entries = new Map<string, HeldToken>();
  let sweptAt = 0;
  const sweep = (now: number) => {
    sweptAt = now;
    for (const [key, held] of entries) if (held.expiresAt <= now) entries.delete(key);
  };
  return {
    get(key, now = Date.now()) {
      const held = entries.get(key);
      if (held === undefined) return undefined;
      entries.delete(key);
      if (held.expiresAt <= now) return undefined;
      entries.set(key, held);
      return held;
    },
    set(key, held, now = Date.now()) {
      entries.delete(key);
      const limit = capacity();
      if (held.expiresAt <= now || limit <= 0) return;
      entries.set(key, held);
      if (now - sweptAt >= SWEEP_EVERY_MS) sweep(now);
      for (const oldest of entries.keys()) {
        if (entries.size <= limit) break;
        entries.delete(oldest);
      }
    },
    get size() {
      return entries.size;
    },
    clear() {
      entries.clear();
      sweptAt = 0;
    },
  };
}
