import { createHash } from 'node:crypto';
import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DEFAULT_ACCOUNT } from '../access/account.js';
import { EVENTS_TENANT } from '../access/tenant.js';
import { sleep } from '../core/backoff.js';
import { readConfig } from '../core/config.js';
import { BrokerError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Measures } from '../core/metrics.js';
import type { Operation } from '../spec/operation.js';
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
 * Without the table, each instance holds the limit on its own (lib/state/rate-limiter.ts).
 *
 * Fair shares: a tenant (lib/access/tenant.ts) may take at most tenantShare(limit) slots that start
 * in any one second (epoch seconds): before it claims a slot, a call takes a ticket for that
 * second with a conditional counter, `<function>#share#<tenant hash>#<second>`. So one tenant
 * asking for many distinct bodies leaves the other slots to the others, on every instance.
 */
export const SLOT_SPACING = 1.25;
/** A call starts within this many ms of its slot's start, or takes another slot. */
export const SLOT_GRACE_MS = 25;
/** Slot items outlive their slot by this much, then DynamoDB removes them. */
const SLOT_TTL_S = 60;

/** The time between two slots of a rate of `ratePerSecond`, widened by SLOT_SPACING. */
export function slotSpacingMs(ratePerSecond: number): number {
  return Math.ceil((1_000 / ratePerSecond) * SLOT_SPACING);
}

/**
 * The table key of the rate slot `slot` of `op` in `account`: the vendor counts its limit per
 * account, so each account has slots of its own (`default` keeps the key it always had).
 */
export function slotKey(op: Pick<Operation, 'functionName'>, slot: number, account: string = DEFAULT_ACCOUNT): string {
  return account === DEFAULT_ACCOUNT ? `${op.functionName}#rate#${slot}` : `${op.functionName}#rate#${account}#${slot}`;
}

/** The most slots of a limit one tenant may take in one second: RATE_TENANT_SHARE of it, at least one. */
export function tenantShare(limit: number, share = readConfig().RATE_TENANT_SHARE): number {
  return Math.max(1, Math.floor(limit * share));
}

/** A tenant as it appears in the table: a hash, so no caller name or claim is stored. */
export function tenantHash(tenant: string): string {
  return createHash('sha256').update(tenant).digest('hex').slice(0, 32);
}

/** The counter of a tenant's tickets for the slots of `account` that start in one epoch second. */
export function shareKey(op: Pick<Operation, 'functionName'>, tenant: string, second: number, account: string = DEFAULT_ACCOUNT): string {
  return account === DEFAULT_ACCOUNT
    ? `${op.functionName}#share#${tenantHash(tenant)}#${second}`
    : `${op.functionName}#share#${account}#${tenantHash(tenant)}#${second}`;
}

/** Bounds of an instance's bookkeeping; past them the oldest entries go (the table stays the authority). */
const MAX_BUDGETS = 256;
const MAX_TRIED_SLOTS = 4_096;
const MAX_TICKET_ENTRIES = 1_024;
const MAX_LOCAL_TENANTS = 256;

interface Budget {
  /** Slots this instance has tried (taken, or being tried by one of its requests): never tried again. */
  tried: Set<number>;
  /** `<tenant hash>#<second>` → tickets this instance holds or asks for; `share` once the table says none are left. */
  tickets: Map<string, number>;
  /** The per-instance fallback, made when first needed: the operation's limit, and each tenant's share of it. */
  local?: RateLimiter;
  localShares?: Map<string, RateLimiter>;
}
const budgets = new Map<string, Budget>();

/** Drops the oldest entries of a map or set (insertion order) until it holds at most `max`. */
function bound<K>(entries: Pick<Map<K, unknown>, 'keys' | 'size' | 'delete'>, max: number): void {
  for (const key of entries.keys()) {
    if (entries.size <= max) return;
    entries.delete(key);
  }
}

/** Forget every budget (tests; a cold start does the same). */
export function clearRateBudgets(): void {
  budgets.clear();
}

function throttled(waitMs: number): BrokerError {
  return new BrokerError('Throttled', 'Too many requests for this operation right now; try again shortly.', {
    retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
  });
}

