#!/usr/bin/env node
// What does a build variant of ours buy? Builds ours each way and measures each against the
// baseline, with the same doubles, children, event builders and alternation as bench/run.mjs:
//   as built today                    scripts/build.mjs's options (both sides)
//   the SDK's default credential chain  ours without the lambda-credentials plugin, so its bundle
//                                     carries @aws-sdk/credential-provider-node and what it brings
//   zod without its JIT               ours with `z.config({ jitless: true })` run before any schema
//                                     is built: zod then never compiles an object parser with
//                                     `new Function` on a schema's first parse
//   one file, no code splitting       ours as one index.mjs (esbuild inlines every `import()`: the
//                                     KMS client, IMS's SQS client), as built before the split
// Not part of `npm run bench`; nothing in lib/ or scripts/ is changed.
//   node bench/what-if.mjs [rounds=20]
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBench } from './build.mjs';
import { coldCode, timeProcess } from './cold-start.mjs';
import { median, summary } from './stats.mjs';
import { startWorker } from './worker-client.mjs';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'bench', '.out', 'what-if');
const rounds = Number(process.argv[2] ?? 20);
const KINDS = { ims: 'ims-provision-external-application', cams: 'cams-get-upload-authorization' };
const ROUTES = { ims: '/v1/aliyun/ims/external-applications', cams: '/v1/aliyun/cams/upload-authorization' };
const VARIANTS = {
  'ours, as built today': {},
  "ours, the SDK's default credential chain": { plugins: [] },
  'ours, one file (no code splitting)': { splitting: false },
};
const log = (message) => process.stderr.write(`[what-if] ${message}\n`);

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const jitlessInject = join(outDir, 'zod-jitless.mjs');
writeFileSync(jitlessInject, "import { config } from 'zod/mini';\nconfig({ jitless: true });\n");
VARIANTS['ours, zod without its JIT'] = { inject: [jitlessInject] };
log('building');
const list = [];
for (const [kind, name] of Object.entries(KINDS)) {
  for (const [i, [variant, extra]] of Object.entries(VARIANTS).entries()) {
    list.push({ key: `${kind}/${i}`, variant, kind, side: 'ours', name, extra });
  }
  list.push({ key: `${kind}/baseline`, variant: 'baseline', kind, side: 'baseline', name });
}
const built = await buildBench(outDir, list);
const builds = {};
for (const b of list) {
  builds[b.variant] ??= {};
  builds[b.variant][b.kind] = built.bundles[b.key];
}

const { startVendorSimulator, startFakeSsm, SIMULATOR_DEFAULT_KEYS } = await import(built.support);
const { httpApiEvent } = await import(built.events);
const sim = await startVendorSimulator();
const ssm = await startFakeSsm();
ssm.put('/cloud-token-broker/bench/keys/aliyun', SIMULATOR_DEFAULT_KEYS.aliyun);
const env = {
  PATH: process.env.PATH ?? '',
  TZ: 'UTC',
  AWS_ENDPOINT_URL_SSM: ssm.url,
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'fake-ssm-access-key',
  AWS_SECRET_ACCESS_KEY: 'fake-ssm-secret-key',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  ALIYUN_KEYS_PARAMETER: '/cloud-token-broker/bench/keys/aliyun',
  ALIYUN_CAMS_ENDPOINT: sim.url,
  ALIYUN_IMS_ENDPOINT: sim.url,
  LOG_LEVEL: 'info',
};

async function cold(bundle, kind, n) {
  const body = kind === 'ims' ? { appId: `what-if-${n}-${Date.now()}` } : { custSpaceId: `what-if-${n}` };
  const { ms, report } = await timeProcess(['--input-type=module', '-e', coldCode(bundle, httpApiEvent(ROUTES[kind], body))], env);
  if (report?.status !== 200) throw new Error(`cold ${kind}: status ${report?.status}`);
  return ms;
}

const timed = async (args) => (await timeProcess(args, env)).ms;

log(`cold starts: ${rounds} rounds`);
const variants = Object.keys(builds);
const coldMs = Object.fromEntries(variants.map((v) => [v, { ims: [], cams: [] }]));
const bare = [];
for (let round = 0; round < rounds; round++) {
  bare.push(await timed(['-e', '0']));
  for (const kind of Object.keys(KINDS)) {
    for (let i = 0; i < variants.length; i++) {
      const variant = variants[(i + round) % variants.length];
      coldMs[variant][kind].push(await cold(builds[variant][kind].outfile, kind, round));
    }
  }
  sim.reset();
}

log('warm IMS');
async function worker(bundle) {
  const { child, call } = await startWorker({
    bundle,
    events: built.events,
    env,
    simUrl: sim.url,
    keys: SIMULATOR_DEFAULT_KEYS.aliyun,
    label: 'what-if',
  });
  await call('batch', { kind: 'ims', n: 300, withBare: true });
  return { child, call, invoke: [], bareHttp: [] };
}
const workers = {};
for (const variant of variants) workers[variant] = await worker(builds[variant].ims.outfile);
for (let b = 0; b < rounds; b++) {
  for (let i = 0; i < variants.length; i++) {
    const w = workers[variants[(i + b) % variants.length]];
    const batch = await w.call('batch', { kind: 'ims', n: 100, withBare: true });
    w.invoke.push(...batch.invoke);
    w.bareHttp.push(...batch.bareHttp);
  }
  sim.reset();
}
for (const w of Object.values(workers)) w.child.kill();
await Promise.all([sim.close(), ssm.close()]);

const bareP50 = median(bare);
const rows = variants.map((variant) => {
  const c = coldMs[variant];
  const w = workers[variant];
  return {
    variant,
    bundleKb: builds[variant].ims.bytes / 1024,
    coldKb: builds[variant].ims.coldBytes / 1024,
    nonAwsKb: builds[variant].ims.nonAwsBytes / 1024,
    coldIms: summary(c.ims.map((ms) => ms - bareP50)),
    coldCams: summary(c.cams.map((ms) => ms - bareP50)),
    warmP50: median(w.invoke),
    overheadHttp: median(w.invoke) - median(w.bareHttp),
  };
});
const base = rows.find((r) => r.variant === 'baseline');
const lines = [
  `| build (${rounds} cold starts each, ${rounds * 100} warm IMS calls each) | IMS bundle KB | of which loaded at cold start | cold IMS above bare, ms | ratio | cold CAMS above bare, ms | ratio | warm IMS p50, ms | overhead above http.request, ms | ratio |`,
  '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ...rows.map(
    (r) =>
      `| ${r.variant} | ${r.bundleKb.toFixed(1)} | ${r.coldKb.toFixed(1)} | ${r.coldIms.p50.toFixed(1)} | ${(r.coldIms.p50 / base.coldIms.p50).toFixed(2)} | ${r.coldCams.p50.toFixed(1)} | ${(r.coldCams.p50 / base.coldCams.p50).toFixed(2)} | ${r.warmP50.toFixed(3)} | ${r.overheadHttp.toFixed(3)} | ${(r.overheadHttp / base.overheadHttp).toFixed(2)} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
writeFileSync(join(outDir, 'results.json'), JSON.stringify({ date: new Date().toISOString(), bareP50, rows }, null, 2));
