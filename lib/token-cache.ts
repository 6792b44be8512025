import { bodyKey } from './body-key.js';
import { readConfig } from './config.js';
import { readKeys } from './keys.js';
import type { Invocation } from './middleware/invocation-context.js';
import type { Operation } from './operation.js';
import { type OperationResult, runOperation } from './run-operation.js';
import { readStoredToken, type StoredToken, writeStoredToken } from './token-store.js';

/** Where an answer came from: told to the audit log, never changes the answer. */
export type AnswerSource = 'memory' | 'store' | 'vendor';

/** The HTTPS path serves cached credentials while at least this share of their lifetime is left. */
export const SERVE_WHILE_LEFT = 0.25;
/** Scheduled rotation leaves credentials alone while at least this share is left. */
export const ROTATE_WHEN_LEFT = 0.5;

export function storeName(op: Operation, key: string): string {
  return `${readConfig().TOKEN_STORE_PREFIX}/${op.functionName}/${key}`;
}

/** Share of the lifetime still left at `now`, from 1 (just fetched) to 0 (expired). */
export function lifetimeLeft(token: Pick<StoredToken, 'fetchedAt' | 'expiresAt'>, now = Date.now()): number {
  const fetched = Date.parse(token.fetchedAt);
  const expires = Date.parse(token.expiresAt);
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

const memory = new Map<string, StoredToken>();
/** Memory and in-flight requests are keyed per operation and body hash. */
const memoryKey = (op: Operation, hash: string) => `${op.name}/${hash}`;
const inFlight = new Map<string, Promise<{ result: OperationResult; source: AnswerSource }>>();

/** Forget what this instance holds in memory (tests; a cold start does the same). */
export function clearTokenMemory(): void {
  memory.clear();
  inFlight.clear();
}

/**
 * Credentials for a validated body: from memory, else from the store, else from the
 * vendor, once for every request waiting on the same body (single flight). Cached
 * credentials are served only while a quarter of their lifetime is left.
 */
export async function cachedCredentials(
  op: Operation,
  body: Record<string, unknown>,
  invocation: Invocation,
  hash = bodyKey(body),
): Promise<{ result: OperationResult; source: AnswerSource }> {
  const key = memoryKey(op, hash);
  const held = memory.get(key);
  if (held && lifetimeLeft(held) >= SERVE_WHILE_LEFT) return { result: fromStored(op, held), source: 'memory' };

  let pending = inFlight.get(key);
  if (!pending) {
    pending = refresh(op, body, hash, invocation).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}

async function refresh(op: Operation, body: Record<string, unknown>, hash: string, invocation: Invocation) {
  const key = memoryKey(op, hash);
  const name = storeName(op, hash);
  // On a store miss the vendor call needs the keys: read them alongside the store, not after it.
  // A failure here is left for the vendor call's own read to report.
  readKeys(op.vendor).catch(() => undefined);
  try {
    const stored = await readStoredToken(name);
    if (stored && lifetimeLeft(stored) >= SERVE_WHILE_LEFT) {
      memory.set(key, stored);
      return { result: fromStored(op, stored), source: 'store' as const };
    }
  } catch (error) {
    // The store is an optimisation: when it cannot be read, the vendor still can.
    invocation.logger.warn('token store unreadable; calling the vendor', { parameter: name, error });
  }
  const fetchedAt = Date.now();
  const result = await runOperation(op, body, invocation);
  if (result.expiresAt !== undefined) memory.set(key, toStored(result, fetchedAt));
  return { result, source: 'vendor' as const };
}

export interface RotationReport {
  rotated: number;
  fresh: number;
  failed: { key: string; code: string; message: string; vendorCode?: string }[];
}

/**
 * One scheduled rotation of one body: leaves stored credentials alone while half their
 * lifetime is left, else fetches new ones and stores them. A concurrent rotation may have
 * stored newer ones meanwhile; those are kept, so the store never goes back in time.
 */
export async function rotateOne(op: Operation, body: Record<string, unknown>, invocation: Invocation): Promise<'rotated' | 'fresh'> {
  const hash = bodyKey(body);
  const name = storeName(op, hash);
  const stored = await readStoredToken(name);
  if (stored && lifetimeLeft(stored) >= ROTATE_WHEN_LEFT) return 'fresh';
  const fetchedAt = Date.now();
  const result = await runOperation(op, body, invocation);
  if (result.expiresAt === undefined) return 'rotated';
  const token = toStored(result, fetchedAt);
  const latest = await readStoredToken(name);
  if (!latest || Date.parse(latest.expiresAt) < Date.parse(token.expiresAt)) await writeStoredToken(name, token);
  memory.set(memoryKey(op, hash), token);
  return 'rotated';
}
