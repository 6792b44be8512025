// Turns bench results into rows, and rows into the console table, RESULTS.md and ratios.svg.

const KB = 1024;
const MB = 1024 * 1024;

/**
 * Targets of the performance issue (vendor calls on node:https): a ratio ours/baseline (`max`), or
 * for the warm overhead a bound on ours itself (`absMax`, ms).
 */
export const TARGETS = {
  bundle: { max: 0.4, text: '≤ 0.40' },
  nonAws: { max: 0.09, text: '≤ 0.09' },
  cold: { max: 0.5, text: '≤ 0.50' },
  warm: { max: 1, text: '≤ 1.00' },
  overhead: { absMax: 0.1, text: 'A ≤ 0.10 ms' },
};

const fmt = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const spread = (s, digits = 1) => `${fmt(s.p50, digits)} (${fmt(s.p10, digits)}–${fmt(s.p90, digits)})`;

function ratioRow({ id, label, short, unit, a, b, aText, bText, target, chart = true, digits = 1, note }) {
  const ratio = Number.isFinite(b) && b !== 0 ? a / b : undefined;
  let met;
  if (target?.absMax !== undefined) met = a <= target.absMax;
  else if (target && ratio !== undefined) met = ratio <= target.max;
  return {
    id,
    label,
    short: short ?? label,
    unit,
    a,
    b,
    aText: aText ?? fmt(a, digits),
    bText: bText ?? (b === undefined ? '—' : fmt(b, digits)),
    ratio,
    target,
    met,
    chart: chart && ratio !== undefined,
    note,
  };
}

