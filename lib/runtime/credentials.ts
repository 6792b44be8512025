/**
 * An operation's credentials through the token cache: the cache's fetch is the vendor call
 * (runOperation), its early key read on a miss is the vendor's keys, its store the token
 * table. Memory and in-flight fetches are keyed per function and body hash.
 *
 * @module
 */
import { readConfig } from '../core/config.js';
import type { Operation } from '../spec/operation.js';
import { scopedBodyKey } from '../state/body-key.js';
import { clearRateBudgets } from '../state/rate-budget.js';
import { createTokenCache, type Served, type TokenRequest } from '../state/token-cache.js';
import { refreshAfter, type StoredToken, tokenKey } from '../state/token-lease.js';
import { createTokenMemory } from '../state/token-memory.js';
import { resetTokenStore, tableStore, tokenTable } from '../state/token-store.js';
import { usableTable } from '../state/token-table.js';
import { readKeys } from '../vendor/keys.js';
import type { Invocation } from './middleware/invocation-context.js';
import { type OperationResult, type RunOptions, runOperation } from './run-operation.js';
import { callAccount } from './vendor-call.js';

/** An invocation, with the role an STS operation assumes for its caller (whose scope `hash` covers too) and the caller's tenant. */
type ScopedInvocation = Invocation & Pick<RunOptions, 'role' | 'tenant' | 'account'>;

const cache = createTokenCache(createTokenMemory(() => readConfig().TOKEN_MEMORY_ENTRIES));

/** How many tokens this instance holds in memory. */
export function tokensInMemory(): number {
  return cache.size;
}

/** Forget what this instance holds: memory, waits, rate budgets, data keys and the table client (tests; a cold start does the same). */
export function clearTokenMemory(): void {
  cache.clear();
  clearRateBudgets();
  resetTokenStore();
}

function toStored(result: OperationResult, fetchedAt: number): StoredToken {
  return {
    data: result.data,
    expiresAt: result.expiresAt!,
    fetchedAt: new Date(fetchedAt).toISOString(),
    ...(result.vendorRequestId !== undefined && { vendorRequestId: result.vendorRequestId }),
  };
}

/** The answer a token gives, whether just fetched or held: `refreshAfter` is the token's own. */
function fromStored(op: Operation, token: StoredToken): OperationResult {
  return {
    operation: op.name,
    ...(token.vendorRequestId !== undefined && { vendorRequestId: token.vendorRequestId }),
    expiresAt: token.expiresAt,
    refreshAfter: new Date(refreshAfter(token)).toISOString(),
    data: token.data,
  };
}

/** The cache's ask for `op`'s credentials for `body` (its hash `hash`), kept in the table `tableName()` names, if any. */
function tokenRequest(
  op: Operation,
  body: Record<string, unknown>,
  hash: string,
  invocation: ScopedInvocation,
  tableName: () => string | undefined,
): TokenRequest<OperationResult> {
  const { logger, metrics, deadline } = invocation;
  return {
    key: `${op.functionName}#${hash}`,
    pk: tokenKey(op, hash),
    store() {
      const table = tokenTable(tableName(), logger);
      return table === undefined ? undefined : tableStore(table, logger, metrics);
    },
    async fetch() {
      const fetchedAt = Date.now();
      const result = await runOperation(op, body, invocation);
      if (result.expiresAt === undefined) return { result };
      const token = toStored(result, fetchedAt);
      return { result: fromStored(op, token), token };
    },
    // Not before the table answers: on a cold instance that would build the SSM client and read a
    // key that a table hit never needs. A failure is left for the vendor call's own read to report.
    onMiss: () => void readKeys(op.api, callAccount(invocation)).catch(() => undefined),
    fromToken: (token) => fromStored(op, token),
    deadline,
    logger,
    metrics,
  };
}

/**
 * Credentials for a validated body: from memory, else from the table, else from the vendor,
 * once for every request waiting on the same body. Cached credentials are served only while
 * a quarter of their lifetime is left, and (STS) at least `minimumLeftMs`.
 */
export function cachedCredentials(
  op: Operation,
  body: Record<string, unknown>,
  invocation: ScopedInvocation,
  hash = scopedBodyKey(body, { account: callAccount(invocation) }),
  minimumLeftMs = 0,
): Promise<Served<OperationResult>> {
  return cache.serve(
    tokenRequest(op, body, hash, invocation, () => usableTable()),
    minimumLeftMs,
  );
}

/** What one scheduled rotation did with its bodies. */
export interface RotationReport {
  rotated: number;
  fresh: number;
  /** Bodies not started because the run's time was nearly up: the next run takes them (absent when none). */
  deferred?: number;
  failed: { key: string; code: string; message: string; vendorCode?: string }[];
}

/**
 * One scheduled rotation of one body (lib/state/token-cache.ts `rotate`): here the configured
 * table, even one that failed a moment ago, since writing it is the point. Without TOKEN_TABLE,
 * it fills memory.
 */
export function rotateOne(op: Operation, body: Record<string, unknown>, invocation: Invocation): Promise<'rotated' | 'fresh'> {
  // The function's EVENT_ACCOUNT (else `default`): the same key a caller of that account asks for.
  const hash = scopedBodyKey(body, { account: callAccount() });
  return cache.rotate(tokenRequest(op, body, hash, invocation, () => readConfig().TOKEN_TABLE));
}
