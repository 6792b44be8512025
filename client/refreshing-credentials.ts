/**
 * Credentials held and refreshed by the broker's `refreshAfter`: one answer held, one fetch at a
 * time, the held answer served while a refresh fails until shortly before it expires, and never
 * an expired one. `start()` refreshes ahead in the background, with exponential backoff and jitter
 * while the source fails. The ali-oss and COS helpers, and the credentials agent, build on it.
 * @module
 */

/** Credentials held, with the answer's times as epoch milliseconds. */
export interface Held<Data> {
  data: Data;
  /** When the credentials expire. */
  expiresAt: number;
  /** When to ask again (never later than the last moment the credentials are served). */
  refreshAfter: number;
}

/** What a source answers: a broker answer, or anything shaped like one. */
export interface SourceAnswer<Data> {
  data: Data;
  expiresAt?: string;
  refreshAfter?: string;
}

/** Tuning; the defaults suit the broker's answers. */
export interface RefreshOptions {
  /**
   * How long before `expiresAt` held credentials stop being served, given the lifetime the client
   * saw (from receipt to `expiresAt`). Default: a sixteenth of it, at least 5 s: half of the
   * eighth the broker leaves between `refreshAfter` and `expiresAt`, so retries have the other half.
   */
  expiryMarginMs?: (lifetimeMs: number) => number;
  /** Background retries: the first waits about `firstMs`, each next one twice as long, up to `maxMs` (default 1 s to 60 s). */
  backoff?: { firstMs: number; maxMs: number };
  /** The clock (default `Date.now`). */
  now?: () => number;
}

/** Credentials that refresh themselves by `refreshAfter`. */
export interface RefreshingCredentials<Data> {
  /** Live credentials: the held ones until `refreshAfter`, then fresh ones (or the held ones while still served). */
  get(): Promise<Held<Data>>;
  /** Refreshes ahead in the background (an unref'd timer at `refreshAfter`, backoff on failure). */
  start(): void;
  /** Stops the background refresh. */
  stop(): void;
  /** The credentials held, if any (possibly past their serving time: check before use, or call `get`). */
  readonly last?: Held<Data>;
}

/** Default margin: a sixteenth of the lifetime, at least 5 s. */
export const defaultExpiryMarginMs = (lifetimeMs: number): number => Math.max(5_000, lifetimeMs / 16);

const DEFAULT_BACKOFF = { firstMs: 1_000, maxMs: 60_000 };
// setTimeout's longest delay (about 24.8 days); a later refresh is re-armed when it fires.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The n-th consecutive failure's wait (n from 1): between half and all of min(maxMs, firstMs·2^(n-1)),
 * so it doubles and is capped, and clients that failed together spread apart.
 */
export function backoffDelay(failures: number, backoff: { firstMs: number; maxMs: number }, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.firstMs * 2 ** Math.max(0, failures - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Holds the answers of `fetch` and refreshes them by their `refreshAfter`. */
export function refreshingCredentials<Data>(
  fetch: () => Promise<SourceAnswer<Data>>,
  options: RefreshOptions = {},
): RefreshingCredentials<Data> {
  const now = options.now ?? (() => Date.now());
  const margin = options.expiryMarginMs ?? defaultExpiryMarginMs;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  if (!(backoff.firstMs > 0 && backoff.maxMs >= backoff.firstMs)) throw new Error('backoff needs 0 < firstMs <= maxMs');

  let held: Held<Data> | undefined;
  let servedUntil = 0; // held is served before this instant
  let inflight: Promise<Held<Data>> | undefined;
  let lastError: unknown;
  let failures = 0;
  let nextAttemptAt = 0;
  let started = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const usable = () => held !== undefined && now() < servedUntil;

  function arm(at: number): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!started) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        if (now() < at) return arm(at); // a delay longer than setTimeout allows
        refresh().catch(() => {}); // recorded in lastError; get() reports it when nothing is left to serve
      },
      Math.min(MAX_TIMER_MS, Math.max(0, at - now())),
    );
    timer.unref?.();
  }

  function accept(answer: SourceAnswer<Data>): Held<Data> {
    const receivedAt = now();
    const expiresAt = answer.expiresAt === undefined ? Number.NaN : Date.parse(answer.expiresAt);
    const refreshAfter = answer.refreshAfter === undefined ? Number.NaN : Date.parse(answer.refreshAfter);
    if (Number.isNaN(expiresAt) || Number.isNaN(refreshAfter)) {
      throw new Error('the credentials source answered without expiresAt and refreshAfter: it cannot be refreshed by them');
    }
    const until = expiresAt - margin(expiresAt - receivedAt);
    if (until <= receivedAt)
      throw new Error('the credentials source answered with credentials that expire too soon to use (check the clock)');
    servedUntil = until;
    return { data: answer.data, expiresAt, refreshAfter: Math.min(refreshAfter, until) };
  }

  function refresh(): Promise<Held<Data>> {
    if (inflight) return inflight;
    const attempt = (async () => {
      try {
        const fresh = accept(await fetch());
        held = fresh;
        failures = 0;
        nextAttemptAt = 0;
        arm(fresh.refreshAfter);
        return fresh;
      } catch (error) {
        lastError = error;
        failures += 1;
        nextAttemptAt = now() + backoffDelay(failures, backoff);
        arm(nextAttemptAt);
        throw error;
      }
    })();
    inflight = attempt;
    attempt.then(
      () => {
        inflight = undefined;
      },
      () => {
        inflight = undefined;
      },
    );
    return attempt;
  }

  // A failed refresh still resolves with the held credentials while they are served.
  function orHeld(attempt: Promise<Held<Data>>): Promise<Held<Data>> {
    return attempt.catch((error) => {
      if (held && usable()) return held;
      throw error;
    });
  }

  return {
    async get() {
      if (held && now() < held.refreshAfter) return held;
      if (inflight) return orHeld(inflight);
      // Failing: between backoff attempts, serve what is held, or the last error; no call per get.
      if (now() < nextAttemptAt) {
        if (held && usable()) return held;
        throw lastError;
      }
      return orHeld(refresh());
    },
    start() {
      if (started) return;
      started = true;
      if (held && !inflight && failures === 0) arm(held.refreshAfter);
      else if (!inflight) arm(nextAttemptAt);
    },
    stop() {
      started = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
    get last() {
      return held;
    },
  };
}
