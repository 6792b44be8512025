/**
 * A cache of expiring tokens, and nothing else: served from memory, then from a shared store,
 * then from a fetch the caller supplies (docs/contracts.md, "Shared state"), once for every
 * request waiting on one key: in this instance (one promise) and across instances (a lease in
 * the store). It knows no vendor, key or rate budget: lib/runtime/credentials.ts wires it to
 * operations and lib/state/token-store.ts to the token table.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { sleep } from '../core/backoff.js';
import { BrokerError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Measures } from '../core/metrics.js';
import { LEASE_RENEW_MS, leaseLive, SERVE_WHILE_LEFT, type StoredToken, type TokenItem } from './token-lease.js';
import { holdToken, type TokenMemory } from './token-memory.js';

/** Where an answer came from: told to the audit log, never changes the answer. */
export type AnswerSource = 'memory' | 'table' | 'vendor';

export { SERVE_WHILE_LEFT };
/** Scheduled rotation leaves credentials alone while at least this share is left. */
export const ROTATE_WHEN_LEFT = 0.5;

/** A request waiting on another instance's lease looks at the store again after these delays (ms), doubling up to the cap. */
const POLL_FIRST_MS = 10;
const POLL_MAX_MS = 200;

/** Share of the lifetime still left at `now`, from 1 (just fetched) to 0 (expired). */
export function lifetimeLeft(token: Pick<StoredToken, 'fetchedAt' | 'expiresAt'>, now = Date.now()): number {
  return leftOf(Date.parse(token.fetchedAt), Date.parse(token.expiresAt), now);
}

function leftOf(fetched: number, expires: number, now: number): number {
  if (!(expires > fetched)) return 0;
  return Math.max(0, (expires - now) / (expires - fetched));
}

/** The shared store of tokens and their leases (the token table), as the cache uses it. */
export interface TokenStore {
  /** Called before the first read of a refresh: warms what reading needs (the KMS client). */
  prepare?(): void;
  read(pk: string, consistent: boolean): Promise<TokenItem | undefined>;
  /** False when another instance holds a live lease. */
  takeLease(pk: string, owner: string): Promise<boolean>;
  /** False when the lease is no longer `owner`'s. */
  renewLease(pk: string, owner: string): Promise<boolean>;
  releaseLease(pk: string, owner: string): Promise<void>;
  /** Writes unless the store holds a token that expires no earlier; may replace an unreadable item. */
  write(pk: string, token: StoredToken, replacing?: TokenItem['unreadable']): Promise<boolean>;
  /** Told of each answer the store gave, and of each failure (then the cache degrades to fetching). */
  worked(): void;
  failed(error: unknown, action: string): void;
  /** Whether a failed write surely stored nothing (no data key to seal with): the lease is released at once. */
  wroteNothing(error: unknown): boolean;
}

/** What a fetch brings back: the answer, and the token to keep (none when the answer does not expire). */
export interface Fetched<R> {
  result: R;
  token?: StoredToken;
}

/** One ask of the cache: its keys, where to keep tokens, and how to fetch one. */
export interface TokenRequest<R> {
  /** The key in memory and of in-flight fetches. */
  key: string;
  /** The key in the store. */
  pk: string;
  /** The shared store, or none (memory only); asked only when memory cannot serve. */
  store(): TokenStore | undefined;
  fetch(): Promise<Fetched<R>>;
  /** Called when the store shows no servable token, before the lease: start what `fetch` will need. */
  onMiss?(): void;
  /** The answer a held token gives. */
  fromToken(token: StoredToken): R;
  /** Epoch ms after which no wait on another instance's lease goes on. */
  deadline: number;
  logger: Logger;
  metrics: Measures;
}

/** An answer, where it came from, and the share of its lifetime left when served (1 when just fetched). */
export interface Served<R> {
  result: R;
  source: AnswerSource;
  left: number;
  /** When its token expires (ISO 8601); absent when the answer does not. */
  expiresAt?: string;
}

