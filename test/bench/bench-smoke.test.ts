/**
 * `npm run bench -- --smoke`: builds ours and the baseline, runs every measurement a few
 * times against the simulator and the fake SSM, and prints the whole table. No timing is
 * asserted; this only proves the bench still runs end to end and reports every row.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/** The table's rows, by the start of their label, and whether they have a baseline (B) and a ratio. */
const ROWS: [label: string, withBaseline: boolean][] = [
  ['bundle cams-get-upload-authorization', true],
  ['bundle ims-provision-external-application', true],
  ['bundle bpstudio-get-token', false],
  ['bundle ufile-describe-token', false],
  ['loaded at cold start (index.mjs + static chunks) cams-get-upload-authorization', true],
  ['loaded at cold start (index.mjs + static chunks) ims-provision-external-application', true],
  ['loaded at cold start (index.mjs + static chunks) bpstudio-get-token', false],
  ['non-AWS-SDK part cams-get-upload-authorization', true],
  ['non-AWS-SDK part ims-provision-external-application', true],
  ['non-AWS-SDK part bpstudio-get-token', false],
  ['non-AWS-SDK part ufile-describe-token', false],
  ['bare `node -e 0`', false],
  ['cold start above bare node, CAMS', true],
  ['cold start above bare node, IMS', true],
  ['of which import of the bundle, CAMS', true],
  ['of which first invocation, CAMS', true],
  ['of which import of the bundle, IMS', true],
  ['of which first invocation, IMS', true],
  ['warm IMS invocation p50', true],
  ['warm IMS invocation p99', true],
  ['bare signed fetch to the simulator p50', true],
  ['bare signed fetch to the simulator p99', true],
  ['bare signed http.request (keep-alive) p50', true],
  ['warm overhead p50 (invocation − bare fetch), IMS', true],
  ['warm overhead p99 (invocation − bare fetch), IMS', true],
  ['warm overhead p50 above its own HTTP client', true],
  ['warm overhead p50, ours with LOG_LEVEL=silent', true],
  ['CAMS warm requests/s', true],
  ['CAMS warm latency p50', true],
  ['CAMS warm latency p99', true],
  ['peak RSS, warm IMS instance', true],
  ['peak RSS, warm CAMS instance', true],
  ['heap used, warm IMS instance', true],
];

const NUMBER = /^-?\d+(\.\d+)?( \(-?\d+(\.\d+)?–-?\d+(\.\d+)?\))?$/;

describe('npm run bench -- --smoke', () => {
  it('completes and prints every row of the table with numeric values', () => {
    const results = join(root, 'bench', 'RESULTS.md');
    const before = existsSync(results) ? statSync(results).mtimeMs : undefined;
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_OPTIONS; // vitest's own loader options are not the bench's business

    const run = spawnSync(process.execPath, [join(root, 'bench', 'run.mjs'), '--smoke'], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 110_000,
    });

    expect(run.error).toBeUndefined();
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.split('\n').map((line) => line.trim());
    for (const [label, withBaseline] of ROWS) {
      const line = lines.find((l) => l.startsWith(label));
      expect(line, `row "${label}" is missing:\n${run.stdout}`).toBeDefined();
      const [, unit, a, b, ratio] = line!.split(/\s{2,}/);
      expect(unit, label).toMatch(/^(KB|ms|MB|req\/s)$/);
      expect(a, `${label}: ours`).toMatch(NUMBER);
      if (withBaseline) {
        expect(b, `${label}: baseline`).toMatch(NUMBER);
        expect(ratio, `${label}: ratio`).toMatch(NUMBER);
      } else {
        expect(b, label).toBe('—');
      }
    }
    // A smoke run writes into bench/.out/smoke/, never over the real results.
    expect(existsSync(results) ? statSync(results).mtimeMs : undefined).toBe(before);
    expect(existsSync(join(root, 'bench', '.out', 'smoke', 'RESULTS.md'))).toBe(true);
    expect(existsSync(join(root, 'bench', '.out', 'smoke', 'ratios.svg'))).toBe(true);
  }, 120_000);
});
