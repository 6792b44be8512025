import { afterEach, describe, expect, it, vi } from 'vitest';
import { callerIdentity } from '../../../lib/access/caller.js';
import { EVENTS_TENANT, renderTenant } from '../../../lib/access/tenant.js';
import { sleep } from '../../../lib/core/backoff.js';
import { BrokerError } from '../../../lib/core/errors.js';
import type { Operation } from '../../../lib/spec/operation.js';
import {
  acquireVendorSlot,
  clearRateBudgets,
  SLOT_GRACE_MS,
  SLOT_SPACING,
  slotSpacingMs,
  tenantShare,
} from '../../../lib/state/rate-budget.js';
import { resetTable } from '../../../lib/state/token-table.js';
import { fakeLogger } from '../../support/fake-logger.js';
import { useLocalTable } from '../../support/local-table-env.js';

/** Runs `body` with the token table unreachable (nothing listens on port 9), as the per-instance fallback sees it. */
async function withTableDown(body: () => Promise<void>): Promise<void> {
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:9';
  resetTable();
  try {
    await body();
  } finally {
    process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
  }
}

/** The rate budget against the local table, through the broker's own client. */
const local = useLocalTable();
afterEach(() => {
  clearRateBudgets();
  resetTable();
});

let counter = 0;
const rateOp = (ratePerSecond?: number) =>
  ({ name: `unit:Rate${++counter}`, functionName: `unit-rate-${counter}`, ratePerSecond }) as unknown as Operation;

type Budget = typeof import('../../../lib/state/rate-budget.js');
/** A separate instance of the module: its own cursor, its own table client. */
async function instance(): Promise<Budget> {
  vi.resetModules();
  return import('../../../lib/state/rate-budget.js');
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
    await withTableDown(async () => {
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
    });
  });
});

describe('tenant shares', () => {
  it('a tenant may take RATE_TENANT_SHARE of the limit in a second, at least one slot', () => {
    expect(tenantShare(5)).toBe(2);
    expect(tenantShare(1)).toBe(1);
    expect(tenantShare(600)).toBe(300);
    expect(tenantShare(5, 1)).toBe(5);
  });

  it('one tenant flooding two instances leaves slots for another tenant, whose call starts well within its deadline', async () => {
    const op = rateOp(5);
    const [a, b] = [await instance(), await instance()];
    const logger = fakeLogger();
    const flood = Array.from({ length: 30 }, (_, i) =>
      (i % 2 === 0 ? a : b).acquireVendorSlot(op, Date.now() + 4_000, logger, undefined, 'iam:flooder').then(
        () => Date.now(),
        () => undefined,
      ),
    );
    await sleep(50);
    const asked = Date.now();
    await b.acquireVendorSlot(op, asked + 2_000, logger, undefined, 'iam:other');
    expect(Date.now() - asked).toBeLessThan(2_000);
    const sent = (await Promise.all(flood)).filter((t) => t !== undefined);
    // The flooder had its share (2 a second) for its 4 s, the rest refused.
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThanOrEqual(2 * 5);
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('without the table, each instance holds every tenant to its share as well', async () => {
    const op = rateOp(5);
    await withTableDown(async () => {
      const logger = fakeLogger();
      const sent: number[] = [];
      await Promise.all(
        Array.from({ length: 3 }, async () => {
          await acquireVendorSlot(op, Date.now() + 5_000, logger, undefined, 'iam:flooder');
          sent.push(Date.now());
        }),
      );
      sent.sort((x, y) => x - y);
      // Its third call waits a second for its share; another tenant's goes at once.
      expect(sent[2]! - sent[0]!).toBeGreaterThanOrEqual(990);
      const asked = Date.now();
      await acquireVendorSlot(op, Date.now() + 5_000, logger, undefined, 'iam:other');
      expect(Date.now() - asked).toBeLessThan(500);
    });
  });
});

describe('what a tenant is', () => {
  it("by default the caller's identity: the IAM principal, or the JWT's issuer and subject together", () => {
    const jwt = (iss: string, sub: string) => ({ kind: 'jwt' as const, issuer: iss, subject: sub, claims: {} });
    expect(callerIdentity({ kind: 'iam', principal: 'arn:aws:iam::123456789012:user/a' })).toContain('arn:aws:iam::123456789012:user/a');
    expect(callerIdentity(jwt('https://a.example', 'alice'))).not.toBe(callerIdentity(jwt('https://b.example', 'alice')));
    // A subject cannot pose as another issuer by holding a separator.
    expect(callerIdentity(jwt('https://a.example', 'x#y'))).not.toBe(callerIdentity(jwt('https://a.example#x', 'y')));
    // Nor as the anonymous caller, or the one tenant of events, by its name.
    const anonymous = callerIdentity({ kind: 'anonymous' });
    expect(callerIdentity(jwt('https://a.example', 'anonymous'))).not.toBe(anonymous);
    expect([anonymous, callerIdentity(jwt('', 'events'))]).not.toContain(EVENTS_TENANT);
  });

  it("the policy's template, from claims: a missing, empty or list claim, or one a session policy refuses, is refused by name", () => {
    const caller = (claims: Record<string, string | string[]>) => ({ kind: 'jwt' as const, subject: 's', claims });
    expect(renderTenant('org-${org}', caller({ org: 'acme' }))).toEqual({ tenant: 'policy:org-acme' });
    for (const claims of [{}, { org: '' }, { org: ['a', 'b'] }, { org: 'a*b' }] as Record<string, string | string[]>[]) {
      const rendering = renderTenant('org-${org}', caller(claims));
      expect(rendering).toMatchObject({ refused: { claim: 'org' } });
      expect(JSON.stringify(rendering)).not.toContain('a*b');
    }
  });
});
