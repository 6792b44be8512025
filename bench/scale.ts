// npm run bench:scale — several Lambda instances against one token table and one vendor simulator.
//
// Each instance is a child process running the function's deployment bundle (scripts/build.mjs),
// as Lambda would; the table is the local one (dynalite, its own process), the simulator and the
// fake SSM run here. Per scenario, fresh instances and an empty table; reported: requests per
// second, vendor calls per body, table reads and writes per 1,000 requests, and latency per path
// (where each answer came from, as the function's audit line says: memory, table or vendor).
//
//   npm run bench:scale -- [--instances 4] [--requests 20000] [--bodies 200] [--concurrency 8] [--only <words in a scenario's name>]
//
// The simulator holds each vendor account (its AccessKey) to CAMS's 5 calls per second, as the
// vendor does; the multi-account scenario spreads CAMS bodies over four accounts, each with its
// own key parameter, chosen by the caller policy from the caller's `org` claim.
import type { ChildProcess, ForkOptions } from 'node:child_process';
import { join } from 'node:path';
import { keyParametersUnder, startLocalWorld } from '../sim/local-world.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const INSTANCES = option('instances', 4);
const REQUESTS = option('requests', 20_000);
const BODIES = option('bodies', 200);
const CONCURRENCY = option('concurrency', 8);
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1]!.toLowerCase() : undefined;
/** The multi-account scenario's accounts: each its own AccessKey at the simulator and its own key parameter. */
const ACCOUNTS = ['a', 'b', 'c', 'd'];
const accountKey = (account: string) => ({ accessKeyId: `sim-bench-${account}`, accessKeySecret: `sim-bench-${account}-secret-0c4f` });
const POLICY = '/cloud-token-broker/bench/policy';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'bench', '.out', 'scale');

// scripts/build.mjs is plain JavaScript, without types.
const { buildFunction } = (await import(new URL('../scripts/build.mjs', import.meta.url).href)) as {
  buildFunction(name: string, outDir: string): Promise<{ outfile: string; bytes: number }>;
};
process.stderr.write('building the bundles…\n');
const bundles = {
  bpstudio: (await buildFunction('bpstudio-get-token', join(outDir, 'bpstudio-get-token'))).outfile,
  cams: (await buildFunction('cams-get-upload-authorization', join(outDir, 'cams-get-upload-authorization'))).outfile,
};

const world = await startLocalWorld({
  keyParameters: keyParametersUnder('/cloud-token-broker/bench/keys'),
  ucloudProjectId: 'org-bench',
  region: 'eu-west-1',
  simulator: {
    camsExpireSeconds: 3600,
    accountRateLimit: { perSecond: 5, actions: ['GetChatappUploadAuthorization'] },
  },
  tableName: 'cloud-token-broker-bench-tokens',
});
const { sim } = world;
const table = world.table!;
// The default account's key (seeded by the local world) and each bench account's, at the simulator and in SSM.
const keysParameter = world.env.ALIYUN_KEYS_PARAMETER!;
const seeded = JSON.parse(world.ssm.get(keysParameter)!) as { accessKeyId: string; accessKeySecret: string };
sim.setKeys({ aliyun: [seeded, ...ACCOUNTS.map(accountKey)] });
for (const account of ACCOUNTS) world.ssm.put(`${keysParameter}/${account}`, accountKey(account));
world.ssm.put(POLICY, {
  version: 1,
  rules: [{ id: 'by-org', callers: [{ claims: { org: '*' } }], operations: ['cams:*'], account: '${org}' }],
});

const baseEnv = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  TZ: 'UTC',
  NODE_ENV: 'production',
  // The fake SSM, the local table, the key parameters and every endpoint at the simulator.
  ...world.env,
  KEYS_CACHE_SECONDS: '300',
  // The audit line of each request says where its answer came from.
  LOG_LEVEL: 'info',
};

interface Sample {
  ms: number;
  status: number;
  source: string;
  at: number;
}

interface Worker {
  child: ChildProcess;
  call<T>(type: string, args?: Record<string, unknown>): Promise<T>;
}

// bench/ipc.mjs is plain JavaScript, without types.
const { forkWorker } = (await import(new URL('./ipc.mjs', import.meta.url).href)) as {
  forkWorker(path: string, options: ForkOptions, label?: string): Promise<Worker>;
};