/** A served answer with the token it came from (none when it does not expire). */
type Kept<R> = Served<R> & { token?: StoredToken };

/** What a refresh does with what the store said. */
type Step = 'degrade' | 'replace' | 'outlive' | 'serve' | 'lease' | 'wait';

/** A token cache over one instance's memory. */
export interface TokenCache {
  /**
   * A token's answer: from memory, else from the store, else fetched, once for every request
   * waiting on the same key. Held tokens are served only while a quarter of their lifetime is
   * left, and at least `minimumLeftMs`.
   */
  serve<R>(request: TokenRequest<R>, minimumLeftMs?: number): Promise<Served<R>>;
  /**
   * One scheduled rotation: leaves the stored token alone while half its lifetime is left, else
   * fetches and writes, unless a concurrent rotation wrote a later one: the store never goes
   * back in time. Writing is the point of rotation, so a store failure fails it.
   */
  rotate<R>(request: TokenRequest<R>): Promise<'rotated' | 'fresh'>;
  /** How many tokens memory holds. */
  readonly size: number;
  /** Forgets memory and in-flight fetches. */
  clear(): void;
}

/** A token cache keeping tokens in `memory`. */
export function createTokenCache(memory: TokenMemory): TokenCache {
  const inFlight = new Map<string, Promise<Served<unknown>>>();

  /** Fetches and keeps the token in memory; concurrent fetches of different lifetimes (STS) keep the longest. */
  async function fetchToMemory<R>(request: TokenRequest<R>): Promise<Kept<R>> {
    const { result, token } = await request.fetch();
    if (token === undefined) return { result, source: 'vendor', left: 1 };
    const held = memory.get(request.key);
    if (held === undefined || held.expiresAt <= Date.parse(token.expiresAt)) memory.set(request.key, holdToken(token));
    return { result, source: 'vendor', left: lifetimeLeft(token), expiresAt: token.expiresAt, token };
  }

  function fromMemory<R>(request: TokenRequest<R>, minimumLeftMs: number): Served<R> | undefined {
    const now = Date.now();
    const held = memory.get(request.key, now);
    const left = held ? leftOf(held.fetchedAt, held.expiresAt, now) : 0;
    const usable = held !== undefined && left >= SERVE_WHILE_LEFT && held.expiresAt - now >= minimumLeftMs;
    return usable ? { result: request.fromToken(held.token), source: 'memory', left, expiresAt: held.token.expiresAt } : undefined;
  }

  async function refresh<R>(request: TokenRequest<R>, minimumLeftMs: number): Promise<Served<R>> {
    const store = request.store();
    if (store === undefined) return fetchToMemory(request);
    store.prepare?.();
    const wait = leaseWait(request);
    let item = await readItem(store, request.pk, false);
    // A miss: start what the fetch needs (the keys) alongside the lease, not after it.
    if (item !== 'failed' && !servable(item)) request.onMiss?.();
    let served = await settle(request, store, item, minimumLeftMs, wait);
    while (served === undefined) {
      await wait.next();
      item = await readItem(store, request.pk, true);
      served = await settle(request, store, item, minimumLeftMs, wait);
    }
    return served;
  }

  /** Acts on what the store said; undefined while another instance's lease is to be waited on. */
  async function settle<R>(
    request: TokenRequest<R>,
    store: TokenStore,
    item: TokenItem | undefined | 'failed',
    minimumLeftMs: number,
    wait: LeaseWait,
  ): Promise<Served<R> | undefined> {
    const step = stepFor(item, minimumLeftMs);
    if (step !== 'lease' && step !== 'wait') wait.stop();
    const known = item === 'failed' ? undefined : item;
    let next: Promise<Served<R> | undefined> | undefined;
    if (step === 'degrade') next = fetchToMemory(request);
    else if (step === 'replace') next = replaceUnreadable(request, store, known?.unreadable);
    // Servable, but shorter-lived than asked (STS): no lease can be taken over a servable token,
    // so fetch longer-lived ones and write them over it (the store keeps the later expiry).
    else if (step === 'outlive') next = fetchAndWrite(request, store);
    else if (step === 'serve') next = Promise.resolve(fromStore(request, known!.token!));
    else if (step === 'lease') next = tryLease(request, store, wait);
    return next;
  }

  function replaceUnreadable<R>(request: TokenRequest<R>, store: TokenStore, unreadable: TokenItem['unreadable']): Promise<Served<R>> {
    request.logger.warn('token item unreadable; replacing it with fresh credentials', {
      pk: request.pk,
      sealed: unreadable?.sealedData !== undefined,
    });
    return fetchAndWrite(request, store, unreadable);
  }

  function fromStore<R>(request: TokenRequest<R>, token: StoredToken): Served<R> {
    memory.set(request.key, holdToken(token));
    return { result: request.fromToken(token), source: 'table', left: lifetimeLeft(token), expiresAt: token.expiresAt };
  }

  /** Takes the lease and fetches under it; undefined when another instance took it first. */
  async function tryLease<R>(request: TokenRequest<R>, store: TokenStore, wait: LeaseWait): Promise<Served<R> | undefined> {
    const owner = randomUUID();
    let taken: boolean | 'failed';
    try {
      taken = await store.takeLease(request.pk, owner);
    } catch (error) {
      store.failed(error, 'take lease');
      taken = 'failed';
    }
    if (taken !== false) wait.stop();
    if (taken === 'failed') return fetchToMemory(request);
    return taken ? holdLease(request, store, owner) : undefined;
  }

  /** This instance holds the lease: it fetches, keeping the lease alive meanwhile, and writes the token. */
  async function holdLease<R>(request: TokenRequest<R>, store: TokenStore, owner: string): Promise<Served<R>> {
    const { pk } = request;
    const heartbeat = keepLease(store, pk, owner);
    let kept: Kept<R>;
    try {
      kept = await fetchToMemory(request);
    } catch (error) {
      heartbeat.stop();
      // Waiting requests may try for themselves now rather than when the lease expires.
      await store.releaseLease(pk, owner).catch((failure: unknown) => store.failed(failure, 'release lease'));
      throw error;
    }
    heartbeat.stop();
    await writeUnderLease(store, pk, owner, kept.token);
    return served(kept);
  }

  async function writeUnderLease(store: TokenStore, pk: string, owner: string, token: StoredToken | undefined): Promise<void> {
    try {
      // write's false: another instance wrote a later token meanwhile; it stays.
      if (token === undefined) await store.releaseLease(pk, owner);
      else await store.write(pk, token);
      store.worked();
    } catch (error) {
      store.failed(error, 'write token');
      // Nothing written: waiting requests need not wait for the lease to expire.
      if (store.wroteNothing(error)) await store.releaseLease(pk, owner).catch(() => undefined);
    }
  }

  /** Fetches without a lease and writes the token unless the store holds one that expires no earlier. */
  async function fetchAndWrite<R>(request: TokenRequest<R>, store: TokenStore, replacing?: TokenItem['unreadable']): Promise<Served<R>> {
    const kept = await fetchToMemory(request);
    if (kept.token !== undefined) {
      try {
        await store.write(request.pk, kept.token, replacing);
        store.worked();
      } catch (error) {
        store.failed(error, 'write token');
      }
    }
    return served(kept);
  }

  async function rotateInMemory<R>(request: TokenRequest<R>): Promise<'rotated' | 'fresh'> {
    const held = memory.get(request.key);
    const fresh = held !== undefined && leftOf(held.fetchedAt, held.expiresAt, Date.now()) >= ROTATE_WHEN_LEFT;
    if (!fresh) await fetchToMemory(request);
    return fresh ? 'fresh' : 'rotated';
  }

  async function rotateInStore<R>(request: TokenRequest<R>, store: TokenStore): Promise<'rotated' | 'fresh'> {
    const item = await store.read(request.pk, true);
    const fresh = item?.token !== undefined && lifetimeLeft(item.token) >= ROTATE_WHEN_LEFT;
    if (!fresh) {
      const { token } = await fetchToMemory(request);
      if (token !== undefined) await store.write(request.pk, token, item?.unreadable);
    }
    return fresh ? 'fresh' : 'rotated';
  }

  return {
    async serve<R>(request: TokenRequest<R>, minimumLeftMs = 0): Promise<Served<R>> {
      const held = fromMemory(request, minimumLeftMs);
      if (held !== undefined) return held;
      let pending = inFlight.get(request.key) as Promise<Served<R>> | undefined;
      if (!pending) {
        pending = refresh(request, minimumLeftMs).finally(() => inFlight.delete(request.key));
        inFlight.set(request.key, pending);
      }
      const joined = await pending;
      // A request that joined another's fetch of shorter-lived tokens than it needs fetches its own.
      const longEnough = joined.expiresAt === undefined || expiresAfter({ expiresAt: joined.expiresAt }, minimumLeftMs);
      return minimumLeftMs === 0 || longEnough ? joined : refresh(request, minimumLeftMs);
    },
    rotate(request) {
      const store = request.store();
      return store === undefined ? rotateInMemory(request) : rotateInStore(request, store);
    },
    get size() {
      return memory.size;
    },
    clear() {
      memory.clear();
      inFlight.clear();
    },
  };
}

