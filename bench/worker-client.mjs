// The runner's side of bench/worker.mjs: fork a long-lived child that imports one bundle, and
// call it over IPC (`init`, `batch`, …). Used by bench/run.mjs and bench/what-if.mjs.
import { fork } from 'node:child_process';

const workerPath = new URL('./worker.mjs', import.meta.url).pathname;

/** Starts a worker on `bundle` (`events`: the bundled sim/lambda-events.ts) against the simulator; resolves to `{ child, call }`. */
export async function startWorker({ bundle, events, env, simUrl, keys, execArgv = [], label = 'worker' }) {
  const child = fork(workerPath, [], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv });
  child.stdout.resume(); // the function's log lines: drained, as Lambda's runtime does
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  let next = 0;
  const pending = new Map();
  child.on('message', (message) => {
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    if (message.ok) waiting.resolve(message.value);
    else waiting.reject(new Error(`${label}: ${message.error}`));
  });
  child.on('exit', (code) => {
    for (const waiting of pending.values()) waiting.reject(new Error(`${label} exited ${code}: ${stderr}`));
  });
  await new Promise((resolve) => child.once('message', resolve));
  const call = (type, args = {}) =>
    new Promise((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve, reject });
      child.send({ id, type, ...args });
    });
  await call('init', { bundle, eventsModule: events, simUrl, keys });
  return { child, call };
}
