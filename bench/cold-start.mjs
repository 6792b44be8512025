// What a cold-start measurement runs: a fresh `node` that imports one bundle and answers one
// API Gateway event (bench/run.mjs and bench/what-if.mjs both time it this way).
import { spawn } from 'node:child_process';

const elapsedMs = (since) => Number(process.hrtime.bigint() - since) / 1e6;

/**
 * The code a cold child runs: import the bundle, answer `event` (built by the runner with
 * sim/lambda-events.ts's httpApiEvent, the builder the tests use), report on fd 3, exit. The
 * child builds only its Lambda context, inline: importing anything more would be timed too.
 */
export function coldCode(bundlePath, event) {
  return `const t0 = performance.now();
const startUs = Number(process.hrtime.bigint() / 1000n);
const { handler } = await import(${JSON.stringify(bundlePath)});
const t1 = performance.now();
const importedUs = Number(process.hrtime.bigint() / 1000n);
const deadline = Date.now() + 10000;
const result = await handler(${JSON.stringify(event)}, { awsRequestId: 'cold-${process.pid}', functionName: 'bench', getRemainingTimeInMillis: () => deadline - Date.now() });
const t2 = performance.now();
(await import('node:fs')).writeSync(3, JSON.stringify({ status: result.statusCode, body: result.statusCode === 200 ? undefined : result.body, bootMs: t0, importMs: t1 - t0, invokeMs: t2 - t1, pid: process.pid, startUs, importedUs }) + '\\n');
process.exit(0);`;
}

/** Spawns `node args`; resolves with the time to the first line on fd 3 (or to exit when there is none). */
export function timeProcess(args, env) {
  return new Promise((resolve, reject) => {
    const since = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let answerMs;
    let report = '';
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdio[3].on('data', (chunk) => {
      answerMs ??= elapsedMs(since);
      report += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const exitMs = elapsedMs(since);
      if (code !== 0) return reject(new Error(`node ${args.slice(0, 2).join(' ')} exited ${code}: ${stderr}`));
      resolve({ ms: answerMs ?? exitMs, report: report ? JSON.parse(report) : undefined });
    });
  });
}