/** Takes one of a tenant's `share` tickets for a second; true when one was left. */
async function takeTicket(table: string, pk: string, second: number, share: number): Promise<boolean> {
  return conditionalWrite(
    new UpdateItemCommand({
      TableName: table,
      Key: { pk: S(pk) },
      UpdateExpression: 'ADD #n :one SET #ttl = :ttl',
      ConditionExpression: 'attribute_not_exists(#n) OR #n < :share',
      ExpressionAttributeNames: { '#n': 'tickets', '#ttl': 'ttl' },
      ExpressionAttributeValues: { ':one': N(1), ':share': N(share), ':ttl': N(second + 1 + SLOT_TTL_S) },
    }),
  );
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
 * (RateLimitWait), or the refusal (RateLimited), and failed table calls. `tenant` is whose
 * share the call takes (lib/access/tenant.ts); absent, the events tenant's. `account` is the
 * vendor account whose limit it counts against (lib/access/account.ts); absent, `default`.
 */
export async function acquireVendorSlot(
  op: Operation,
  notAfter: number,
  logger: Logger,
  metrics?: Measures,
  tenant: string = EVENTS_TENANT,
  account: string = DEFAULT_ACCOUNT,
): Promise<void> {
  const limit = op.ratePerSecond;
  if (limit === undefined) return;
  const started = Date.now();
  try {
    await acquire(op, limit, notAfter, tenant, account, logger, metrics);
  } catch (error) {
    if (error instanceof BrokerError && error.code === 'Throttled') metrics?.count('RateLimited');
    throw error;
  }
  metrics?.sample('RateLimitWait', Date.now() - started);
}

async function acquire(
  op: Operation,
  limit: number,
  notAfter: number,
  tenant: string,
  account: string,
  logger: Logger,
  metrics: Measures | undefined,
): Promise<void> {
  const budgetKey = `${op.name}#${account}`;
  let budget = budgets.get(budgetKey);
  if (!budget) {
    budget = { tried: new Set(), tickets: new Map() };
    budgets.set(budgetKey, budget);
    bound(budgets, MAX_BUDGETS);
  }
  const spacing = slotSpacingMs(limit);
  const share = tenantShare(limit);
  // A share as large as a second's slots limits nothing: no tickets then.
  const shared = share < Math.ceil(1_000 / spacing);
  const hash = tenantHash(tenant);
  /** The second this request holds a ticket for. */
  let ticket: number | undefined;
  /** The first slot this request may take: past the seconds its tenant has used up. */
  let floor = 0;
  for (;;) {
    const table = usableTable();
    if (table === undefined) return acquireLocal(budget, limit, shared ? share : undefined, hash, notAfter);
    const now = Date.now();
    const earliest = Math.ceil((now - SLOT_GRACE_MS) / spacing);
    if (budget.tried.size > MAX_TRIED_SLOTS) {
      for (const old of budget.tried) if (old < earliest) budget.tried.delete(old);
      bound(budget.tried, MAX_TRIED_SLOTS);
    }
    // The earliest slot still usable that no request of this instance has tried.
    let slot = Math.max(earliest, floor);
    while (budget.tried.has(slot)) slot += 1;
    const startsAt = slot * spacing;
    if (startsAt > notAfter) throw throttled(startsAt - now);
    const second = Math.floor(startsAt / 1_000);
    if (shared && ticket !== second) {
      const counted = `${hash}#${second}`;
      const held = budget.tickets.get(counted) ?? 0;
      if (held >= share) {
        // This tenant's share of that second is gone: its next second's first slot.
        floor = Math.ceil(((second + 1) * 1_000) / spacing);
        continue;
      }
      // Counted before the call, so this instance's concurrent requests do not ask for more than the share.
      budget.tickets.set(counted, held + 1);
      bound(budget.tickets, MAX_TICKET_ENTRIES);
      let granted: boolean;
      try {
        granted = await takeTicket(table, shareKey(op, tenant, second, account), second, share);
        tableWorked(logger);
      } catch (error) {
        budget.tickets.set(counted, Math.max(0, (budget.tickets.get(counted) ?? 1) - 1));
        tableFailed(error, logger, 'rate slot', metrics);
        continue;
      }
      if (!granted) {
        // Other instances hold the rest of the share.
        budget.tickets.set(counted, share);
        continue;
      }
      ticket = second;
    }
    // Taken before the claim is sent, so concurrent requests of this instance try different slots.
    budget.tried.add(slot);
    let claimed: boolean;
    try {
      claimed = await claimSlot(table, slotKey(op, slot, account), startsAt);
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

/** Without the table: the operation's limit in this instance, and each tenant's share of it (`share` undefined: none). */
async function acquireLocal(budget: Budget, limit: number, share: number | undefined, tenant: string, notAfter: number): Promise<void> {
  budget.local ??= createRateLimiter(limit);
  try {
    if (share !== undefined) {
      budget.localShares ??= new Map();
      let mine = budget.localShares.get(tenant);
      if (!mine) {
        mine = createRateLimiter(share);
        budget.localShares.set(tenant, mine);
        bound(budget.localShares, MAX_LOCAL_TENANTS);
      }
      await mine.acquire(notAfter);
    }
    await budget.local.acquire(notAfter);
  } catch (error) {
    if (!(error instanceof RateLimitWaitTooLong)) throw error;
    throw throttled(error.waitMs);
  }
}