/** Every row of the table, in order. */
export function rowsOf({ sizes, cold, ims, cams }) {
  const rows = [];
  const pairs = ['cams-get-upload-authorization', 'ims-provision-external-application'];
  const names = Object.keys(sizes.ours);
  const others = names.filter((n) => !pairs.includes(n));
  for (const name of [...pairs, ...others]) {
    rows.push(
      ratioRow({
        id: `bundle:${name}`,
        label: `bundle ${name}`,
        short: `bundle, ${name === 'cams-get-upload-authorization' ? 'CAMS' : name === 'ims-provision-external-application' ? 'IMS' : name}`,
        unit: 'KB',
        a: sizes.ours[name].bytes / KB,
        b: sizes.baseline[name] ? sizes.baseline[name].bytes / KB : undefined,
        target: sizes.baseline[name] ? TARGETS.bundle : undefined,
      }),
    );
  }
  // What a cold start loads and parses: index.mjs and the chunks it imports statically, not the
  // chunks loaded with `import()` on first use (scripts/build.mjs). No target: the bundle rows above
  // keep theirs, on the whole bundle. Results of runs before the split lack it.
  for (const name of [...pairs, ...others]) {
    if (sizes.ours[name].coldBytes === undefined) continue;
    rows.push(
      ratioRow({
        id: `bundleCold:${name}`,
        label: `loaded at cold start (index.mjs + static chunks) ${name}`,
        short: `loaded at cold start, ${name === 'cams-get-upload-authorization' ? 'CAMS' : name === 'ims-provision-external-application' ? 'IMS' : name}`,
        unit: 'KB',
        a: sizes.ours[name].coldBytes / KB,
        b: sizes.baseline[name] ? sizes.baseline[name].coldBytes / KB : undefined,
        chart: false,
      }),
    );
  }
  for (const name of [...pairs, ...others]) {
    rows.push(
      ratioRow({
        id: `nonAws:${name}`,
        label: `non-AWS-SDK part ${name}`,
        short: `non-AWS-SDK part, ${name === 'cams-get-upload-authorization' ? 'CAMS' : name === 'ims-provision-external-application' ? 'IMS' : name}`,
        unit: 'KB',
        a: sizes.ours[name].nonAwsBytes / KB,
        b: sizes.baseline[name] ? sizes.baseline[name].nonAwsBytes / KB : undefined,
        target: sizes.baseline[name] ? TARGETS.nonAws : undefined,
      }),
    );
  }
  rows.push(
    ratioRow({
      id: 'cold:bare',
      label: 'bare `node -e 0`, p50 (p10–p90)',
      unit: 'ms',
      a: cold.bare.p50,
      aText: spread(cold.bare),
      chart: false,
    }),
  );
  for (const kind of ['cams', 'ims']) {
    const a = cold[`ours:${kind}`];
    const b = cold[`baseline:${kind}`];
    rows.push(
      ratioRow({
        id: `cold:${kind}`,
        label: `cold start above bare node, ${kind.toUpperCase()}, p50 (p10–p90)`,
        short: `cold start above bare node, ${kind.toUpperCase()}, p50`,
        unit: 'ms',
        a: a.aboveBare.p50,
        b: b.aboveBare.p50,
        aText: spread(a.aboveBare),
        bText: spread(b.aboveBare),
        target: TARGETS.cold,
      }),
    );
  }
  for (const kind of ['cams', 'ims']) {
    const a = cold[`ours:${kind}`];
    const b = cold[`baseline:${kind}`];
    rows.push(
      ratioRow({
        id: `coldImport:${kind}`,
        label: `  of which import of the bundle, ${kind.toUpperCase()}, p50`,
        unit: 'ms',
        a: a.importMs,
        b: b.importMs,
        chart: false,
      }),
    );
    rows.push(
      ratioRow({
        id: `coldInvoke:${kind}`,
        label: `  of which first invocation, ${kind.toUpperCase()}, p50`,
        unit: 'ms',
        a: a.invokeMs,
        b: b.invokeMs,
        chart: false,
      }),
    );
  }
  const ms3 = { digits: 3 };
  // Ours with the token table (no baseline: it has no table). Smoke runs of old results lack them.
  const tableRows = [
    ['tableHit', 'served from the token table'],
    ['tableMiss', 'token table miss (lease, vendor call, write)'],
  ];
  for (const [key, what] of tableRows) {
    const a = cold[`ours:cams:${key}`];
    if (!a) continue;
    rows.push(
      ratioRow({
        id: `cold:cams:${key}`,
        label: `cold start above bare node, CAMS ${what}, p50 (p10–p90)`,
        unit: 'ms',
        a: a.aboveBare.p50,
        aText: spread(a.aboveBare),
        chart: false,
      }),
    );
  }
  rows.push(
    ratioRow({
      id: 'warm:p50',
      label: 'warm IMS invocation p50',
      unit: 'ms',
      a: ims.ours.invoke.p50,
      b: ims.baseline.invoke.p50,
      target: TARGETS.warm,
      ...ms3,
    }),
  );
  rows.push(
    ratioRow({
      id: 'warm:p99',
      label: 'warm IMS invocation p99',
      unit: 'ms',
      a: ims.ours.invoke.p99,
      b: ims.baseline.invoke.p99,
      chart: false,
      ...ms3,
    }),
  );
  rows.push(
    ratioRow({
      id: 'bare:p50',
      label: 'bare signed fetch to the simulator p50',
      unit: 'ms',
      a: ims.ours.bare.p50,
      b: ims.baseline.bare.p50,
      chart: false,
      ...ms3,
    }),
  );
  rows.push(
    ratioRow({
      id: 'bare:p99',
      label: 'bare signed fetch to the simulator p99',
      unit: 'ms',
      a: ims.ours.bare.p99,
      b: ims.baseline.bare.p99,
      chart: false,
      ...ms3,
    }),
  );
  rows.push(
    ratioRow({
      id: 'bareHttp:p50',
      label: 'bare signed http.request (keep-alive) p50',
      unit: 'ms',
      a: ims.ours.bareHttp.p50,
      b: ims.baseline.bareHttp.p50,
      chart: false,
      ...ms3,
    }),
  );
  rows.push(
    ratioRow({
      id: 'overhead:p50',
      label: 'warm overhead p50 (invocation − bare fetch), IMS',
      short: 'warm overhead p50 (− bare fetch)',
      unit: 'ms',
      a: ims.ours.overheadP50,
      b: ims.baseline.overheadP50,
      chart: false,
      ...ms3,
    }),
  );
  rows.push(
    ratioRow({
      id: 'overhead:p99',
      label: 'warm overhead p99 (invocation − bare fetch), IMS',
      unit: 'ms',
      a: ims.ours.overheadP99,
      b: ims.baseline.overheadP99,
      chart: false,
      ...ms3,
    }),
  );
  rows.push(
    ratioRow({
      id: 'overhead:own',
      label: 'warm overhead p50 above its own HTTP client (both: − http.request)',
      short: 'warm overhead p50 (− its own HTTP client)',
      unit: 'ms',
      a: ims.ours.invoke.p50 - ims.ours.bareHttp.p50,
      b: ims.baseline.invoke.p50 - ims.baseline.bareHttp.p50,
      target: TARGETS.overhead,
      ...ms3,
    }),
  );
  rows.push(
    ratioRow({
      id: 'overhead:silent',
      label: 'warm overhead p50, ours with LOG_LEVEL=silent',
      unit: 'ms',
      a: ims.oursSilent.invoke.p50 - ims.oursSilent.bareHttp.p50,
      b: ims.baseline.invoke.p50 - ims.baseline.bareHttp.p50,
      chart: false,
      ...ms3,
    }),
  );
  rows.push(
    ratioRow({
      id: 'cache:rps',
      label: 'CAMS warm requests/s (A: token cache hits; B: vendor call each)',
      unit: 'req/s',
      a: cams.ours.perSecond,
      b: cams.baseline.perSecond,
      chart: false,
      digits: 0,
      note: 'higher is better',
    }),
  );
  rows.push(
    ratioRow({
      id: 'cache:p50',
      label: 'CAMS warm latency p50 (A: from memory)',
      short: 'CAMS warm latency p50 (A: from cache)',
      unit: 'ms',
      a: cams.ours.latency.p50,
      b: cams.baseline.latency.p50,
      ...ms3,
    }),
  );
  rows.push(
    ratioRow({
      id: 'cache:p99',
      label: 'CAMS warm latency p99 (A: from memory)',
      unit: 'ms',
      a: cams.ours.latency.p99,
      b: cams.baseline.latency.p99,
      chart: false,
      ...ms3,
    }),
  );
  if (cams.oursTableHit) {
    for (const p of ['p50', 'p99']) {
      rows.push(
        ratioRow({
          id: `tableHit:${p}`,
          label: `CAMS warm latency ${p}, ours served from the token table (memory off)`,
          unit: 'ms',
          a: cams.oursTableHit.latency[p],
          chart: false,
          ...ms3,
        }),
      );
    }
  }
  rows.push(
    ratioRow({
      id: 'rss:ims',
      label: 'peak RSS, warm IMS instance',
      unit: 'MB',
      a: ims.memory.ours.maxRssBytes / MB,
      b: ims.memory.baseline.maxRssBytes / MB,
    }),
  );
  rows.push(
    ratioRow({
      id: 'rss:cams',
      label: 'peak RSS, warm CAMS instance',
      unit: 'MB',
      a: cams.memory.ours.maxRssBytes / MB,
      b: cams.memory.baseline.maxRssBytes / MB,
    }),
  );
  rows.push(
    ratioRow({
      id: 'heap:ims',
      label: 'heap used, warm IMS instance',
      unit: 'MB',
      a: ims.memory.ours.heapUsed / MB,
      b: ims.memory.baseline.heapUsed / MB,
      chart: false,
    }),
  );
  return rows;
}