/** What a refresh does next with what the store said (`failed`: the store could not be read). */
function stepFor(item: TokenItem | undefined | 'failed', minimumLeftMs: number): Step {
  if (item === 'failed') return 'degrade';
  if (item?.unreadable) return 'replace';
  if (servable(item)) return expiresAfter(item.token, minimumLeftMs) ? 'serve' : 'outlive';
  return leaseLive(item) ? 'wait' : 'lease';
}

function servable(item: TokenItem | undefined, now = Date.now()): item is TokenItem & { token: StoredToken } {
  return item?.token !== undefined && lifetimeLeft(item.token, now) >= SERVE_WHILE_LEFT;
}

function expiresAfter(token: Pick<StoredToken, 'expiresAt'>, minimumLeftMs: number, now = Date.now()): boolean {
  return Date.parse(token.expiresAt) - now >= minimumLeftMs;
}

function served<R>({ token: _token, ...kept }: Kept<R>): Served<R> {
  return kept;
}

async function readItem(store: TokenStore, pk: string, consistent: boolean): Promise<TokenItem | undefined | 'failed'> {
  try {
    const item = await store.read(pk, consistent);
    store.worked();
    return item;
  } catch (error) {
    store.failed(error, 'read token');
    return 'failed';
  }
}

/** The heartbeat that keeps a lease alive while its owner fetches. */
function keepLease(store: TokenStore, pk: string, owner: string): { stop(): void } {
  let holding = true;
  const timer = setInterval(() => {
    if (!holding) return;
    store.renewLease(pk, owner).then(
      (held) => {
        holding &&= held;
      },
      (error: unknown) => store.failed(error, 'renew lease'),
    );
  }, LEASE_RENEW_MS);
  return {
    stop() {
      clearInterval(timer);
      holding = false;
    },
  };
}

/** A wait on another instance's lease: doubling delays, never past the deadline, measured (LeaseWait) once it stops. */
interface LeaseWait {
  /** Sleeps the next delay; Timeout when it would end past the deadline. */
  next(): Promise<void>;
  stop(): void;
}

function leaseWait(request: Pick<TokenRequest<unknown>, 'deadline' | 'metrics'>): LeaseWait {
  let delay = POLL_FIRST_MS;
  let since: number | undefined;
  const stop = () => {
    if (since !== undefined) request.metrics.sample('LeaseWait', Date.now() - since);
    since = undefined;
  };
  return {
    stop,
    async next() {
      if (Date.now() + delay >= request.deadline) {
        stop();
        throw new BrokerError('Timeout', 'Another instance is fetching these credentials and did not finish before the function deadline.');
      }
      since ??= Date.now();
      await sleep(delay);
      delay = Math.min(POLL_MAX_MS, delay * 2);
    },
  };
}
