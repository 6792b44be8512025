import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { sleep } from './backoff.js';
import { BrokerError } from './errors.js';
import type { Logger } from './logger.js';
import type { Measures } from './metrics.js';
import type { Operation } from './operation.js';
import { createRateLimiter, type RateLimiter, RateLimitWaitTooLong } from './rate-limiter.js';
import { conditionalWrite, N, S, tableFailed, tableWorked, usableTable } from './token-table.js';

/**
 * A vendor's rate limit held across every instance (docs/contracts.md, "Shared state"), as the
 * vendor counts it: on arrival. Time is cut into slots SLOT_SPACING × 1000 / limit ms apart;
 * a call needs a slot of its own, taken with a conditional put of `<function>#rate#<slot
 * number>`, and starts within SLOT_GRACE_MS of the slot's start or not at all (it takes
 * another). So the sends of any `limit + 1` slots span at least
 * 1000·SLOT_SPACING − SLOT_GRACE_MS ms, which leaves 225 ms (CAMS) for calls to be delayed
 * unequally on their way to the vendor. That much is needed: measured on loopback, most calls
 * arrive 1–3 ms after they leave, but an instance's first call (a new connection, undici
 * loading) can take 200 ms; 15 % wider slots let six calls arrive within a second.
 * Without the table, each instance holds the limit on its own (lib/rate-limiter.ts).
 */
export const SLOT_SPACING = 1.25;
export const SLOT_GRACE_MS = 25;
/** Slot items outlive their slot by this much, then DynamoDB removes them. */
const SLOT_TTL_S = 60;

export function slotSpacingMs(ratePerSecond: number): number {
  return Math.ceil((1_000 / ratePerSecond) * SLOT_SPACING);
}

export function slotKey(op: Pick<Operation, 'functionName'>, slot: number): string {
  return `${op.functionName}#rate#${slot}`;
}

interface Budget {
  /** The next slot this instance tries: slots below it are taken, or tried by a request of this instance. */
  cursor: number;
  /** The per-instance fallback, made when first needed. */
  local?: RateLimiter;
}
const budgets = new Map<string, Budget>();

/** Forget every budget (tests; a cold start does the same). */
export function clearRateBudgets(): void {
  budgets.clear();
}

function throttled(waitMs: number): BrokerError {
  return new BrokerError('Throttled', 'Too many requests for this operation right now; try again shortly.', {
    retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
  });
}

/** Takes one slot; true when it was free. */
async function claimSlot(table: string, pk: string, startsAt: number): Promise<boolean> {
  return conditionalWrite(
    new PutItemCommand({
      TableName: table,
      Item: { pk: S(pk), ttl: N(Math.ceil(startsAt / 1000) + SLOT_TTL_S) },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
}

/**
 * Resolves when one call to `op`'s vendor may be sent, which the caller then does at once;
 * throws 429 Throttled (with Retry-After) when no slot starts by `notAfter` (epoch ms).
 * Operations without a `ratePerSecond` go straight through. `metrics` gets the wait
 * (RateLimitWait), or the refusal (RateLimited), and failed table calls.
 */
export async function acquireVendorSlot(op: Operation, notAfter: number, logger: Logger, metrics?: Measures): Promise<void> {
  const limit = op.ratePerSecond;
  if (limit === undefined) return;
  const started = Date.now();
  try {
    await acquire(op, limit, notAfter, logger, metrics);
  } catch (error) {
    if (error instanceof BrokerError && error.code === 'Throttled') metrics?.count('RateLimited');
    throw error;
  }
  metrics?.sample('RateLimitWait', Date.now() - started);
}

async function acquire(op: Operation, limit: number, notAfter: number, logger: Logger, metrics: Measures | undefined): Promise<void> {
  let budget = budgets.get(op.name);
  if (!budget) {
    budget = { cursor: 0 };
    budgets.set(op.name, budget);
  }
  const spacing = slotSpacingMs(limit);
  for (;;) {
    const table = usableTable();
    if (table === undefined) return acquireLocal(budget, limit, notAfter);
    const now = Date.now();
    // The earliest slot still usable, unless this instance already knows it is gone.
    const slot = Math.max(budget.cursor, Math.ceil((now - SLOT_GRACE_MS) / spacing));
    const startsAt = slot * spacing;
    if (startsAt > notAfter) throw throttled(startsAt - now);
    // Taken before the claim is sent, so concurrent requests of this instance try different slots.
    budget.cursor = slot + 1;
    let claimed: boolean;
    try {
      claimed = await claimSlot(table, slotKey(op, slot), startsAt);
      tableWorked(logger);
    } catch (error) {
      tableFailed(error, logger, 'rate slot', metrics);
      continue;
    }
    if (!claimed) continue;
    const wait = startsAt - Date.now();
    if (wait > 0) await sleep(wait);
    if (Date.now() <= startsAt + SLOT_GRACE_MS) return;
    // Woken too late (a busy event loop): the slot is given up unused, and another taken.
  }
}

async function acquireLocal(budget: Budget, limit: number, notAfter: number): Promise<void> {
  budget.local ??= createRateLimiter(limit);
  try {
    await budget.local.acquire(notAfter);
  } catch (error) {
    if (!(error instanceof RateLimitWaitTooLong)) throw error;
    throw throttled(error.waitMs);
  }
}