const verdict = (row, run) => {
  if (!row.target) return '';
  if (run.smoke) return 'not judged';
  return row.met ? 'met' : 'MISSED';
};
const ratioText = (row) => (row.ratio === undefined ? '—' : row.ratio.toFixed(row.ratio >= 10 ? 1 : 3));

export function renderConsole(rows, run) {
  const header = ['metric', 'unit', 'ours (A)', 'baseline (B)', 'A/B', 'target', 'verdict'];
  const body = rows.map((r) => [r.label, r.unit, r.aText, r.bText, ratioText(r), r.target?.text ?? r.note ?? '', verdict(r, run)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((line) => line[i].length)));
  const line = (cells) => cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const title = `cloud-token-broker bench${run.smoke ? ' (smoke: too few iterations to mean anything)' : ''} — ${run.machine.cpu}, ${run.machine.cores} cores, node ${run.machine.node}`;
  return [title, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function markdownTable(rows, run) {
  const esc = (s) => String(s).replaceAll('|', '\\|');
  const lines = ['| metric | unit | ours (A) | baseline (B) | A/B | target | verdict |', '|---|---|--:|--:|--:|---|---|'];
  for (const r of rows) {
    const v = verdict(r, run);
    lines.push(
      `| ${esc(r.label.trim().startsWith('of which') ? `&nbsp;&nbsp;${r.label.trim()}` : r.label)} | ${r.unit} | ${r.aText} | ${r.bText} | ${ratioText(r)} | ${r.target?.text ?? r.note ?? ''} | ${v === 'MISSED' ? '**missed**' : v} |`,
    );
  }
  return lines.join('\n');
}

function packageTable(rows, total, limit = 12) {
  const lines = ['| package | KB | share |', '|---|--:|--:|'];
  for (const r of rows.slice(0, limit))
    lines.push(`| ${r.name} | ${(r.bytes / KB).toFixed(1)} | ${((100 * r.bytes) / total).toFixed(1)} % |`);
  const rest = rows.slice(limit).reduce((sum, r) => sum + r.bytes, 0);
  if (rest > 0) lines.push(`| (${rows.length - limit} more) | ${(rest / KB).toFixed(1)} | ${((100 * rest) / total).toFixed(1)} % |`);
  return lines.join('\n');
}

/** Two sides' rows side by side: label, A, B (the union of each side's top rows). */
function sideBySide(a, b, { value, unit, limit = 14, digits = 1 }) {
  const names = [...new Set([...a.slice(0, limit), ...b.slice(0, limit)].map((r) => r.name))];
  const of = (rows, name) => rows.find((r) => r.name === name)?.[value];
  const rows = names
    .map((name) => ({ name, a: of(a, name) ?? 0, b: of(b, name) ?? 0 }))
    .sort((x, y) => Math.max(y.a, y.b) - Math.max(x.a, x.b));
  const lines = [`| where (by source of the running function) | ours (${unit}) | baseline (${unit}) |`, '|---|--:|--:|'];
  for (const r of rows) lines.push(`| ${r.name} | ${r.a.toFixed(digits)} | ${r.b.toFixed(digits)} |`);
  const total = (rowsOf) => rowsOf.reduce((sum, r) => sum + r[value], 0);
  lines.push(`| **all, (idle) excluded** | **${total(a).toFixed(digits)}** | **${total(b).toFixed(digits)}** |`);
  return lines.join('\n');
}

export function renderMarkdown(rows, run, results, analysis, notes) {
  const m = run.machine;
  const judged = rows.filter((r) => r.target);
  const out = [
    '# Benchmarks: ours vs. the official Alibaba Cloud SDK',
    '',
    run.smoke ? '> **Smoke run**: a handful of iterations; the figures mean nothing and no target is judged.\n' : '',
    `- **Date**: ${run.date}`,
    `- **Command**: \`${run.command}\` (took ${run.durationS.toFixed(0)} s)`,
    `- **Machine**: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB.toFixed(1)} GiB RAM, ${m.os}, Node ${m.node}`,
    run.load
      ? `- **Load** (\`uptime\` load averages, 1/5/15 min): ${run.load.start.map((l) => l.toFixed(2)).join(', ')} at the start, ${run.load.end.map((l) => l.toFixed(2)).join(', ')} at the end, on ${m.cores} cores: other work was running, so every absolute figure is inflated; A and B alternate, so the ratios are what to read.`
      : '',
    `- **Iterations**: cold start ${run.plan.coldRuns} processes per side and function (and as many bare \`node -e 0\`), rotating order; warm IMS ${run.plan.batches} × ${run.plan.batchSize} = ${run.plan.batches * run.plan.batchSize} invocations per side after ${run.plan.warmup} warm-up, each followed by a bare fetch; warm CAMS ${run.plan.batches} × ${run.plan.cacheBatchSize} = ${run.plan.batches * run.plan.cacheBatchSize} invocations per side. Batches alternate A and B.`,
    '',
    '**A** is ours (`functions/*`, built by `scripts/build.mjs`). **B** is the baseline a team would write instead',
    '(`bench/baseline/*`): Powertools Parameters `getParameter` (decrypt, JSON, `maxAge` 300 s) for the keys and the',
    'official SDK clients (`@alicloud/cams20200606` on `@alicloud/openapi-client`, `@alicloud/ims20190815` on',
    '`@alicloud/openapi-core`) with their default signing (ACS3-HMAC-SHA256), built the same way. Both run against the',
    'same vendor simulator and fake SSM (`sim/`) on loopback, each side in its own process.',
    '',
    '## Results',
    '',
    markdownTable(rows, run),
    '',
    '![Ratios ours / baseline](ratios.svg)',
    '',
    run.smoke
      ? ''
      : `**Targets**: ${judged.filter((r) => r.met).length} of ${judged.length} met${
          judged.some((r) => !r.met)
            ? `; missed: ${judged
                .filter((r) => !r.met)
                .map((r) => r.label)
                .join('; ')}`
            : ''
        }.`,
    '',
    '## How it is measured',
    '',
    '- **Bundle**: minified ESM bundle of each function (`buildFunction` of `scripts/build.mjs`, the same options and plugins for both sides, code splitting included), and its part that is not the AWS SDK (`nonAwsBytes`: everything but `@aws-sdk/*`, `@smithy/*`, `@aws-crypto/*`, `bowser`; Powertools, middy, zod and the Alibaba SDK count as non-AWS). Each bundle is `index.mjs` and chunks: what is loaded with `import()` is in chunks loaded on first use. The "bundle" and "non-AWS-SDK part" rows count the whole bundle, every file the zip ships; "loaded at cold start" counts `index.mjs` and the chunks it imports statically, what a cold start parses.',
    '- **Cold start**: a fresh `node --input-type=module -e …` imports the bundle and answers one API Gateway 2.0 event (built by the runner with `sim/lambda-events.ts`, as the tests build theirs): key read from the fake SSM, one vendor call to the simulator. The time runs from `spawn` to the answer arriving on the child\'s fd 3, minus the median of `node -e 0` (spawn to exit) measured in the same rounds. The "of which" rows are measured inside the child. These rows run without `TOKEN_TABLE`, like for like with the baseline, which has no table. The token-table rows (ours only) run with the local table (dynalite, `sim/local-table.ts`): "served from the token table" finds credentials another instance wrote (no SSM read, no vendor call); "miss" reads the table, takes the lease, reads the key, calls the vendor and writes the token. Token items are sealed as deployed, with data keys from the fake KMS (`sim/fake-kms.ts`): a hit on a fresh instance includes one `Decrypt`, a miss one `GenerateDataKey`.',
    '- **Warm overhead**: a long-lived child per side (`bench/worker.mjs`) invokes IMS `ProvisionExternalApplication` with a fresh `appId` each time, so both sides make exactly one vendor call per invocation (ours does not cache IMS). After each invocation the same child sends a bare `fetch` and a bare `http.request` (global keep-alive agent): the same IMS request, signed before the clock starts. Both sides now send with `node:http`, so the row "above its own HTTP client" subtracts the bare `http.request` on both sides; "− bare fetch" is kept for comparison with earlier runs.',
    '- **CAMS warm**: the same `custSpaceId` over and over: ours answers from its token memory, the baseline calls the vendor every time (the real vendor would throttle it at 5 req/s). Requests/s is sequential, one instance. The "served from the token table" rows run ours with `TOKEN_MEMORY_ENTRIES=0`: every request reads the table.',
    '- **Memory**: `process.resourceUsage().maxRSS` and `process.memoryUsage().heapUsed` of each warm child after its runs (the child harness is the same on both sides).',
    '- Ours runs with `LOG_LEVEL=info`, as deployed: one audit record per request on stdout, drained by the runner. The baseline does not log.',
  ];
  if (analysis) {
    const s = results.sizes;
    out.push(
      '',
      '## Where the bytes go (esbuild metafile)',
      '',
      `Ours, \`cams-get-upload-authorization\` (${(s.ours['cams-get-upload-authorization'].bytes / KB).toFixed(1)} KB):`,
      '',
      packageTable(analysis.bytes.ours, s.ours['cams-get-upload-authorization'].bytes),
      '',
      `Baseline, \`cams-get-upload-authorization\` (${(s.baseline['cams-get-upload-authorization'].bytes / KB).toFixed(1)} KB):`,
      '',
      packageTable(analysis.bytes.baselineCams, s.baseline['cams-get-upload-authorization'].bytes),
      '',
      `Baseline, \`ims-provision-external-application\` (${(s.baseline['ims-provision-external-application'].bytes / KB).toFixed(1)} KB):`,
      '',
      packageTable(analysis.bytes.baselineIms, s.baseline['ims-provision-external-application'].bytes),
      '',
      '## Where the cold-start time goes (`node --cpu-prof`, IMS)',
      '',
      `Self time per cold start, mean of ${run.plan.profileRuns} profiled processes per side (the profiler slows everything down, so compare the two columns rather than with the table above). Samples are attributed through the bundle's source map to the package that defines the running function, and split by the child's own clock into the import of the bundle and the first invocation. Node's own built-in modules are grouped ("node: …"); "(program)" is V8/native work outside JavaScript.`,
      '',
      '**Import of the bundle:**',
      '',
      sideBySide(analysis.cpu.ours.phases.import, analysis.cpu.baseline.phases.import, { value: 'ms', unit: 'ms' }),
      '',
      '**First invocation** (key read from SSM, one vendor call):',
      '',
      sideBySide(analysis.cpu.ours.phases.invoke, analysis.cpu.baseline.phases.invoke, { value: 'ms', unit: 'ms' }),
      '',
      '## Where the warm time goes (`node --cpu-prof`, IMS)',
      '',
      `CPU self time per warm invocation, from ${run.plan.profileWarmCalls} profiled invocations per side after ${run.plan.warmup} warm-up (the simulator runs in another process, so waiting for it is idle time and left out). Files of ours are named one by one.`,
      '',
      sideBySide(analysis.warm.ours.rows, analysis.warm.baseline.rows, { value: 'us', unit: 'µs', limit: 16, digits: 0 }),
    );
  }
  if (notes.trim()) out.push('', notes.trim());
  return `${out.filter((line, i, all) => !(line === '' && all[i - 1] === '')).join('\n')}\n`;
}

/** A horizontal bar chart of the ratios, with the 1.0 line and each row's target. */
export function renderSvg(rows, run) {
  const bars = rows.filter((r) => r.chart);
  const labelWidth = 330;
  const plotWidth = 440;
  const rowHeight = 26;
  const top = 74;
  const width = labelWidth + plotWidth + 90;
  const height = top + bars.length * rowHeight + 56;
  const maxRatio = Math.min(3, Math.max(1.25, ...bars.map((b) => b.ratio * 1.05)));
  const x = (ratio) => labelWidth + (Math.max(0, Math.min(ratio, maxRatio)) / maxRatio) * plotWidth;
  const esc = (s) => String(s).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">ours / baseline (official Alibaba SDK): lower is better${run.smoke ? ' — smoke run' : ''}</text>`,
    `<text x="${width / 2}" y="40" text-anchor="middle" fill="#555">${esc(`${run.machine.cpu}, ${run.machine.cores} cores, node ${run.machine.node}, ${run.date.slice(0, 10)}`)}</text>`,
  ];
  for (let tick = 0; tick <= maxRatio + 1e-9; tick += maxRatio > 2 ? 0.5 : 0.25) {
    parts.push(`<line x1="${x(tick)}" y1="${top - 4}" x2="${x(tick)}" y2="${top + bars.length * rowHeight}" stroke="#e6e6e6"/>`);
    parts.push(
      `<text x="${x(tick)}" y="${top + bars.length * rowHeight + 16}" text-anchor="middle" fill="#555" font-size="11">${tick.toFixed(2)}</text>`,
    );
  }
  bars.forEach((bar, i) => {
    const y = top + i * rowHeight;
    const good = bar.target ? bar.met : bar.ratio <= 1;
    const fill = bar.target ? (good ? '#2e7d32' : '#c62828') : '#607d8b';
    parts.push(`<text x="${labelWidth - 8}" y="${y + 17}" text-anchor="end">${esc(bar.short)}</text>`);
    parts.push(
      `<rect x="${labelWidth}" y="${y + 5}" width="${Math.max(1, x(bar.ratio) - labelWidth)}" height="${rowHeight - 10}" fill="${fill}" opacity="0.85"/>`,
    );
    parts.push(`<text x="${x(bar.ratio) + 5}" y="${y + 17}" fill="#222">${bar.ratio > maxRatio ? '▶ ' : ''}${bar.ratio.toFixed(2)}</text>`);
    if (bar.target?.max !== undefined) {
      parts.push(
        `<line x1="${x(bar.target.max)}" y1="${y + 1}" x2="${x(bar.target.max)}" y2="${y + rowHeight - 1}" stroke="#ff8f00" stroke-width="3"/>`,
      );
    }
  });
  parts.push(
    `<line x1="${x(1)}" y1="${top - 8}" x2="${x(1)}" y2="${top + bars.length * rowHeight}" stroke="#000" stroke-width="1.5" stroke-dasharray="5,3"/>`,
  );
  parts.push(`<text x="${x(1)}" y="${top - 12}" text-anchor="middle" font-size="11">1.0 = same as baseline</text>`);
  const legendY = height - 14;
  parts.push(
    `<rect x="${labelWidth}" y="${legendY - 10}" width="12" height="12" fill="#2e7d32"/><text x="${labelWidth + 16}" y="${legendY}">target met</text>`,
  );
  parts.push(
    `<rect x="${labelWidth + 100}" y="${legendY - 10}" width="12" height="12" fill="#c62828"/><text x="${labelWidth + 116}" y="${legendY}">target missed</text>`,
  );
  parts.push(
    `<rect x="${labelWidth + 220}" y="${legendY - 10}" width="12" height="12" fill="#607d8b"/><text x="${labelWidth + 236}" y="${legendY}">no target</text>`,
  );
  parts.push(
    `<line x1="${labelWidth + 320}" y1="${legendY - 11}" x2="${labelWidth + 320}" y2="${legendY + 2}" stroke="#ff8f00" stroke-width="3"/><text x="${labelWidth + 328}" y="${legendY}">target</text>`,
  );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
