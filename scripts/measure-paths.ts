// What a request costs on each path of the token cache (memory hit, table hit, vendor
// call), and how many vendor calls a burst makes. Everything runs on loopback against
// the vendor simulator, the fake SSM and the local token table.   npx tsx scripts/measure-paths.ts [iterations=200]
import { performance } from 'node:perf_hooks';
import { handler as cams } from '../functions/cams-get-upload-authorization.js';
import { handler as ufile } from '../functions/ufile-describe-token.js';
import { ufileDescribeToken } from '../lib/operations/ufile-describe-token.js';
import { clearTokenMemory } from '../lib/runtime/credentials.js';
import { bodyKey } from '../lib/state/body-key.js';
import { tokenKey } from '../lib/state/token-lease.js';
import { httpApiEvent, lambdaContext } from '../sim/lambda-events.js';
import { keyParametersUnder, startLocalWorld } from '../sim/local-world.js';
import { tableItems } from '../sim/table-items.js';

const iterations = Number(process.argv[2] ?? 200);
process.env.LOG_LEVEL = 'silent';
const broker = await startLocalWorld({
  keyParameters: keyParametersUnder('/cloud-token-broker/measure/keys'),
  ucloudProjectId: 'org-measure',
  tableName: 'cloud-token-broker-measure-tokens',
});
Object.assign(process.env, broker.env);
const UFILE = '/v1/ucloud/ufile/tokens';
const body = { region: 'cn-bj' };

async function timed(prepare: () => void | Promise<void>) {
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    await prepare();
    const started = performance.now();
    const answer = (await ufile(httpApiEvent(UFILE, body), lambdaContext())) as { statusCode: number };
    samples.push(performance.now() - started);
    if (answer.statusCode !== 200) throw new Error(`status ${answer.statusCode}`);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!.toFixed(2);
  return { p50: at(0.5), p99: at(0.99) };
}

// Warm the keys and the SDK's connections once, so every path is measured warm.
await ufile(httpApiEvent(UFILE, body), lambdaContext());
const items = tableItems(broker.table!);
const tokenItem = tokenKey(ufileDescribeToken, bodyKey(body));

const rows: [string, { p50: string; p99: string }, number][] = [];
broker.sim.reset();
rows.push([
  'vendor call (nothing cached)',
  await timed(async () => {
    clearTokenMemory();
    await items.delete(tokenItem);
  }),
  broker.sim.calls.length,
]);
await ufile({ rotate: [body] }, lambdaContext());
broker.sim.reset();
rows.push(['table hit (cold memory, rotated token in the table)', await timed(() => clearTokenMemory()), broker.sim.calls.length]);
broker.sim.reset();
rows.push(['memory hit (warm function)', await timed(() => undefined), broker.sim.calls.length]);
await items.delete(tokenItem);

console.log(`per-request cost over ${iterations} requests each, one warm function (ms)`);
console.log('path                                                  p50      p99   vendor calls');
for (const [name, { p50, p99 }, calls] of rows)
  console.log(`${name.padEnd(52)} ${p50.padStart(6)}  ${p99.padStart(7)}   ${String(calls).padStart(6)}`);

// Bursts: concurrent requests in one warm function, nothing cached beforehand.
for (const [requests, bodies] of [
  [200, 1],
  [200, 10],
] as const) {
  clearTokenMemory();
  await items.clear();
  broker.sim.reset();
  const started = performance.now();
  const answers = await Promise.all(
    Array.from(
      { length: requests },
      (_, i) =>
        cams(httpApiEvent('/v1/aliyun/cams/upload-authorization', { custSpaceId: `burst-${i % bodies}` }), lambdaContext()) as Promise<{
          statusCode: number;
        }>,
    ),
  );
  const ok = answers.filter((a) => a.statusCode === 200).length;
  console.log(
    `burst: ${requests} concurrent CAMS requests for ${bodies} bod${bodies === 1 ? 'y' : 'ies'} → ${broker.sim.calls.length} vendor calls, ${ok} answered 200, ${(performance.now() - started).toFixed(0)} ms`,
  );
}
items.close();
await broker.close();
