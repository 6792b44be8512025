// The one build step of bench/run.mjs and bench/what-if.mjs: every bundle through scripts/build.mjs's
// buildFunction (the options every Lambda bundle is built with, plus a variant's extra options),
// the test doubles (bench/support.ts) and the API Gateway event and Lambda context builders the
// tests use (sim/lambda-events.ts, as events.mjs) bundled for plain Node.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { buildFunction } from '../scripts/build.mjs';

const root = new URL('..', import.meta.url).pathname;

/** The entry of a function: ours (`functions/`) or the baseline's (`bench/baseline/`). */
export const entryOf = (side, name) =>
  side === 'baseline' ? join(root, 'bench', 'baseline', `${name}.ts`) : join(root, 'functions', `${name}.ts`);

const forNode = { bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning' };

/**
 * Builds `bundles` (`{ key, side, name, extra? }`) into `outDir/<key>/` (index.mjs, chunks/, meta.json),
 * the test doubles into `outDir/support.mjs` and the event builders into `outDir/events.mjs`.
 * Resolves to `{ bundles: { [key]: buildFunction's answer }, support, events }`: `outfile` the entry,
 * `bytes` the whole bundle, `coldBytes` what a cold start loads, `nonAwsBytes` of the whole.
 */
export async function buildBench(outDir, bundles) {
  const events = join(outDir, 'events.mjs');
  const [built] = await Promise.all([
    Promise.all(bundles.map((b) => buildFunction(b.name, join(outDir, b.key), entryOf(b.side, b.name), b.extra))),
    build({
      ...forNode,
      entryPoints: [join(root, 'bench', 'support.ts')],
      outfile: join(outDir, 'support.mjs'),
      // sim/local-table.ts finds its server script next to itself.
      define: { 'import.meta.url': JSON.stringify(pathToFileURL(join(root, 'sim', 'local-table.ts')).href) },
    }),
    build({ ...forNode, entryPoints: [join(root, 'sim', 'lambda-events.ts')], outfile: events }),
  ]);
  return { bundles: Object.fromEntries(bundles.map((b, i) => [b.key, built[i]])), support: join(outDir, 'support.mjs'), events };
}
