/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff
 * and Jitter"): the n-th retry waits a uniformly random time in [0, min(cap, base·2^n)),
 * which spreads retrying clients apart instead of having them collide again.
 */
export interface BackoffPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseMs: number;
  capMs: number;
}

/** Four attempts in all, 100 ms doubling up to 2 s: what every vendor call uses unless told otherwise. */
export const DEFAULT_BACKOFF: BackoffPolicy = { maxAttempts: 4, baseMs: 100, capMs: 2_000 };

/** Delay before retry number `retry` (0 for the first retry). */
export function fullJitterDelay(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/**
 * The wait before the next attempt: the jittered delay, but never shorter than the
 * vendor's own hint, since retrying earlier is certain to be throttled again.
 */
export function retryDelay(retry: number, policy: BackoffPolicy, hintMs?: number, random?: () => number): number {
  return Math.max(fullJitterDelay(retry, policy, random), hintMs ?? 0);
}

/** Resolves after `ms`; rejects with the signal's reason as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
