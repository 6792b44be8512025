/**
 * Hostile suite 2, faults under load: while requests keep coming, SSM, the token table and the
 * vendor each go down and come back (the fake SSM and the simulator are closed and listen
 * again on the same port; the local table's process is killed and a new, empty one started
 * on its port). While one is down, answers must follow docs/contracts.md: SSM down → 503
 * KeysUnavailable for requests that need a key, answers from memory or the table still 200;
 * table down → 200 (the vendor is called instead); vendor down → 503 VendorUnavailable or 504
 * Timeout for requests that need it, cached answers 200. After each comes back, everything is
 * 200 again, with the same function instances (nothing restarted).
 *
 * Keys are not cached here (KEYS_CACHE_SECONDS=0), so every request that reaches the vendor
 * reads its key, and "needs a key read" is exactly "a body no instance or the table holds".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSsm } from '../../sim/fake-ssm.js';
import { type LocalTable, startLocalTable } from '../../sim/local-table.js';
import { tableItems } from '../../sim/table-items.js';
import { type SimulatorCall, startVendorSimulator, type VendorSimulator } from '../../sim/vendor-simulator.js';
import { seeded } from '../support/seeded-random.js';
import { checkAnswer, Tally } from './support/answers.js';
import { type LoadAnswer, type LoadRequest, quantile, runLoad } from './support/load.js';
import { FULL, SIZES, writeLines, writeResult } from './support/sizes.js';
import { auditRecords, type HostileWorld, seedKeys, startHostileWorld, TABLE_NAME } from './support/world.js';

const ROUTES = {
  bpstudio: { route: '/v1/aliyun/bpstudio/token', operation: 'bpstudio:GetToken' },
  cams: { route: '/v1/aliyun/cams/upload-authorization', operation: 'cams:GetChatappUploadAuthorization' },
  ims: { route: '/v1/aliyun/ims/external-applications', operation: 'ims:ProvisionExternalApplication' },
  ufile: { route: '/v1/ucloud/ufile/tokens', operation: 'ufile:DescribeUFileToken' },
} as const;
type RouteName = keyof typeof ROUTES;

/** Bodies fetched before the run: every later answer for them comes from memory or the table. */
const WARM: { name: RouteName; body: Record<string, unknown> }[] = [
  ...Array.from({ length: 6 }, (_, i) => ({ name: 'bpstudio' as const, body: { resourceGroupId: `rg-warm-${i}` } })),
  ...Array.from({ length: 3 }, (_, i) => ({ name: 'cams' as const, body: { custSpaceId: `cs-warm-${i}` } })),
  ...Array.from({ length: 6 }, (_, i) => ({ name: 'ufile' as const, body: { region: `cn-warm-${i}` } })),
];

/** Half warm bodies, half fresh ones (never seen: they need a key and the vendor). CAMS stays warm: its vendor allows 5 calls/s. */
function requestMix(seed: number): (i: number) => LoadRequest {
  const random = seeded(seed);
  return (i) => {
    if (random() < 0.5) {
      const warm = WARM[Math.floor(random() * WARM.length)]!;
      return { route: ROUTES[warm.name].route, body: JSON.stringify(warm.body), tag: `${warm.name} warm` };
    }
    const name = (['bpstudio', 'ims', 'ufile'] as const)[i % 3]!;
    const body =
      name === 'bpstudio'
        ? { resourceGroupId: `rg-fresh-${i}` }
        : name === 'ims'
          ? { appId: `app-fresh-${i}` }
          : { region: `cn-fresh-${i}` };
    return { route: ROUTES[name].route, body: JSON.stringify(body), tag: `${name} fresh` };
  };
}

