import { randomUUID } from 'node:crypto';
import { sleep } from '../core/backoff.js';
import { readConfig } from '../core/config.js';
import { BrokerError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Invocation } from '../runtime/middleware/invocation-context.js';
import { type OperationResult, type RunOptions, runOperation } from '../runtime/run-operation.js';
import type { Operation } from '../spec/operation.js';
import { readKeys } from '../vendor/keys.js';
import { bodyKey } from './body-key.js';
import { clearRateBudgets } from './rate-budget.js';
import {
  LEASE_RENEW_MS,
  leaseLive,
  readTokenItem,
  releaseLease,
  renewLease,
  SERVE_WHILE_LEFT,
  type StoredToken,
  type TokenItem,
  takeLease,
  tokenKey,
  writeToken,
} from './token-lease.js';
import { createTokenMemory, holdToken } from './token-memory.js';
import { clearDataKeys, KmsFailure, prepareKms } from './token-seal.js';
import { resetTable, tableFailed, tableWorked, usableTable } from './token-table.js';

/** An invocation, with the role an STS operation assumes for its caller (whose scope `hash` covers too) and the caller's tenant. */
type ScopedInvocation = Invocation & Pick<RunOptions, 'role' | 'tenant'>;

/**
 * Credentials served from memory, then the token table, then the vendor (docs/contracts.md,
 * "Shared state"): once for every request waiting on one body, in this instance (one promise)
 * and across instances (a lease in the table). Without TOKEN_TABLE, memory only; with it but
 * without TOKEN_KEY_ID too, since the table never holds a token unsealed.
 */

/** Where an answer came from: told to the audit log, never changes the answer. */
export type AnswerSource = 'memory' | 'table' | 'vendor';

export { SERVE_WHILE_LEFT };
/** Scheduled rotation leaves credentials alone while at least this share is left. */
export const ROTATE_WHEN_LEFT = 0.5;

/** A request waiting on another instance's lease looks at the table again after these delays (ms), doubling up to the cap. */
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

function toStored(result: OperationResult, fetchedAt: number): StoredToken {
  return {
    data: result.data,
    expiresAt: result.expiresAt!,
    fetchedAt: new Date(fetchedAt).toISOString(),
    ...(result.vendorRequestId !== undefined && { vendorRequestId: result.vendorRequestId }),
  };
}

function fromStored(op: Operation, token: StoredToken): OperationResult {
  return {
    operation: op.name,
    ...(token.vendorRequestId !== undefined && { vendorRequestId: token.vendorRequestId }),
    expiresAt: token.expiresAt,
    data: token.data,
  };
}

/** An answer, where it came from, and the share of its credentials' lifetime left when served (1 when just fetched). */
type Served = { result: OperationResult; source: AnswerSource; left: number };

const memory = createTokenMemory(() => readConfig().TOKEN_MEMORY_ENTRIES);
/** Memory and in-flight requests are keyed per function and body hash. */
const memoryKey = (op: Operation, hash: string) => `${op.functionName}#${hash}`;
const inFlight = new Map<string, Promise<Served>>();

/** How many tokens this instance holds in memory. */
export function tokensInMemory(): number {
  return memory.size;
}

/** Forget what this instance holds: memory, waits, rate budgets, data keys and the table client (tests; a cold start does the same). */
export function clearTokenMemory(): void {
  memory.clear();
  inFlight.clear();
  clearRateBudgets();
  resetTable();
  clearDataKeys();
  warnedNoKey = false;
}

let warnedNoKey = false;

/**
 * The table tokens may be kept in: `table` (configured, or usable now), unless TOKEN_KEY_ID is
 * unset: tokens are never stored unsealed, so they stay in memory, with one warning per instance.
 */
function tokenTable(table: string | undefined, logger: Logger): string | undefined {
  if (table === undefined || readConfig().TOKEN_KEY_ID !== undefined) return table;
  if (!warnedNoKey) {
    warnedNoKey = true;
    logger.warn('TOKEN_TABLE is set but TOKEN_KEY_ID is not: tokens are kept in memory only, never unsealed in the table', {
      table,
    });
  }
  return undefined;
}

/**
 * Credentials for a validated body: from memory, else from the table, else from the vendor,
 * once for every request waiting on the same body. Cached credentials are served only while
 * a quarter of their lifetime is left, and (STS) at least `minimumLeftMs`.
 */
