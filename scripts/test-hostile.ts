// npm run test:hostile — the full form of the hostile suites (test/hostile/): load under vendor
// chaos, faults under load, no message lost through SQS redelivery, secrets in no log or answer.
// The same files `npm run test:slow` runs in their short form, here one file at a time with HOSTILE=full
// sizes (test/hostile/support/sizes.ts; any HOSTILE_* variable overrides one). Prints the figures
// and writes them to bench/.out/hostile/summary.json (git ignores bench/.out).
//
//   npm run test:hostile
//   HOSTILE_LOAD_REQUESTS=20000 HOSTILE_MESSAGES=500 npm run test:hostile
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'bench', '.out', 'hostile');
const started = Date.now();
const run = spawnSync(
  process.execPath,
  [
    join(root, 'node_modules', 'vitest', 'vitest.mjs'),
    'run',
    'test/hostile',
    'test/sim/vendor-simulator-chaos.test.ts',
    '--no-file-parallelism',
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, HOSTILE: 'full' } },
);
const minutes = ((Date.now() - started) / 60_000).toFixed(1);

// biome-ignore lint/suspicious/noExplicitAny: the suites' own JSON
const read = (name: string): any => {
  const path = join(out, `${name}.json`);
  if (!existsSync(path)) return undefined;
  const figures = JSON.parse(readFileSync(path, 'utf8'));
  // Figures from an earlier run are not this run's.
  return Date.parse(figures.at) >= started ? figures : undefined;
};
const load = read('load');
const faults = read('faults');
const sqs = read('sqs');
const secretsFound = [load, faults, sqs].reduce((n, f) => n + (f?.secrets?.found ?? 0), 0);
const summary = {
  at: new Date().toISOString(),
  minutes: Number(minutes),
  passed: run.status === 0,
  load: load && {
    requests: load.requests,
    concurrency: load.concurrency,
    requestsPerSecond: load.requestsPerSecond,
    faultsInjected: { vendorCalls: load.vendor.calls, throttled: load.vendor.throttle, reset: load.vendor.reset },
    statuses: load.statuses,
    p50Ms: load.latencyMs.p50,
    p99Ms: load.latencyMs.p99,
    heapGrowthMiB: load.heap.growthMiB,
    heap: load.heap,
  },
  faults: faults && { requests: faults.requests, outageMs: faults.outageMs, statuses: faults.statuses, byWindow: faults.byWindow },
  sqs: sqs && {
    messages: sqs.messages,
    provisioned: sqs.provisioned,
    deadLettered: sqs.deadLettered,
    deadLetteredByFunction: sqs.deadLetteredByFunction,
    lost: sqs.lost,
    provisionCalls: sqs.vendor.provisionCalls,
    repeatsAfterRefusal: sqs.repeatsAfterRefusal,
    duplicateProvisions: sqs.duplicateProvisions,
    receives: sqs.receives,
    faultsInjected: sqs.vendor.faultsInjected,
    deadReasons: sqs.deadReasons,
  },
  secrets: {
    found: secretsFound,
    scannedTexts: [load, faults, sqs].reduce((n, f) => n + (f?.secrets?.scannedTexts ?? 0), 0),
  },
};
writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

const lines = [`\nhostile, full form: ${run.status === 0 ? 'passed' : 'FAILED'} in ${minutes} min`];
if (load) {
  lines.push(
    `load:    ${load.requests} requests at ${load.concurrency} connections (${load.requestsPerSecond}/s); vendor calls ${load.vendor.calls}, ` +
      `${load.vendor.throttle} throttled, ${load.vendor.reset} reset`,
    `         answers ${JSON.stringify(load.statuses)}; p50 ${load.latencyMs.p50} ms, p99 ${load.latencyMs.p99} ms; ` +
      `heap ${load.heap.startMiB} → ${load.heap.endMiB} MiB (${load.heap.growthMiB} MiB)`,
  );
}
if (faults) lines.push(`faults:  ${faults.requests} requests; answers ${JSON.stringify(faults.statuses)}`);
if (sqs) {
  lines.push(
    `sqs:     ${sqs.messages} messages: ${sqs.provisioned} provisioned, ${sqs.deadLettered} dead-lettered ` +
      `(${sqs.deadLetteredByFunction} by the function), ${sqs.lost} lost; ${sqs.vendor.provisionCalls} provision calls, ` +
      `${sqs.repeatsAfterRefusal} after a refusal; duplicate provisions ${sqs.duplicateProvisions}; faults ${JSON.stringify(sqs.vendor.faultsInjected)}`,
  );
}
lines.push(`secrets: ${secretsFound} found in ${summary.secrets.scannedTexts} log lines and answers`, `→ ${join(out, 'summary.json')}`);
console.log(lines.join('\n'));
process.exit(run.status ?? 1);
