import { fork } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { useBrokerEnv } from '../support/broker-env.js';

/**
 * The in-memory token map is bounded (TOKEN_MEMORY_ENTRIES, default 1000): 100,000 distinct
 * bodies through one warm instance must not grow its heap by more than 20 MB (unbounded, they
 * grew it by about 100 MB). The instance runs in a child process (`--expose-gc`, its own heap);
 * the simulator stays here. Memory only: the table's path keeps nothing per body in memory
 * but the same bounded map, and 300,000 table calls to dynalite would take minutes.
 * Measured here: unbounded, 20,000 bodies grew the heap by 18 MB; bounded, 100,000 by < 1 MB.
 */
const broker = useBrokerEnv({ table: false }, { resetEach: false });

interface HeapReport {
  before: number;
  after: number;
  tokens: number;
  failed: number;
  ms: number;
}

function measure(count: number, env: Record<string, string> = {}): Promise<HeapReport> {
  const child = fork(new URL('../support/heap-child.ts', import.meta.url).pathname, [String(count), '5000', '32'], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  // The simulator remembers every call and nonce: forget them as the run goes, so only the child's heap grows.
  const forget = setInterval(() => broker.sim.reset(), 1_000);
  return new Promise<HeapReport>((resolve, reject) => {
    child.once('message', (report: HeapReport) => resolve(report));
    child.once('exit', (code) => reject(new Error(`the instance exited (${code}) without a report`)));
  }).finally(() => {
    clearInterval(forget);
    child.kill();
  });
}

describe('memory', () => {
  it('100,000 distinct bodies through one instance grow its heap by less than 20 MB', async () => {
    const report = await measure(100_000);
    expect(report.failed).toBe(0);
    expect(report.tokens).toBe(1000);
    const growthMb = (report.after - report.before) / 2 ** 20;
    expect(growthMb).toBeLessThan(20);
  }, 300_000);
});
