import { afterEach, describe, expect, it, vi } from 'vitest';
import { BrokerError } from '../../lib/errors.js';
import type { Operation } from '../../lib/operation.js';
import { acquireVendorSlot, clearRateBudgets, SLOT_GRACE_MS, SLOT_SPACING, slotSpacingMs } from '../../lib/rate-budget.js';
import { resetTable } from '../../lib/token-table.js';
import { fakeLogger } from '../support/fake-logger.js';
import { useLocalTable } from '../support/local-table-env.js';

/** The rate budget against the local table, through the broker's own client. */
const local = useLocalTable();
afterEach(() => {
  clearRateBudgets();
  resetTable();
});

let counter = 0;
const rateOp = (ratePerSecond?: number) =>
  ({ name: `unit:Rate${++counter}`, functionName: `unit-rate-${counter}`, ratePerSecond }) as unknown as Operation;

type Budget = typeof import('../../lib/rate-budget.js');
/** A separate instance of the module: its own cursor, its own table client. */
async function instance(): Promise<Budget> {
  vi.resetModules();
  return import('../../lib/rate-budget.js');
}

describe('slot spacing', () => {
  it('is the nominal interval made SLOT_SPACING wider', () => {
    expect(SLOT_SPACING).toBeGreaterThanOrEqual(1.15);
    expect(slotSpacingMs(5)).toBe(250);
    expect(slotSpacingMs(20)).toBe(63);
  });
});

describe('acquireVendorSlot', () => {
  it('lets operations without a rate limit straight through', async () => {
    const started = Date.now();
    await acquireVendorSlot(rateOp(), started, fakeLogger());
    expect(Date.now() - started).toBeLessThan(20);
  });

  it('across instances, any limit + 1 sends span more than a second: slots apart, each sent within the grace', async () => {
    const op = rateOp(20);
    const instances = [await instance(), await instance(), await instance()];
    const logger = fakeLogger();
    const sent: number[] = [];
    await Promise.all(
      Array.from({ length: 45 }, async (_, i) => {
        await instances[i % 3]!.acquireVendorSlot(op, Date.now() + 20_000, logger);
        sent.push(Date.now());
      }),
    );
    // Checked first: a table fault would hand the limit to each instance's own limiter.
    expect(logger.warn).not.toHaveBeenCalled();
    sent.sort((a, b) => a - b);
    const spans = sent.slice(20).map((t, i) => t - sent[i]!);
    expect(Math.min(...spans)).toBeGreaterThanOrEqual(20 * slotSpacingMs(20) - SLOT_GRACE_MS);
  });

  it('answers Throttled, with Retry-After, when no slot starts before the deadline', async () => {
    const op = rateOp(1);
    await acquireVendorSlot(op, Date.now() + 5_000, fakeLogger());
    const thrown = await acquireVendorSlot(op, Date.now() + 200, fakeLogger()).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(BrokerError);
    expect(thrown).toMatchObject({ code: 'Throttled', status: 429 });
    expect((thrown as BrokerError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it('gives up a slot it wakes too late for, and takes another', async () => {
    const op = rateOp(20);
    await local.table.resetRequests();
    const acquired = acquireVendorSlot(op, Date.now() + 5_000, fakeLogger());
    // A busy event loop: the first slot's start passes before its holder can use it.
    const busyUntil = Date.now() + 300;
    while (Date.now() < busyUntil) {
      // spin
    }
    await acquired;
    expect((await local.table.requests()).PutItem).toBeGreaterThanOrEqual(2);
  });

  it('falls back to the per-instance limiter when the table is down, warning once', async () => {
    const op = rateOp(5);
    const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:9'; // nothing listens there
    resetTable();
    try {
      const logger = fakeLogger();
      const sent: number[] = [];
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          await acquireVendorSlot(op, Date.now() + 5_000, logger);
          sent.push(Date.now());
        }),
      );
      sent.sort((a, b) => a - b);
      expect(sent[5]! - sent[0]!).toBeGreaterThanOrEqual(990);
      expect(logger.warn).toHaveBeenCalledTimes(1);
      expect(logger.warn.mock.calls[0]![1]).toMatchObject({ cause: 'ECONNREFUSED', action: 'rate slot' });
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
    }
  });
});
