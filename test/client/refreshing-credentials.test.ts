/**
 * refreshingCredentials on a fake clock (vitest fake timers move Date.now and the timers): one
 * fetch at a time, a refresh at refreshAfter, the held answer served while refreshes fail, an
 * error shortly before expiry and never expired credentials, and a backoff that doubles and is
 * capped.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, defaultExpiryMarginMs, refreshingCredentials, type SourceAnswer } from '../../client/refreshing-credentials.js';

const MINUTE = 60_000;
const LIFETIME = 16 * MINUTE;
const START = Date.parse('2026-12-01T10:00:00.000Z');

/** A broker-like answer issued now: expires after LIFETIME, refreshAfter an eighth of it before. */
function answer(serial: number, lifetime = LIFETIME): SourceAnswer<{ serial: number }> {
  const now = Date.now();
  return {
    data: { serial },
    expiresAt: new Date(now + lifetime).toISOString(),
    refreshAfter: new Date(now + lifetime - lifetime / 8).toISOString(),
  };
}

/** A source whose behaviour the test switches: answering, failing, or held open until released. */
function source() {
  let serial = 0;
  let failing = false;
  const calls: number[] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const fetch = vi.fn(async () => {
    calls.push(Date.now());
    if (hold) await new Promise<void>((resolve) => (release = resolve));
    if (failing) throw new Error('broker down');
    serial += 1;
    return answer(serial);
  });
  return {
    fetch,
    calls,
    fail: (on: boolean) => (failing = on),
    holdNext: () => (hold = true),
    release: () => {
      hold = false;
      release?.();
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers({ now: START });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('refreshingCredentials', () => {
  it('shares one fetch between concurrent gets (single flight), also at refreshAfter', async () => {
    const src = source();
    const creds = refreshingCredentials(src.fetch);
    src.holdNext();
    const first = Promise.all([creds.get(), creds.get(), creds.get()]);
    await vi.advanceTimersByTimeAsync(0);
    src.release();
    expect((await first).map((held) => held.data.serial)).toEqual([1, 1, 1]);
    expect(src.fetch).toHaveBeenCalledTimes(1);

    vi.setSystemTime(START + LIFETIME - LIFETIME / 8);
    src.holdNext();
    const second = Promise.all([creds.get(), creds.get()]);
    await vi.advanceTimersByTimeAsync(0);
    src.release();
    expect((await second).map((held) => held.data.serial)).toEqual([2, 2]);
    expect(src.fetch).toHaveBeenCalledTimes(2);
  });

  it('serves the held answer until refreshAfter, then fetches', async () => {
    const src = source();
    const creds = refreshingCredentials(src.fetch);
    const held = await creds.get();
    expect(held).toEqual({ data: { serial: 1 }, expiresAt: START + LIFETIME, refreshAfter: START + LIFETIME - LIFETIME / 8 });
    vi.setSystemTime(held.refreshAfter - 1);
    expect((await creds.get()).data.serial).toBe(1);
    expect(src.fetch).toHaveBeenCalledTimes(1);
    vi.setSystemTime(held.refreshAfter);
    expect((await creds.get()).data.serial).toBe(2);
    expect(src.fetch).toHaveBeenCalledTimes(2);
  });

  it('start() refreshes ahead at refreshAfter on an unref’d timer, and stop() ends it', async () => {
    const src = source();
    const creds = refreshingCredentials(src.fetch);
    await creds.get();
    creds.start();
    await vi.advanceTimersByTimeAsync(LIFETIME - LIFETIME / 8 - 1);
    expect(src.fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(src.calls).toEqual([START, START + LIFETIME - LIFETIME / 8]);
    expect(creds.last?.data.serial).toBe(2);
    // Three more lifetimes: one fetch per refreshAfter, each before the held credentials expire.
    await vi.advanceTimersByTimeAsync(3 * (LIFETIME - LIFETIME / 8));
    expect(src.fetch).toHaveBeenCalledTimes(5);
    creds.stop();
    await vi.advanceTimersByTimeAsync(5 * LIFETIME);
    expect(src.fetch).toHaveBeenCalledTimes(5);
  });

  it('keeps serving the held credentials while refreshes fail, then rejects with the last error before they expire', async () => {
    const src = source();
    const creds = refreshingCredentials(src.fetch);
    const held = await creds.get();
    src.fail(true);
    const servedUntil = held.expiresAt - defaultExpiryMarginMs(LIFETIME);
    vi.setSystemTime(held.refreshAfter);
    expect(await creds.get()).toBe(held);
    vi.setSystemTime(servedUntil - 1);
    expect(await creds.get()).toBe(held);
    vi.setSystemTime(servedUntil);
    await expect(creds.get()).rejects.toThrow('broker down');
    // Never expired credentials: not at expiry, not after it.
    vi.setSystemTime(held.expiresAt + 1);
    await expect(creds.get()).rejects.toThrow('broker down');
    // The source back: fresh credentials at once (once the backoff since the last failure has passed).
    src.fail(false);
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    const fresh = await creds.get();
    expect(fresh.data.serial).toBe(2);
    expect(fresh.expiresAt).toBeGreaterThan(Date.now());
  });

  it('does not call the source on every get while it fails: only after each backoff', async () => {
    const src = source();
    const creds = refreshingCredentials(src.fetch, { backoff: { firstMs: 1_000, maxMs: 8_000 } });
    const held = await creds.get();
    src.fail(true);
    vi.setSystemTime(held.refreshAfter);
    for (let i = 0; i < 20; i++) expect(await creds.get()).toBe(held);
    expect(src.fetch).toHaveBeenCalledTimes(2);
  });

  it('retries in the background with a backoff that doubles and is capped', async () => {
    const src = source();
    const backoff = { firstMs: 1_000, maxMs: 16_000 };
    const creds = refreshingCredentials(src.fetch, { backoff });
    await creds.get();
    src.fail(true);
    creds.start();
    await vi.advanceTimersByTimeAsync(LIFETIME - LIFETIME / 8);
    expect(src.fetch).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(3 * MINUTE);
    const gaps = src.calls.slice(2).map((at, i) => at - src.calls[i + 1]!);
    expect(gaps.length).toBeGreaterThanOrEqual(10);
    // Between half and all of 1, 2, 4, 8, 16, 16, ... seconds.
    gaps.forEach((gap, i) => {
      const ceiling = Math.min(backoff.maxMs, backoff.firstMs * 2 ** i);
      expect(gap).toBeGreaterThanOrEqual(ceiling / 2);
      expect(gap).toBeLessThanOrEqual(ceiling);
    });
    // Back to normal: the next success re-arms at its own refreshAfter.
    src.fail(false);
    await vi.advanceTimersByTimeAsync(backoff.maxMs);
    const count = src.fetch.mock.calls.length;
    expect(creds.last?.data.serial).toBe(2);
    await vi.advanceTimersByTimeAsync(LIFETIME - LIFETIME / 8 - backoff.maxMs);
    expect(src.fetch.mock.calls.length).toBe(count);
    creds.stop();
  });

  it('backoffDelay doubles from firstMs and stops at maxMs, jittered within the upper half', () => {
    const b = { firstMs: 500, maxMs: 4_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, b, () => 0))).toEqual([250, 500, 1_000, 2_000, 2_000, 2_000]);
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, b, () => 0.999_999))).toEqual(
      [500, 1_000, 2_000, 4_000, 4_000, 4_000].map((c) => expect.closeTo(c, 0)),
    );
  });

  it('refuses an answer without expiresAt or refreshAfter, and one that expires too soon', async () => {
    const noTimes = refreshingCredentials(async () => ({ data: 1, expiresAt: new Date(Date.now() + LIFETIME).toISOString() }));
    await expect(noTimes.get()).rejects.toThrow('without expiresAt and refreshAfter');
    const expired = refreshingCredentials(async () => answer(1, 2_000));
    await expect(expired.get()).rejects.toThrow('expire too soon');
    expect(expired.last).toBeUndefined();
  });

  it('uses the given margin and clock', async () => {
    let clock = START;
    const src = source();
    const creds = refreshingCredentials(src.fetch, { expiryMarginMs: () => MINUTE, now: () => clock });
    const held = await creds.get();
    src.fail(true);
    clock = held.expiresAt - MINUTE - 1;
    expect(await creds.get()).toBe(held);
    clock = held.expiresAt - MINUTE;
    await expect(creds.get()).rejects.toThrow('broker down');
  });
});
