#!/usr/bin/env node
// Benchmarks ours (A: functions/*, built by scripts/build.mjs) against the baseline a team
// would write with the official Alibaba Cloud SDK and Powertools Parameters (B: bench/baseline/*),
// against the same vendor simulator and fake SSM over loopback, A and B alternately.
//
//   npm run bench               full run (2–3 minutes on 2 cores); writes bench/RESULTS.md and bench/ratios.svg
//   npm run bench -- --smoke    a handful of iterations, no targets judged; writes into bench/.out/smoke/
//   npm run bench -- --report   renders RESULTS.md and ratios.svg again from bench/.out/results.json
//                               (after editing bench/NOTES.md, which RESULTS.md ends with)
//
// Every built file, the bundled test doubles, the raw figures and the profiles go to bench/.out/
// (gitignored). bench/what-if.mjs measures the changes bench/NOTES.md proposes.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { functionNames } from '../scripts/build.mjs';
import { buildBench } from './build.mjs';
import { coldCode, timeProcess as spawnTimed } from './cold-start.mjs';
import { buildWithSourceMap, bytesByPackage, profileColdStarts, warmSelfTime } from './profile.mjs';
import { renderConsole, renderMarkdown, renderSvg, rowsOf } from './report.mjs';
import { median, summary } from './stats.mjs';
import { startWorker as startBenchWorker } from './worker-client.mjs';

const root = new URL('..', import.meta.url).pathname;
const smoke = process.argv.includes('--smoke');
// A smoke run keeps to its own folder, so it never disturbs a full run's files.
const outDir = join(root, 'bench', '.out', ...(smoke ? ['smoke'] : []));
const resultsDir = smoke ? outDir : join(root, 'bench');

const plan = smoke
  ? { coldRuns: 2, warmup: 10, batches: 2, batchSize: 10, cacheBatchSize: 20, profileRuns: 1, profileWarmCalls: 30 }
  : { coldRuns: 40, warmup: 300, batches: 25, batchSize: 100, cacheBatchSize: 250, profileRuns: 10, profileWarmCalls: 3000 };
/** The `uptime` load averages (1, 5, 15 min) at the start and the end: how busy the machine was. */
const load = { start: os.loadavg() };

/** The two operations that have a baseline: kind → function name. */
const PAIRS = { cams: 'cams-get-upload-authorization', ims: 'ims-provision-external-application' };
const KEYS_PARAMETER = '/cloud-token-broker/bench/keys/aliyun';

const log = (message) => process.stderr.write(`[bench] ${message}\n`);
const started = Date.now();

function readNotes() {
  try {
    return readFileSync(join(root, 'bench', 'NOTES.md'), 'utf8');
  } catch {
    return '';
  }
}

function writeReport({ run, results, analysis }) {
  const rows = rowsOf(results);
  process.stdout.write(`${renderConsole(rows, run)}\n`);
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'ratios.svg'), renderSvg(rows, run));
  writeFileSync(join(resultsDir, 'RESULTS.md'), renderMarkdown(rows, run, results, analysis, readNotes()));
}