export async function cachedCredentials(
  op: Operation,
  body: Record<string, unknown>,
  invocation: ScopedInvocation,
  hash = bodyKey(body),
  minimumLeftMs = 0,
): Promise<Served> {
  const key = memoryKey(op, hash);
  const now = Date.now();
  const held = memory.get(key, now);
  const heldLeft = held ? leftOf(held.fetchedAt, held.expiresAt, now) : 0;
  if (held && heldLeft >= SERVE_WHILE_LEFT && held.expiresAt - now >= minimumLeftMs) {
    return { result: fromStored(op, held.token), source: 'memory', left: heldLeft };
  }
  let pending = inFlight.get(key);
  if (!pending) {
    pending = refresh(op, body, hash, invocation, minimumLeftMs).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  const served = await pending;
  // A request that joined another's fetch of shorter-lived credentials than it needs fetches its own.
  if (minimumLeftMs === 0 || longEnough(served.result, minimumLeftMs)) return served;
  return refresh(op, body, hash, invocation, minimumLeftMs);
}

function longEnough(result: OperationResult, minimumLeftMs: number, now = Date.now()): boolean {
  return result.expiresAt === undefined || Date.parse(result.expiresAt) - now >= minimumLeftMs;
}

function servable(item: TokenItem | undefined, now = Date.now()): item is TokenItem & { token: StoredToken } {
  return item?.token !== undefined && lifetimeLeft(item.token, now) >= SERVE_WHILE_LEFT;
}

/** Calls the vendor and holds what it returns in memory; `token` is what the table would hold. */
async function fromVendor(
  op: Operation,
  body: Record<string, unknown>,
  hash: string,
  invocation: ScopedInvocation,
): Promise<Served & { token?: StoredToken }> {
  const fetchedAt = Date.now();
  const result = await runOperation(op, body, invocation);
  if (result.expiresAt === undefined) return { result, source: 'vendor', left: 1 };
  const token = toStored(result, fetchedAt);
  const key = memoryKey(op, hash);
  const held = memory.get(key);
  // Concurrent fetches of different lifetimes (STS): memory keeps the one that lives longest.
  if (held === undefined || held.expiresAt <= Date.parse(token.expiresAt)) memory.set(key, holdToken(token));
  return { result, source: 'vendor', left: lifetimeLeft(token), token };
}

async function refresh(
  op: Operation,
  body: Record<string, unknown>,
  hash: string,
  invocation: ScopedInvocation,
  minimumLeftMs = 0,
): Promise<Served> {
  const { logger, deadline, metrics } = invocation;
  const table = tokenTable(usableTable(), logger);
  if (table === undefined) return fromVendor(op, body, hash, invocation);
  const pk = tokenKey(op, hash);
  const look = async (consistent: boolean) => {
    const item = await readTokenItem(table, pk, consistent);
    tableWorked(logger);
    return item;
  };
  /** Since when this request waits on another instance's lease; measured once it stops waiting. */
  let waitingSince: number | undefined;
  const stopWaiting = () => {
    if (waitingSince !== undefined) metrics.sample('LeaseWait', Date.now() - waitingSince);
    waitingSince = undefined;
  };

  let item: TokenItem | undefined;
  prepareKms();
  try {
    item = await look(false);
  } catch (error) {
    tableFailed(error, logger, 'read token', metrics);
    return fromVendor(op, body, hash, invocation);
  }
  // A miss: the vendor call will need the keys, so read them alongside the lease, not after it.
  // Not before the table answers: on a cold instance that would build the SSM client and read a
  // key that a table hit never needs. A failure is left for the vendor call's own read to report.
  if (!servable(item)) readKeys(op.vendor).catch(() => undefined);
  let delay = POLL_FIRST_MS;
  for (;;) {
    if (item?.unreadable) {
      stopWaiting();
      invocation.logger.warn('token item unreadable; replacing it with fresh credentials', {
        pk,
        sealed: item.unreadable.sealedData !== undefined,
      });
      return fetchAndWrite(op, body, hash, invocation, table, pk, item.unreadable);
    }
    if (servable(item) && !longEnough(fromStored(op, item.token), minimumLeftMs)) {
      // Servable, but shorter-lived than this request asked (STS): no lease can be taken over a
      // servable token, so fetch longer ones and write them over it (the table keeps the later expiry).
      stopWaiting();
      return fetchAndWrite(op, body, hash, invocation, table, pk);
    }
    if (servable(item)) {
      stopWaiting();
      memory.set(memoryKey(op, hash), holdToken(item.token));
      return { result: fromStored(op, item.token), source: 'table', left: lifetimeLeft(item.token) };
    }
    if (!leaseLive(item)) {
      const owner = randomUUID();
      let taken: boolean;
      try {
        taken = await takeLease(table, pk, owner);
      } catch (error) {
        stopWaiting();
        tableFailed(error, logger, 'take lease', metrics);
        return fromVendor(op, body, hash, invocation);
      }
      if (taken) {
        stopWaiting();
        return holdLease(op, body, hash, invocation, table, pk, owner);
      }
    }
    // Another instance holds the lease (or just took it): wait for its token to land.
    if (Date.now() + delay >= deadline) {
      stopWaiting();
      throw new BrokerError('Timeout', 'Another instance is fetching these credentials and did not finish before the function deadline.');
    }
    waitingSince ??= Date.now();
    await sleep(delay);
    delay = Math.min(POLL_MAX_MS, delay * 2);
    try {
      item = await look(true);
    } catch (error) {
      stopWaiting();
      tableFailed(error, logger, 'read token', metrics);
      return fromVendor(op, body, hash, invocation);
    }
  }
}

/** This instance holds the lease: it calls the vendor, keeping the lease alive meanwhile, and writes the token. */
async function holdLease(
  op: Operation,
  body: Record<string, unknown>,
  hash: string,
  invocation: ScopedInvocation,
  table: string,
  pk: string,
  owner: string,
): Promise<Served> {
  const { logger, metrics } = invocation;
  let holding = true;
  const heartbeat = setInterval(() => {
    if (!holding) return;
    renewLease(table, pk, owner).then(
      (held) => {
        holding &&= held;
      },
      (error: unknown) => tableFailed(error, logger, 'renew lease', metrics),
    );
  }, LEASE_RENEW_MS);
  let served: Served & { token?: StoredToken };
  try {
    served = await fromVendor(op, body, hash, invocation);
  } catch (error) {
    clearInterval(heartbeat);
    // Waiting requests may try for themselves now rather than when the lease expires.
    await releaseLease(table, pk, owner).catch((failure: unknown) => tableFailed(failure, logger, 'release lease', metrics));
    throw error;
  }
  clearInterval(heartbeat);
  holding = false;
  try {
    // writeToken's false: another instance wrote newer credentials meanwhile; they stay.
    if (served.token === undefined) await releaseLease(table, pk, owner);
    else await writeToken(table, pk, served.token);
    tableWorked(logger);
  } catch (error) {
    tableFailed(error, logger, 'write token', metrics);
    // No data key, so no token written: waiting requests need not wait for the lease to expire.
    if (error instanceof KmsFailure) await releaseLease(table, pk, owner).catch(() => undefined);
  }
  return { result: served.result, source: served.source, left: served.left };
}

/** Fetches without a lease and writes the token unless the table holds one that expires no earlier. */
async function fetchAndWrite(
  op: Operation,
  body: Record<string, unknown>,
  hash: string,
  invocation: ScopedInvocation,
  table: string,
  pk: string,
  replacing?: TokenItem['unreadable'],
): Promise<Served> {
  const served = await fromVendor(op, body, hash, invocation);
  if (served.token !== undefined) {
    try {
      await writeToken(table, pk, served.token, replacing);
      tableWorked(invocation.logger);
    } catch (error) {
      tableFailed(error, invocation.logger, 'write token', invocation.metrics);
    }
  }
  return { result: served.result, source: served.source, left: served.left };
}

export interface RotationReport {
  rotated: number;
  fresh: number;
  failed: { key: string; code: string; message: string; vendorCode?: string }[];
}

/**
 * One scheduled rotation of one body: leaves the table's credentials alone while half their
 * lifetime is left, else fetches new ones and writes them, unless a concurrent rotation wrote
 * newer ones meanwhile: the table never goes back in time. Writing the table is the point of
 * rotation, so here a table failure fails the body. Without TOKEN_TABLE, it fills memory.
 */
export async function rotateOne(op: Operation, body: Record<string, unknown>, invocation: Invocation): Promise<'rotated' | 'fresh'> {
  const hash = bodyKey(body);
  const key = memoryKey(op, hash);
  const table = tokenTable(readConfig().TOKEN_TABLE, invocation.logger);
  if (table === undefined) {
    const held = memory.get(key);
    if (held && leftOf(held.fetchedAt, held.expiresAt, Date.now()) >= ROTATE_WHEN_LEFT) return 'fresh';
    await fromVendor(op, body, hash, invocation);
    return 'rotated';
  }
  const pk = tokenKey(op, hash);
  const item = await readTokenItem(table, pk, true);
  if (item?.token && lifetimeLeft(item.token) >= ROTATE_WHEN_LEFT) return 'fresh';
  const { token } = await fromVendor(op, body, hash, invocation);
  if (token !== undefined) await writeToken(table, pk, token, item?.unreadable);
  return 'rotated';
}
