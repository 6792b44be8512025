// The runner's side of bench/worker.mjs: fork a long-lived child that imports one bundle, and
// call it over IPC (`init`, `batch`, …). Used by bench/run.mjs and bench/what-if.mjs.
import { forkWorker } from './ipc.mjs';

const workerPath = new URL('./worker.mjs', import.meta.url).pathname;

/** Starts a worker on `bundle` (`events`: the bundled sim/lambda-events.ts) against the simulator; resolves to `{ child, call }`. */
export async function startWorker({ bundle, events, env, simUrl, keys, execArgv = [], label = 'worker' }) {
  const { child, call } = await forkWorker(workerPath, { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv }, label);
  child.stdout.resume(); // the function's log lines: drained, as Lambda's runtime does
  await call('init', { bundle, eventsModule: events, simUrl, keys });
  return { child, call };
}
