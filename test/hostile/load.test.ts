/**
 * Hostile suite 1, load: the six functions (deployment bundles, in a process of their own)
 * answer a stream of requests across the six routes over keep-alive connections, while the
 * vendor simulator throttles about 10 % of vendor calls and resets about 2 % of connections.
 * Every answer must be one the contract documents (never 500), the heap of the functions'
 * process must stay flat, and p50/p99 are reported (printed, and in bench/.out/hostile/).
 * Sizes: test/hostile/support/sizes.ts.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOperations } from '../../lib/operations/index.js';
import { SIMULATOR_UFILE_TOKENS } from '../../sim/vendor-simulator.js';
import { seeded } from '../support/seeded-random.js';
import { checkAnswer, Tally } from './support/answers.js';
import { type LoadAnswer, type LoadRequest, quantile, runLoad } from './support/load.js';
import { FULL, SIZES, writeLines, writeResult } from './support/sizes.js';
import { auditRecords, type HostileWorld, nonJsonLines, startHostileWorld } from './support/world.js';

const MiB = 1024 * 1024;
const ROUTES = ['bpstudio', 'cams', 'ims', 'ufile', 'aliyunSts', 'tencentSts'] as const;
type RouteName = (typeof ROUTES)[number];
const FUNCTION_OF: Record<RouteName, string> = {
  bpstudio: 'bpstudio-get-token',
  cams: 'cams-get-upload-authorization',
  ims: 'ims-provision-external-application',
  ufile: 'ufile-describe-token',
  aliyunSts: 'aliyun-sts-assume-role',
  tencentSts: 'tencent-sts-assume-role',
};
const CHAOS = { throttleRate: 0.1, resetRate: 0.02 };
/** What a valid request may get under throttling and resets: success, or the retries ran out. */
const VALID_OUTCOMES = new Set(['200', '429 Throttled', '503 VendorUnavailable', '504 Timeout']);

const operations = await loadOperations();
const routeOf = (name: RouteName) => operations.find((op) => op.functionName === FUNCTION_OF[name])!;

/**
 * The request mix, seeded: a sixth per route. BPStudio half fresh bodies (always the vendor,
 * filling the token memory to its bound) and half from a pool; CAMS a few spaces (its vendor
 * limit is 5 calls/s); IMS mostly new applications and some repeats (already provisioned);
 * UFile a pool of regions; the two STS routes a few durations (anonymous callers, scoped by the
 * local caller policy's session policies). About 2 % are invalid on purpose (400, 413).
 */