const FILE_NAME = 'faults';
let hw: HostileWorld;
/** Every simulator and table this run started (a restart is a new one on the same port). */
const sims: VendorSimulator[] = [];
const tables: LocalTable[] = [];
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  hw = await startHostileWorld({ env: { KEYS_CACHE_SECONDS: '0' } });
  sims.push(hw.world.sim);
  tables.push(hw.world.table!);
}, 120_000);
afterAll(async () => {
  await hw?.host.close();
  await Promise.all([...sims.map((s) => s.close()), ...tables.map((t) => t.close()), hw?.world.ssm.close(), ...closers.map((c) => c())]);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Window {
  name: string;
  from: number;
  to: number;
}

describe('faults under load: SSM, the table and the vendor each go down and come back', () => {
  it(
    'answers follow the error table while one is down, and recover to 200 once it is back',
    async () => {
      const { host, keys, scan } = hw;
      const { outageMs, recoveryMs } = SIZES;
      const graceMs = 500;
      const ssmPort = hw.world.ssm.port;
      const simPort = hw.world.sim.port;
      const tablePort = tables[0]!.port;

      // Start every instance and warm it and the table: each warm body several times, and IMS
      // (nothing to cache) with applications of its own, sixteen connections for 4 × 4 instances.
      await runLoad({
        url: host.url,
        total: (WARM.length + 2) * 8,
        concurrency: 16,
        maxMs: 60_000,
        requestTimeoutMs: 15_000,
        next: (i) => {
          const warm = WARM[i % (WARM.length + 2)] ?? { name: 'ims' as const, body: { appId: `app-warm-${i}` } };
          return { route: ROUTES[warm.name].route, body: JSON.stringify(warm.body), tag: 'warm-up' };
        },
        onAnswer: (answer) => {
          if (answer.status !== 200) throw new Error(`warm-up answer ${answer.status} ${answer.body}`);
        },
      });
      const { instances: instancesBefore } = await host.stats();

      const answers: LoadAnswer[] = [];
      const windows: Window[] = [];
      const mix = requestMix(3);
      const t0 = performance.now();
      let loadDone = false;
      const load = runLoad({
        url: host.url,
        total: 10_000_000,
        concurrency: SIZES.faultConcurrency,
        maxMs: 5 * 60_000,
        requestTimeoutMs: 15_000,
        next: (i) => (loadDone ? undefined : mix(i)),
        onAnswer: (answer) => answers.push(answer),
      }).finally(() => {
        loadDone = true;
      });
      const timeline = async () => {
        await sleep(recoveryMs);
        windows.push({ name: 'baseline', from: t0, to: performance.now() });

        // SSM
        await hw.world.ssm.close();
        let down = performance.now();
        await sleep(outageMs);
        windows.push({ name: 'ssm down', from: down, to: performance.now() });
        const ssm = await startFakeSsm({ port: ssmPort });
        closers.push(() => ssm.close());
        seedKeys({ ssm }, keys);
        let up = performance.now();
        await sleep(recoveryMs);
        windows.push({ name: 'ssm back', from: up + graceMs, to: performance.now() });

        // The token table
        await tables[0]!.close();
        down = performance.now();
        await sleep(outageMs);
        windows.push({ name: 'table down', from: down, to: performance.now() });
        tables.push(await startLocalTable({ port: tablePort, tableName: TABLE_NAME }));
        const tableUp = performance.now();
        await sleep(recoveryMs);
        windows.push({ name: 'table back', from: tableUp + graceMs, to: performance.now() });

        // The vendor
        await sims[0]!.close();
        down = performance.now();
        await sleep(outageMs);
        windows.push({ name: 'vendor down', from: down, to: performance.now() });
        const sim = await startVendorSimulator({ port: simPort });
        sim.setKeys({ aliyun: [keys.aliyun], ucloud: [keys.ucloud], tencent: [keys.tencent] });
        sims.push(sim);
        up = performance.now();
        await sleep(recoveryMs);
        windows.push({ name: 'vendor back', from: up + graceMs, to: performance.now() });
        loadDone = true;
        return tableUp;
      };
      const [, tableUp] = await Promise.all([load, timeline()]);
      // Once every instance has stopped resting the table after its failures (5 s), fresh bodies use the new table.
      await sleep(Math.max(0, 5_500 - (performance.now() - tableUp)));
      const probe = await runLoad({
        url: host.url,
        total: 24,
        concurrency: 8,
        maxMs: 30_000,
        requestTimeoutMs: 15_000,
        next: (i) => ({ route: ROUTES.bpstudio.route, body: JSON.stringify({ resourceGroupId: `rg-probe-${i}` }), tag: 'bpstudio fresh' }),
        onAnswer: (answer) => answers.push(answer),
      });
      const tableRequests = await tables.at(-1)!.requests();
      const { instances: instancesAfter } = await host.stats();

      // Each answer: the contract, then what its window allows.
      const allowed: Record<string, Record<'warm' | 'fresh', string[]>> = {
        baseline: { warm: ['200'], fresh: ['200'] },
        'ssm down': { warm: ['200'], fresh: ['503 KeysUnavailable'] },
        'ssm back': { warm: ['200'], fresh: ['200'] },
        'table down': { warm: ['200'], fresh: ['200'] },
        'table back': { warm: ['200'], fresh: ['200'] },
        'vendor down': { warm: ['200'], fresh: ['503 VendorUnavailable', '504 Timeout'] },
        'vendor back': { warm: ['200'], fresh: ['200'] },
      };
      const audits = auditRecords(host.lines);
      const perWindow = new Map(windows.map((w) => [w.name, { warm: new Tally(), fresh: new Tally() }]));
      const problems: string[] = [];
      const overall = new Tally();
      const warmFromVendor = new Tally();
      for (const answer of answers) {
        const [name, kind] = answer.request.tag.split(' ') as [RouteName, 'warm' | 'fresh'];
        const checked = checkAnswer(answer, ROUTES[name].operation);
        overall.add(checked.key);
        if (checked.problem) problems.push(`${answer.request.tag}: ${checked.problem}`);
        if (checked.key === '200')
          scan.scanSuccess(answer.body, scan.addReturned(checked.json.data), `answer ${answer.headers['x-request-id']}`);
        else scan.scan(answer.body, `answer ${answer.headers['x-request-id'] ?? '(none)'} ${answer.status}`);
        // Only answers wholly inside a window are held to it; the edges of an outage may go either way.
        const window = windows.find((w) => answer.startedAt >= w.from && answer.endedAt <= w.to);
        if (!window) continue;
        perWindow.get(window.name)![kind].add(checked.key);
        const source = audits.get(String(answer.headers['x-request-id']))?.source;
        // What memory or the table served is always 200; what had to go to the vendor needs the key and the vendor.
        if ((source === 'memory' || source === 'table') && checked.key !== '200') {
          problems.push(`${window.name}, ${answer.request.tag}: ${checked.key} although served from ${source}`);
        }
        // A warm body goes to the vendor only where the table failed this instance (it is then left alone for 5 s).
        const treatedAsFresh = kind === 'warm' && source === 'vendor' && allowed[window.name]!.fresh.includes(checked.key);
        if (treatedAsFresh) warmFromVendor.add(window.name);
        else if (!allowed[window.name]![kind].includes(checked.key)) {
          problems.push(`${window.name}, ${answer.request.tag}: ${checked.key} (${checked.json?.error?.message ?? ''})`);
        }
      }
      // Recovery happened in the instances that lived through each outage, not in new ones.
      const servedIn = (name: string, ok?: boolean) =>
        new Set(
          answers
            .filter((a) => {
              const w = windows.find((x) => x.name === name)!;
              return a.startedAt >= w.from && a.endedAt <= w.to && (ok === undefined || (a.status === 200) === ok);
            })
            .map((a) => String(a.headers['x-host-instance'])),
        );
      const survivors: Record<string, number> = {};
      for (const dependency of ['ssm', 'table', 'vendor']) {
        const during = servedIn(`${dependency} down`);
        survivors[dependency] = [...servedIn(`${dependency} back`, true)].filter((id) => during.has(id)).length;
        if (survivors[dependency] === 0)
          problems.push(`${dependency} back: no instance that served during the outage answered 200 after it`);
      }
      for (const [name, tallies] of perWindow) {
        for (const kind of ['warm', 'fresh'] as const) {
          if (tallies[kind].total() === 0) problems.push(`${name}: no ${kind} request fell wholly inside the window`);
        }
        if (tallies.warm.get('200') === 0) problems.push(`${name}: no warm request answered 200`);
      }

      scan.addSignatures(sims.flatMap((s): SimulatorCall[] => s.calls));
      for (const [i, line] of host.lines.entries()) scan.scan(line, `log line ${i + 1}`);
      // What a reader of the table without the KMS key sees: token items are sealed, so no returned secret.
      const raw = tableItems(tables.at(-1)!);
      const tokenItems = (await raw.keys()).filter((pk) => pk.includes('#token#'));
      for (const pk of tokenItems) {
        const item = (await raw.get(pk))!;
        const text = Object.values(item)
          .map((v) => (v instanceof Uint8Array ? `${Buffer.from(v).toString('latin1')} ${Buffer.from(v).toString('base64')}` : String(v)))
          .join(' ');
        scan.scan(text, `table item ${pk}`);
      }
      raw.close();
      expect(tokenItems.length).toBeGreaterThan(0);
      const tableWarnings = host.lines.filter((line) => line.includes('token table unavailable')).length;
      const sorted = answers.map((a) => a.ms).sort((a, b) => a - b);
      const figures = {
        requests: answers.length,
        concurrency: SIZES.faultConcurrency,
        outageMs,
        recoveryMs,
        windows: windows.map((w) => ({ name: w.name, fromS: +((w.from - t0) / 1000).toFixed(2), toS: +((w.to - t0) / 1000).toFixed(2) })),
        statuses: overall.toJSON(),
        byWindow: Object.fromEntries([...perWindow].map(([name, t]) => [name, { warm: t.warm.toJSON(), fresh: t.fresh.toJSON() }])),
        latencyMs: { p50: +quantile(sorted, 0.5).toFixed(2), p99: +quantile(sorted, 0.99).toFixed(2) },
        tableRequestsAfterRestart: tableRequests,
        probeRequests: probe.sent,
        tableWarnings,
        warmFromVendor: warmFromVendor.toJSON(),
        instances: { before: instancesBefore, after: instancesAfter },
        instancesRecovered: survivors,
        secrets: { scannedTexts: scan.scanned, ...scan.counts, found: scan.findings.length },
        problems: problems.slice(0, 20),
      };
      writeLines(FILE_NAME, host.lines);
      const file = writeResult(FILE_NAME, figures);
      console.log(
        `faults: ${answers.length} requests at ${SIZES.faultConcurrency} connections; answers ${overall}\n` +
          [...perWindow].map(([name, t]) => `  ${name.padEnd(12)} warm: ${t.warm}; fresh: ${t.fresh}`).join('\n') +
          `\n  new table after restart: ${JSON.stringify(tableRequests)}; instances ${JSON.stringify(instancesAfter)}, recovered in place ${JSON.stringify(survivors)}; secrets: ${scan.report()}\n  → ${file}`,
      );

      expect(problems).toEqual([]);
      expect(overall.get('500 InternalError')).toBe(0);
      // The functions were not restarted (at most the 4 instances per function the host allows).
      expect(Object.values(instancesAfter).every((n) => n <= 4)).toBe(true);
      // The table came back into use: the new, empty table got reads and writes.
      expect((tableRequests.GetItem ?? 0) + (tableRequests.PutItem ?? 0)).toBeGreaterThan(0);
      expect(tableWarnings).toBeGreaterThan(0);
      expect(scan.counts.signatures).toBeGreaterThan(0);
      expect(scan.report()).toBe('0 found (none)');
    },
    FULL ? 10 * 60_000 : 90_000,
  );
});
