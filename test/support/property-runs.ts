/**
 * How many cases a fast-check property tries, and from which seed.
 *
 * `npm test` runs every property in a short form from a fixed seed, so CI is fast and a
 * failure reproduces; fast-check prints the seed and the shrunk counterexample when one
 * fails. `npm run test:properties` sets PROPERTY_RUNS for a fuller run; PROPERTY_SEED
 * replays another seed (an integer), or `random` picks one (printed on failure).
 */
import type * as fc from 'fast-check';

/** The seed every property starts from unless PROPERTY_SEED says otherwise. */
export const DEFAULT_SEED = 20_260_501;

function positiveInteger(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not ${JSON.stringify(text)}`);
  return value;
}

function seed(): number {
  const text = process.env.PROPERTY_SEED;
  if (text === undefined || text === '') return DEFAULT_SEED;
  if (text === 'random') return Math.floor(Math.random() * 2 ** 31);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`PROPERTY_SEED must be an integer or "random", not ${JSON.stringify(text)}`);
  return value;
}

/** True when a fuller run was asked for (PROPERTY_RUNS is set). */
export const fullRun = positiveInteger('PROPERTY_RUNS') !== undefined;

/**
 * fast-check parameters: `short` runs by default; with PROPERTY_RUNS=N, N runs scaled by
 * `share` (a property whose every run is an HTTP round trip takes a share of N), and never
 * fewer than `short`.
 */
export function propertyRuns<T = unknown>(short: number, share = 1): fc.Parameters<T> {
  const full = positiveInteger('PROPERTY_RUNS');
  const numRuns = full === undefined ? short : Math.max(short, Math.round(full * share));
  return { numRuns, seed: seed() };
}

/** A vitest timeout for one property test: the default for the short form, generous for a full run. */
export const PROPERTY_TIMEOUT_MS = fullRun ? 15 * 60_000 : 20_000;
