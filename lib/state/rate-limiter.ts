import { sleep } from '../core/backoff.js';

/**
 * A sliding-window limiter: at most `limit` starts in any `windowMs`. Unlike a token
 * bucket it never lets a burst at a window edge double the rate, which matters for
 * CAMS's hard 5 requests per second per account.
 */
export interface RateLimiter {
  /** Resolves when a call may start; rejects with `tooLate` when that would be after `notAfter` (epoch ms). */
  acquire(notAfter: number): Promise<void>;
}

/** The next free start is past the caller's deadline; `waitMs` says how far off it is. */
export class RateLimitWaitTooLong extends Error {
  constructor(readonly waitMs: number) {
    super('rate limit wait exceeds the deadline');
  }
}

/** A limiter of at most `limit` starts per `windowMs`, for one instance. */
export function createRateLimiter(limit: number, windowMs = 1_000, now: () => number = Date.now): RateLimiter {
  if (!Number.isInteger(limit) || limit < 1) throw new TypeError('limit must be a positive integer');
  // Start times of the last `limit` granted calls, including ones granted for the future.
  const starts: number[] = [];
  return {
    async acquire(notAfter) {
      const current = now();
      const oldest = starts.length < limit ? -Infinity : starts[starts.length - limit]!;
      const startAt = Math.max(current, oldest + windowMs);
      if (startAt > notAfter) throw new RateLimitWaitTooLong(startAt - current);
      starts.push(startAt);
      if (starts.length > limit) starts.splice(0, starts.length - limit);
      if (startAt > current) await sleep(startAt - current);
    },
  };
}
