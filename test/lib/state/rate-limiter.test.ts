import { describe, expect, it } from 'vitest';
import { createRateLimiter, RateLimitWaitTooLong } from '../../../lib/state/rate-limiter.js';

describe('createRateLimiter', () => {
  it('never lets more than `limit` calls start in any one-second window', async () => {
    const limiter = createRateLimiter(5, 200); // a 200 ms window keeps the test short
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 17 }, async () => {
        await limiter.acquire(Date.now() + 10_000);
        starts.push(Date.now());
      }),
    );
    starts.sort((a, b) => a - b);
    for (let i = 5; i < starts.length; i++) {
      // Timers may fire a millisecond early; 195 keeps the check honest without flaking.
      expect(starts[i]! - starts[i - 5]!).toBeGreaterThanOrEqual(195);
    }
    expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual(3 * 195);
  });

  it('refuses a wait that would end after the deadline, without taking a slot', async () => {
    let now = 0;
    const limiter = createRateLimiter(1, 1_000, () => now);
    await limiter.acquire(10);
    await expect(limiter.acquire(500)).rejects.toBeInstanceOf(RateLimitWaitTooLong);
    now = 1_000;
    await expect(limiter.acquire(1_000)).resolves.toBeUndefined();
  });

  it('rejects a limit that is not a positive integer', () => {
    expect(() => createRateLimiter(0)).toThrow(TypeError);
  });
});
