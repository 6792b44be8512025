import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, fullJitterDelay, retryDelay, sleep } from '../../../lib/core/backoff.js';

describe('fullJitterDelay', () => {
  const policy = { maxAttempts: 5, baseMs: 100, capMs: 1_000 };

  it('grows the ceiling exponentially and caps it', () => {
    // random() just below 1 shows the ceiling of each retry.
    const top = () => 0.999_999;
    expect([0, 1, 2, 3, 4].map((retry) => fullJitterDelay(retry, policy, top))).toEqual([99, 199, 399, 799, 999]);
  });

  it('spreads delays over the whole range [0, ceiling)', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 16_807) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const delays = Array.from({ length: 2_000 }, () => fullJitterDelay(3, policy, random));
    expect(Math.min(...delays)).toBeLessThan(50);
    expect(Math.max(...delays)).toBeGreaterThan(750);
    expect(delays.every((d) => d >= 0 && d < 800)).toBe(true);
  });
});

describe('retryDelay', () => {
  it('never waits less than the vendor hint', () => {
    expect(retryDelay(0, DEFAULT_BACKOFF, 1_500, () => 0.5)).toBe(1_500);
    expect(retryDelay(0, DEFAULT_BACKOFF, undefined, () => 0.5)).toBe(50);
  });
});

describe('sleep', () => {
  it('stops early when its signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('stop')), 10);
    await expect(sleep(5_000, controller.signal)).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
