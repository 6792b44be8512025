/**
 * One warm instance in a process of its own, for measuring its heap: it answers `count`
 * requests for distinct BPStudio bodies (after `warmup` others), `concurrency` at a time,
 * and reports over IPC the heap in use, after full collections, before and after.
 * Run with `node --expose-gc --import tsx`, the environment pointing at the simulator.
 */
import { handler } from '../../functions/bpstudio-get-token.js';
import { tokensInMemory } from '../../lib/runtime/credentials.js';
import { httpApiEvent, lambdaContext } from '../../sim/lambda-events.js';
import { invokeHttp } from './invoke-http.js';

const [count, warmup, concurrency] = process.argv.slice(2).map(Number) as [number, number, number];
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

let next = 0;
let failed = 0;
async function run(label: string, total: number): Promise<void> {
  const end = next + total;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < end) {
        const id = next++;
        const answer = await invokeHttp(
          handler,
          httpApiEvent('/v1/aliyun/bpstudio/token', { resourceGroupId: `${label}-${id}` }),
          lambdaContext(),
        );
        if (answer.statusCode !== 200) failed++;
      }
    }),
  );
}

async function settledHeap(): Promise<number> {
  // Several rounds: a collection can free what finalisers of the previous one released.
  for (let i = 0; i < 4; i++) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

await run('warmup', warmup);
const before = await settledHeap();
const started = Date.now();
await run('rg', count);
const ms = Date.now() - started;
const after = await settledHeap();
process.send?.({ before, after, tokens: tokensInMemory(), failed, ms });
process.disconnect?.();