// `--report`: render RESULTS.md and ratios.svg again from the last run's figures (after editing
// bench/NOTES.md or the report), without measuring anything.
if (process.argv.includes('--report')) {
  writeReport(JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8')));
  log(`wrote ${join(resultsDir, 'RESULTS.md')} and ratios.svg from ${join(outDir, 'results.json')}`);
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// 1. Build: ours and the baseline through scripts/build.mjs, the test doubles with esbuild.
// ---------------------------------------------------------------------------------------------
rmSync(join(outDir, 'ours'), { recursive: true, force: true });
rmSync(join(outDir, 'baseline'), { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
log('building ours, the baseline and the test doubles');
const built = await buildBench(outDir, [
  ...functionNames.map((name) => ({ key: `ours/${name}`, side: 'ours', name })),
  ...Object.values(PAIRS).map((name) => ({ key: `baseline/${name}`, side: 'baseline', name })),
]);
const bundle = (side, name) => built.bundles[`${side}/${name}`].outfile;
/** Per function: the whole bundle (entry and chunks), what a cold start loads, the non-AWS part of the whole. */
const sizeOf = (side, names) =>
  Object.fromEntries(
    names.map((name) => {
      const { bytes, entryBytes, coldBytes, nonAwsBytes } = built.bundles[`${side}/${name}`];
      return [name, { bytes, entryBytes, coldBytes, nonAwsBytes }];
    }),
  );
const sizes = { ours: sizeOf('ours', functionNames), baseline: sizeOf('baseline', Object.values(PAIRS)) };
const meta = (side, name) => JSON.parse(readFileSync(join(outDir, side, name, 'meta.json'), 'utf8'));

// ---------------------------------------------------------------------------------------------
// 2. The vendor simulator and the fake SSM, in this process, on loopback.
// ---------------------------------------------------------------------------------------------
const { startVendorSimulator, startFakeSsm, startFakeKms, LOCAL_TOKEN_KEY_ALIAS, startLocalTable, SIMULATOR_DEFAULT_KEYS } = await import(
  built.support
);
const { httpApiEvent } = await import(built.events);
const sim = await startVendorSimulator({ camsExpireSeconds: 3600 });
const ssm = await startFakeSsm();
ssm.put(KEYS_PARAMETER, SIMULATOR_DEFAULT_KEYS.aliyun);
// The token table (dynalite, its own process): only the table rows run with TOKEN_TABLE.
const table = await startLocalTable({ tableName: 'cloud-token-broker-bench-tokens' });
// Token items are sealed, as deployed: the table rows include the data key's KMS calls.
const kms = await startFakeKms({ region: 'eu-west-1' });

const childEnv = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  TZ: 'UTC',
  NODE_ENV: 'production',
  AWS_ENDPOINT_URL_SSM: ssm.url,
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'fake-ssm-access-key',
  AWS_SECRET_ACCESS_KEY: 'fake-ssm-secret-key',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  ALIYUN_KEYS_PARAMETER: KEYS_PARAMETER,
  ALIYUN_CAMS_ENDPOINT: sim.url,
  ALIYUN_IMS_ENDPOINT: sim.url,
  ALIYUN_BPSTUDIO_ENDPOINT: sim.url,
  KEYS_CACHE_SECONDS: '300',
  // What serverless.yml deploys by default: ours writes one audit line per request.
  LOG_LEVEL: 'info',
};
/** Ours with the token table: the rows "served from the table". */
const sealedTable = {
  TOKEN_TABLE: table.tableName,
  AWS_ENDPOINT_URL_DYNAMODB: table.url,
  TOKEN_KEY_ID: LOCAL_TOKEN_KEY_ALIAS,
  AWS_ENDPOINT_URL_KMS: kms.url,
};
const tableEnv = { ...childEnv, ...sealedTable };

const ROUTES = { ims: '/v1/aliyun/ims/external-applications', cams: '/v1/aliyun/cams/upload-authorization' };
/** The one API Gateway event builder (sim/lambda-events.ts), for cold children, profiles and workers alike. */
const eventOf = (kind, body) => httpApiEvent(ROUTES[kind], body);

// ---------------------------------------------------------------------------------------------
// 3. Cold start: spawn → first answer, above a bare `node -e 0`, all alternating.
// ---------------------------------------------------------------------------------------------

/** Spawns `node args` with the bench's environment (or `env`); see cold-start.mjs. */
const timeProcess = (args, env = childEnv) => spawnTimed(args, env);

async function coldStarts() {
  const cases = [{ key: 'bare', args: ['-e', '0'] }];
  for (const [kind, name] of Object.entries(PAIRS)) {
    for (const side of ['ours', 'baseline']) cases.push({ key: `${side}:${kind}`, side, kind, name });
  }
  // Ours with the token table: a fresh instance whose credentials another instance already wrote
  // (seeded once below), and one that finds nothing (table read, lease, vendor call, token write).
  cases.push({ key: 'ours:cams:tableHit', side: 'ours', kind: 'cams', name: PAIRS.cams, env: tableEnv, custSpaceId: 'bench-table-hit' });
  cases.push({ key: 'ours:cams:tableMiss', side: 'ours', kind: 'cams', name: PAIRS.cams, env: tableEnv });
  const seed = await timeProcess(
    ['--input-type=module', '-e', coldCode(bundle('ours', PAIRS.cams), eventOf('cams', { custSpaceId: 'bench-table-hit' }))],
    tableEnv,
  );
  if (seed.report?.status !== 200) throw new Error(`seeding the token table answered ${seed.report?.status}`);
  const results = Object.fromEntries(cases.map((c) => [c.key, []]));
  for (let round = 0; round < plan.coldRuns; round++) {
    // Rotate the order every round so no side always runs right after another.
    const order = cases.map((_, i) => cases[(i + round) % cases.length]);
    for (const c of order) {
      const body =
        c.kind === 'ims' ? { appId: `cold-${c.side}-${round}-${Date.now()}` } : { custSpaceId: c.custSpaceId ?? `cold-${round}` };
      const args = c.args ?? ['--input-type=module', '-e', coldCode(bundle(c.side, c.name), eventOf(c.kind, body))];
      const run = await timeProcess(args, c.env);
      if (run.report && run.report.status !== 200) throw new Error(`${c.key} cold start answered ${run.report.status}: ${run.report.body}`);
      results[c.key].push(run);
    }
    sim.reset();
    // A table miss every round: nothing of the last round's may be found.
    await table.clear();
    const again = await timeProcess(
      ['--input-type=module', '-e', coldCode(bundle('ours', PAIRS.cams), eventOf('cams', { custSpaceId: 'bench-table-hit' }))],
      tableEnv,
    );
    if (again.report?.status !== 200) throw new Error(`seeding the token table answered ${again.report?.status}`);
  }
  const bare = results.bare.map((r) => r.ms);
  const bareP50 = median(bare);
  const out = { bare: summary(bare) };
  for (const c of cases.slice(1)) {
    const runs = results[c.key];
    out[c.key] = {
      total: summary(runs.map((r) => r.ms)),
      aboveBare: summary(runs.map((r) => r.ms - bareP50)),
      importMs: median(runs.map((r) => r.report.importMs)),
      invokeMs: median(runs.map((r) => r.report.invokeMs)),
      bootMs: median(runs.map((r) => r.report.bootMs)),
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 4. Warm: one long-lived child per side (bench/worker.mjs), batches alternating A and B.
// ---------------------------------------------------------------------------------------------
const workers = [];

async function startWorker(side, name, extraEnv = {}, { execArgv = [], bundlePath = bundle(side, name) } = {}) {
  const { child, call } = await startBenchWorker({
    bundle: bundlePath,
    events: built.events,
    env: { ...childEnv, BENCH_SIDE: side[0], ...extraEnv },
    simUrl: sim.url,
    keys: SIMULATOR_DEFAULT_KEYS.aliyun,
    execArgv,
    label: `${side} ${name}`,
  });
  workers.push(child);
  return { side, call, child };
}

/** Runs `batches` batches on each worker, alternating which goes first. */
async function alternate(list, kind, { withBare }) {
  const runs = list.map(() => ({ invoke: [], bare: [], bareHttp: [], elapsedMs: 0 }));
  for (const w of list) await w.call('batch', { kind, n: plan.warmup, withBare });
  for (let b = 0; b < plan.batches; b++) {
    const order = b % 2 === 0 ? list.map((_, i) => i) : list.map((_, i) => list.length - 1 - i);
    for (const i of order) {
      const batch = await list[i].call('batch', { kind, n: kind === 'cams' ? plan.cacheBatchSize : plan.batchSize, withBare });
      runs[i].invoke.push(...batch.invoke);
      runs[i].bare.push(...batch.bare);
      runs[i].bareHttp.push(...batch.bareHttp);
      runs[i].elapsedMs += batch.elapsedMs;
    }
    sim.reset(); // keeps the simulator's nonce and call lists short; every AppId is fresh anyway
  }
  return runs;
}

async function warmIms() {
  const list = [
    await startWorker('ours', PAIRS.ims),
    await startWorker('baseline', PAIRS.ims),
    // Not a target: ours without its audit log line, to show what that line costs.
    await startWorker('ours', PAIRS.ims, { LOG_LEVEL: 'silent' }),
  ];
  const [a, b, quiet] = await alternate(list, 'ims', { withBare: true });
  const side = (run) => {
    const invoke = summary(run.invoke);
    const bare = summary(run.bare);
    const bareHttp = summary(run.bareHttp);
    return { invoke, bare, bareHttp, overheadP50: invoke.p50 - bare.p50, overheadP99: invoke.p99 - bare.p99 };
  };
  const memory = await Promise.all(list.map((w) => w.call('memory')));
  return { ours: side(a), baseline: side(b), oursSilent: side(quiet), memory: { ours: memory[0], baseline: memory[1] } };
}

async function warmCams() {
  const list = [
    await startWorker('ours', PAIRS.cams),
    await startWorker('baseline', PAIRS.cams),
    // Not a target: ours with the token table and no memory (TOKEN_MEMORY_ENTRIES=0), so every
    // request is a table hit: what an instance pays for credentials another instance fetched.
    await startWorker('ours', PAIRS.cams, { ...sealedTable, TOKEN_MEMORY_ENTRIES: '0' }),
  ];
  const [a, b, tableHit] = await alternate(list, 'cams', { withBare: false });
  const side = (run) => ({ latency: summary(run.invoke), perSecond: (run.invoke.length / run.elapsedMs) * 1000 });
  const memory = await Promise.all(list.slice(0, 2).map((w) => w.call('memory')));
  return { ours: side(a), baseline: side(b), oursTableHit: side(tableHit), memory: { ours: memory[0], baseline: memory[1] } };
}

/**
 * CPU profiles of a warm IMS instance per side: where each invocation's own CPU time goes.
 * Both instances run at once, profiled, their measured batches alternating.
 */
async function profileWarm(entries) {
  const sides = [];
  for (const [side, entry] of Object.entries(entries)) {
    const dir = join(outDir, 'profile', 'warm', side);
    rmSync(dir, { recursive: true, force: true });
    const outfile = await buildWithSourceMap(entry, join(dir, 'bundle'));
    const profiles = join(dir, 'profiles');
    const worker = await startWorker(
      side,
      PAIRS.ims,
      {},
      { bundlePath: outfile, execArgv: ['--cpu-prof', `--cpu-prof-dir=${profiles}`, '--cpu-prof-interval=100'] },
    );
    await worker.call('batch', { kind: 'ims', n: plan.warmup, withBare: false });
    sides.push({ side, outfile, profiles, worker, windows: [] });
  }
  const batches = 6;
  const n = Math.ceil(plan.profileWarmCalls / batches);
  for (let b = 0; b < batches; b++) {
    for (const s of b % 2 === 0 ? sides : [...sides].reverse())
      s.windows.push(await s.worker.call('batch', { kind: 'ims', n, withBare: false }));
    sim.reset();
  }
  const out = {};
  for (const s of sides) {
    const exited = new Promise((resolve) => s.worker.child.once('exit', resolve));
    await s.worker.call('exit');
    await exited;
    out[s.side] = warmSelfTime(s.profiles, s.outfile, s.windows, n * batches);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Run it all.
// ---------------------------------------------------------------------------------------------
let results;
let analysis;
try {
  log(`cold starts: ${plan.coldRuns} rounds of bare node, ours and baseline (CAMS, IMS)`);
  const cold = await coldStarts();
  log(`warm IMS: ${plan.warmup} warm-up + ${plan.batches} x ${plan.batchSize} invocations per side, each with a bare fetch`);
  const ims = await warmIms();
  log(`warm CAMS: ${plan.warmup} warm-up + ${plan.batches} x ${plan.cacheBatchSize} invocations per side`);
  const cams = await warmCams();
  for (const child of workers.splice(0)) child.kill();
  results = { sizes, cold, ims, cams };
  if (plan.profileRuns > 0) {
    log(`profiling ${plan.profileRuns} IMS cold starts and ${plan.profileWarmCalls} warm IMS invocations per side (node --cpu-prof)`);
    analysis = {
      bytes: {
        ours: bytesByPackage(meta('ours', PAIRS.cams)),
        baselineCams: bytesByPackage(meta('baseline', PAIRS.cams)),
        baselineIms: bytesByPackage(meta('baseline', PAIRS.ims)),
      },
      cpu: await profileColdStarts({
        outDir: join(outDir, 'profile', 'cold'),
        runs: plan.profileRuns,
        entries: {
          ours: join(root, 'functions', `${PAIRS.ims}.ts`),
          baseline: join(root, 'bench', 'baseline', `${PAIRS.ims}.ts`),
        },
        coldCode,
        timeProcess,
        env: childEnv,
        eventFor: (appId) => eventOf('ims', { appId }),
      }),
      warm: await profileWarm({
        ours: join(root, 'functions', `${PAIRS.ims}.ts`),
        baseline: join(root, 'bench', 'baseline', `${PAIRS.ims}.ts`),
      }),
    };
  }
} finally {
  for (const child of workers) child.kill();
  await Promise.all([sim.close(), ssm.close(), kms.close(), table.close()]);
}
load.end = os.loadavg();

const cpus = os.cpus();
const machine = {
  cpu: cpus[0]?.model ?? 'unknown',
  cores: cpus.length,
  memoryGiB: os.totalmem() / 1024 ** 3,
  os: `${os.type()} ${os.release()} (${os.arch()})`,
  node: process.version,
};
const run = {
  date: new Date().toISOString(),
  command: smoke ? 'npm run bench -- --smoke' : 'npm run bench',
  smoke,
  plan,
  durationS: (Date.now() - started) / 1000,
  machine,
  load,
};
writeReport({ run, results, analysis });
writeFileSync(join(outDir, 'results.json'), JSON.stringify({ run, results, analysis }, null, 2));
log(`wrote ${join(resultsDir, 'RESULTS.md')} and ratios.svg in ${run.durationS.toFixed(0)} s`);