async function startWorker(bundle: string, env: Record<string, string>): Promise<Worker> {
  const { child, call } = await forkWorker(
    join(root, 'bench', 'scale-worker.mjs'),
    { env, execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
    'scale worker',
  );
  await call('init', { bundle });
  return { child, call };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= 1_000) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

interface Scenario {
  name: string;
  bundle: string;
  route: string;
  field: string;
  param: string;
  action: string;
  bodies: number;
  requests: number;
  env?: Record<string, string>;
  /** Spread the bodies over these accounts (by the caller's `org` claim), and report each one's busiest second. */
  accounts?: string[];
}

async function runScenario(scenario: Scenario) {
  if (ONLY !== undefined && !scenario.name.toLowerCase().includes(ONLY)) return;
  await table.clear();
  sim.reset();
  const workers = await Promise.all(Array.from({ length: INSTANCES }, () => startWorker(scenario.bundle, { ...baseEnv, ...scenario.env })));
  await table.resetRequests();
  const started = performance.now();
  const results = await Promise.all(
    workers.map((worker, i) =>
      worker.call<{ samples: Sample[]; elapsedMs: number }>('run', {
        route: scenario.route,
        field: scenario.field,
        prefix: 'scale-',
        bodies: scenario.bodies,
        total: Math.ceil(scenario.requests / INSTANCES),
        concurrency: CONCURRENCY,
        seed: 1000 + i,
        remainingMs: 30_000,
        ...(scenario.accounts !== undefined && { accounts: scenario.accounts }),
      }),
    ),
  );
  const wallMs = performance.now() - started;
  const requests = await table.requests();
  for (const worker of workers) worker.child.kill();

  const samples = results.flatMap((r) => r.samples);
  const calls = sim.callsTo(scenario.action);
  const perBody = new Map<string, number>();
  for (const call of calls) perBody.set(call.params[scenario.param]!, (perBody.get(call.params[scenario.param]!) ?? 0) + 1);
  const counts = [...perBody.values()];
  const reads = requests.GetItem ?? 0;
  const writes = (requests.PutItem ?? 0) + (requests.UpdateItem ?? 0) + (requests.DeleteItem ?? 0);
  const statuses = new Map<number, number>();
  for (const s of samples) statuses.set(s.status, (statuses.get(s.status) ?? 0) + 1);

  const lines = [
    `## ${scenario.name}`,
    `${samples.length} requests over ${INSTANCES} instances (${CONCURRENCY} concurrent each), ${scenario.bodies} bodies, ${(wallMs / 1000).toFixed(1)} s: ${Math.round(samples.length / (wallMs / 1000))} requests/s`,
    `answers: ${[...statuses].map(([status, n]) => `${n} × ${status}`).join(', ')}`,
    `vendor calls: ${calls.length} for ${perBody.size} bodies (per body: mean ${(calls.length / Math.max(1, perBody.size)).toFixed(2)}, max ${Math.max(0, ...counts)}); busiest second at the vendor: ${busiestSecond(calls.map((c) => c.receivedAt))} calls`,
    `table per 1,000 requests: ${((reads * 1000) / samples.length).toFixed(1)} reads, ${((writes * 1000) / samples.length).toFixed(1)} writes (${Object.entries(
      requests,
    )
      .map(([op, n]) => `${op} ${n}`)
      .join(', ')})`,
    ...(scenario.accounts === undefined
      ? []
      : [
          `per account (calls; busiest second): ${scenario.accounts
            .map((account) => {
              const mine = calls.filter((call) => call.accessKeyId === accountKey(account).accessKeyId).map((call) => call.receivedAt);
              return `${account} ${mine.length}; ${busiestSecond(mine)}`;
            })
            .join(' | ')}; throttled at the vendor: ${calls.filter((call) => call.code !== 'OK').length}`,
        ]),
    'path      requests    share     p50 ms     p99 ms',
  ];
  for (const path of ['memory', 'table', 'vendor', 'none']) {
    const ms = samples
      .filter((s) => s.source === path)
      .map((s) => s.ms)
      .sort((a, b) => a - b);
    if (ms.length === 0) continue;
    lines.push(
      `${path.padEnd(8)} ${String(ms.length).padStart(9)} ${`${((ms.length * 100) / samples.length).toFixed(1)} %`.padStart(8)} ${quantile(ms, 0.5).toFixed(2).padStart(10)} ${quantile(ms, 0.99).toFixed(2).padStart(10)}`,
    );
  }
  console.log(`${lines.join('\n')}\n`);
}

const bpstudio = {
  bundle: bundles.bpstudio,
  route: '/v1/aliyun/bpstudio/token',
  field: 'resourceGroupId',
  param: 'ResourceGroupId',
  action: 'GetToken',
};
try {
  console.log(`# bench:scale (node ${process.version}, ${INSTANCES} instances, local table: dynalite)\n`);
  await runScenario({ name: 'BPStudio, default memory (1000 tokens per instance)', ...bpstudio, bodies: BODIES, requests: REQUESTS });
  await runScenario({
    name: `BPStudio, memory of 50 tokens per instance (more table reads)`,
    ...bpstudio,
    bodies: BODIES,
    requests: REQUESTS,
    env: { TOKEN_MEMORY_ENTRIES: '50' },
  });
  await runScenario({
    name: 'CAMS (5 calls/s per account, across instances)',
    bundle: bundles.cams,
    route: '/v1/aliyun/cams/upload-authorization',
    field: 'custSpaceId',
    param: 'CustSpaceId',
    action: 'GetChatappUploadAuthorization',
    bodies: 40,
    requests: Math.min(REQUESTS, 4_000),
  });
  await runScenario({
    name: `CAMS in ${ACCOUNTS.length} accounts (5 calls/s each, ${5 * ACCOUNTS.length} in all, across instances)`,
    bundle: bundles.cams,
    route: '/v1/aliyun/cams/upload-authorization',
    field: 'custSpaceId',
    param: 'CustSpaceId',
    action: 'GetChatappUploadAuthorization',
    bodies: 40 * ACCOUNTS.length,
    requests: Math.min(REQUESTS, 4_000),
    env: { ALIYUN_ACCOUNTS: ACCOUNTS.join(','), POLICY_PARAMETER: POLICY },
    accounts: ACCOUNTS,
  });
} finally {
  await world.close();
}
