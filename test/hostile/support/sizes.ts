/**
 * How big the hostile suites run. `npm test` runs the short form; `npm run test:hostile`
 * (scripts/test-hostile.ts) sets HOSTILE=full for the full one. Any size can be set on its own
 * with its variable, in either form.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUT_DIR } from './host.js';

export const FULL = process.env.HOSTILE === 'full';

function size(variable: string, short: number, full: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return FULL ? full : short;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${variable} must be a positive number, not ${raw}`);
  return value;
}

export const SIZES = {
  /** Suite 1: requests across the four routes, and connections at once. */
  loadRequests: size('HOSTILE_LOAD_REQUESTS', 1_000, 50_000),
  loadConcurrency: size('HOSTILE_LOAD_CONCURRENCY', 24, 100),
  /** Most tokens a function keeps in memory (TOKEN_MEMORY_ENTRIES) during the load. */
  loadTokenMemory: size('HOSTILE_TOKEN_MEMORY', 10, 100),
  /** Most heap growth allowed between the start and the end of the load, in MiB. */
  loadHeapGrowthMiB: size('HOSTILE_HEAP_GROWTH_MIB', 8, 8),
  /** Suite 2: how long each dependency stays down and how long recovery is watched; connections at once. */
  outageMs: size('HOSTILE_OUTAGE_MS', 1_500, 5_000),
  recoveryMs: size('HOSTILE_RECOVERY_MS', 1_500, 5_000),
  faultConcurrency: size('HOSTILE_FAULT_CONCURRENCY', 8, 32),
  /** Suite 3: provisioning messages, SQS batch size and invocations at once. */
  messages: size('HOSTILE_MESSAGES', 150, 1_000),
  batchSize: size('HOSTILE_BATCH_SIZE', 5, 5),
  pollers: size('HOSTILE_POLLERS', 4, 2),
};

/** Writes a suite's figures to bench/.out/hostile/<name>.json (<name>.short.json for the short form; git ignores bench/.out). */
export function writeResult(name: string, value: unknown): string {
  mkdirSync(OUT_DIR, { recursive: true });
  const path = join(OUT_DIR, `${name}${FULL ? '' : '.short'}.json`);
  writeFileSync(
    path,
    `${JSON.stringify({ form: FULL ? 'full' : 'short', at: new Date().toISOString(), ...(value as object) }, null, 2)}\n`,
  );
  return path;
}

/** Writes the functions' log lines next to the figures (<name>.log), to look into a failed run. */
export function writeLines(name: string, lines: readonly string[]): string {
  mkdirSync(OUT_DIR, { recursive: true });
  const path = join(OUT_DIR, `${name}${FULL ? '' : '.short'}.log`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}