function requestMix(seed: number, label: string): (i: number) => LoadRequest {
  const random = seeded(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const apps: string[] = [];
  return (i) => {
    const name = pick(ROUTES);
    const route = routeOf(name).route;
    if (random() < 0.02) {
      const kind = pick(['unknown field', 'not JSON', 'text/plain', 'too large'] as const);
      if (kind === 'unknown field') return { route, body: '{"surprise":1}', tag: `${name} invalid 400 InvalidRequest` };
      if (kind === 'not JSON') return { route, body: '{"appId":', tag: `${name} invalid 400 InvalidRequest` };
      if (kind === 'text/plain') return { route, body: '{}', contentType: 'text/plain', tag: `${name} invalid 400 InvalidRequest` };
      return { route, body: JSON.stringify({ pad: 'x'.repeat(17 * 1024) }), tag: `${name} invalid 413 PayloadTooLarge` };
    }
    let body: Record<string, unknown>;
    switch (name) {
      case 'bpstudio':
        body = { resourceGroupId: random() < 0.5 ? `rg-${label}-fresh-${i}` : `rg-${label}-${Math.floor(random() * 300)}` };
        break;
      case 'cams':
        body = { custSpaceId: `cs-${Math.floor(random() * 8)}` };
        break;
      case 'ims': {
        // The scopes follow from the id, so a repeat asks for exactly what the first one did.
        const appId = apps.length > 0 && random() < 0.15 ? pick(apps) : `app-${label}-${i}`;
        if (!apps.includes(appId) && apps.length < 500) apps.push(appId);
        const scopes = [undefined, ['openid'], ['openid', 'aliuid']][appId.length % 3];
        body = { appId, ...(scopes && { scopes }) };
        break;
      }
      case 'aliyunSts':
      case 'tencentSts':
        body = { durationSeconds: pick([900, 1800, 3600]) };
        break;
      case 'ufile':
        body = {
          region: `cn-r${Math.floor(random() * 30)}`,
          ...(random() < 0.5 && { tokenName: pick(SIMULATOR_UFILE_TOKENS).tokenName }),
        };
        break;
    }
    return { route, body: JSON.stringify(body), tag: `${name} valid` };
  };
}

const FILE_NAME = 'load';
let hw: HostileWorld;
beforeAll(async () => {
  // The local caller policy: every route for any caller, the STS routes with a session policy (they refuse without one).
  hw = await startHostileWorld({ env: { TOKEN_MEMORY_ENTRIES: String(SIZES.loadTokenMemory) }, callerPolicy: true });
}, 120_000);
afterAll(() => hw?.close());

const total = SIZES.loadRequests;
const warmup = Math.max(400, Math.round(total * 0.1));
const timeoutMs = FULL ? 30 * 60_000 : 90_000;

describe(`load: ${total} requests at ${SIZES.loadConcurrency} connections, ~10 % throttling and ~2 % resets at the vendor`, () => {
  it(
    'answers only documented statuses (never 500), keeps the heap flat, reports p50/p99',
    async () => {
      const { host, world, scan } = hw;
      world.sim.setChaos({ ...CHAOS, random: seeded(11) });
      const run = (count: number, label: string, onAnswer: (answer: LoadAnswer) => void) =>
        runLoad({
          url: host.url,
          total: count,
          concurrency: SIZES.loadConcurrency,
          maxMs: FULL ? 20 * 60_000 : 60_000,
          requestTimeoutMs: 15_000,
          next: requestMix(label === 'warmup' ? 1 : 2, label),
          onAnswer,
        });

      // Warm-up: the functions are loaded, the token memory reaches its bound; then the heap is measured.
      await run(warmup, 'warmup', () => undefined);
      const heapStart = await host.heap();
      // HOSTILE_HEAP_SNAPSHOTS=<dir>: heap snapshots of the functions' process at the start and the end, to compare.
      const snapshots = process.env.HOSTILE_HEAP_SNAPSHOTS;
      if (snapshots) await host.snapshot(join(snapshots, 'start.heapsnapshot'));
      const linesBefore = host.lines.length;
      const callsBefore = world.sim.calls.length;

      const answers: LoadAnswer[] = [];
      const loaded = await run(total, 'main', (answer) => answers.push(answer));
      const heapEnd = await host.heap();
      if (snapshots) await host.snapshot(join(snapshots, 'end.heapsnapshot'));
      const { instances, cpuMs } = await host.stats();
      const testCpuMs = Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000);

      // Every answer against the contract.
      const statuses = new Tally();
      const problems: string[] = [];
      const byRoute = new Map<string, number[]>();
      const validMs: number[] = [];
      let valid = 0;
      let validOk = 0;
      for (const answer of answers) {
        const [name, kind, ...expected] = answer.request.tag.split(' ');
        const checked = checkAnswer(answer, routeOf(name as RouteName).name);
        statuses.add(checked.key);
        if (checked.problem) problems.push(`${answer.request.tag}: ${checked.problem}`);
        if (kind === 'invalid') {
          if (checked.key !== expected.join(' ')) problems.push(`${answer.request.tag}: got ${checked.key}`);
          continue;
        }
        valid++;
        if (!VALID_OUTCOMES.has(checked.key))
          problems.push(`${answer.request.tag}: ${checked.key} is not an outcome of throttling or resets`);
        if (checked.key === '200') {
          validOk++;
          scan.scanSuccess(answer.body, scan.addReturned(checked.json.data), `answer ${answer.headers['x-request-id']}`);
        }
        validMs.push(answer.ms);
        byRoute.set(name!, [...(byRoute.get(name!) ?? []), answer.ms]);
      }
      // Error answers may hold no secret at all, and success answers none but their own.
      scan.addSignatures(world.sim.calls);
      for (const answer of answers) {
        if (answer.status !== 200) scan.scan(answer.body, `answer ${answer.headers['x-request-id'] ?? '(none)'} ${answer.status}`);
      }
      const lines = host.lines.slice(linesBefore);
      for (const [i, line] of host.lines.entries()) scan.scan(line, `log line ${i + 1}`);

      const calls = world.sim.calls.slice(callsBefore);
      const injected = {
        throttle: calls.filter((c) => c.chaos === 'throttle').length,
        reset: calls.filter((c) => c.chaos === 'reset').length,
      };
      const audits = auditRecords(lines);
      const sources = new Tally();
      for (const record of audits.values()) sources.add(record.source ?? 'none');
      validMs.sort((a, b) => a - b);
      const latency = Object.fromEntries(
        [...byRoute].map(([name, ms]) => {
          ms.sort((a, b) => a - b);
          return [name, { requests: ms.length, p50: +quantile(ms, 0.5).toFixed(2), p99: +quantile(ms, 0.99).toFixed(2) }];
        }),
      );
      const figures = {
        requests: answers.length,
        warmupRequests: warmup,
        concurrency: SIZES.loadConcurrency,
        wallSeconds: +(loaded.wallMs / 1000).toFixed(1),
        requestsPerSecond: Math.round(answers.length / (loaded.wallMs / 1000)),
        statuses: statuses.toJSON(),
        validRequests: valid,
        validSucceeded: validOk,
        latencyMs: { p50: +quantile(validMs, 0.5).toFixed(2), p99: +quantile(validMs, 0.99).toFixed(2), byRoute: latency },
        vendor: {
          calls: calls.length,
          ...injected,
          throttleShare: +(injected.throttle / calls.length).toFixed(3),
          resetShare: +(injected.reset / calls.length).toFixed(3),
        },
        answerSources: sources.toJSON(),
        heap: {
          startMiB: +(heapStart.heapUsed / MiB).toFixed(2),
          endMiB: +(heapEnd.heapUsed / MiB).toFixed(2),
          growthMiB: +((heapEnd.heapUsed - heapStart.heapUsed) / MiB).toFixed(2),
          // Of the growth, machine code the optimising compiler added (it levels off); the rest is data.
          codeGrowthMiB: +((heapEnd.codeSpace - heapStart.codeSpace) / MiB).toFixed(2),
          bytesPerRequest: Math.round((heapEnd.heapUsed - heapStart.heapUsed) / answers.length),
          tokenMemoryEntries: SIZES.loadTokenMemory,
        },
        instances,
        cpuMs: { functions: cpuMs, runner: testCpuMs },
        logLines: lines.length,
        secrets: { scannedTexts: scan.scanned, ...scan.counts, found: scan.findings.length },
        problems: problems.slice(0, 20),
      };
      writeLines(FILE_NAME, host.lines);
      const file = writeResult(FILE_NAME, figures);
      console.log(
        `load: ${figures.requests} requests in ${figures.wallSeconds} s (${figures.requestsPerSecond}/s) at ${figures.concurrency} connections\n` +
          `  answers: ${statuses}\n  p50 ${figures.latencyMs.p50} ms, p99 ${figures.latencyMs.p99} ms; ${JSON.stringify(latency)}\n` +
          `  vendor calls ${calls.length}: ${injected.throttle} throttled, ${injected.reset} reset; sources ${sources}; instances ${JSON.stringify(instances)}; cpu ${JSON.stringify(figures.cpuMs)}\n` +
          `  heap ${figures.heap.startMiB} → ${figures.heap.endMiB} MiB (${figures.heap.growthMiB}, of which code ${figures.heap.codeGrowthMiB}); secrets: ${scan.report()}\n  → ${file}`,
      );

      expect(problems).toEqual([]);
      expect(answers.length).toBe(total);
      expect(statuses.get('500 InternalError')).toBe(0);
      // No STS call ever went out without a session policy.
      expect(world.sim.assumeRoleCalls.length).toBeGreaterThan(0);
      expect(world.sim.assumeRoleCalls.filter((call) => call.policyDocument === undefined)).toEqual([]);
      // The retries absorb throttling and resets: only the unlucky few run out of attempts.
      expect(validOk / valid).toBeGreaterThan(0.99);
      // The chaos was there: near 10 % and 2 % of vendor calls.
      expect(calls.length).toBeGreaterThan(total / 10);
      expect(figures.vendor.throttleShare).toBeGreaterThan(0.05);
      expect(figures.vendor.throttleShare).toBeLessThan(0.15);
      expect(injected.reset).toBeGreaterThan(0);
      expect(nonJsonLines(lines)).toEqual([]);
      expect(audits.size).toBe(answers.length);
      expect(figures.heap.growthMiB).toBeLessThan(SIZES.loadHeapGrowthMiB);
      // The scan had something to look for, and found none of it.
      expect(scan.counts.signatures).toBeGreaterThan(0);
      expect(scan.counts.returnedSecrets).toBeGreaterThan(0);
      expect(scan.report()).toBe('0 found (none)');
    },
    timeoutMs,
  );
});
