// Where the bytes and the cold-start time go: bytes per package from esbuild's metafile, and
// CPU time per package from `node --cpu-prof` profiles of cold starts, mapped back to the
// sources through the bundle's source map (node:module SourceMap).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { lambdaBuildOptions } from '../scripts/build.mjs';

/** A source path → the package (or project folder) it belongs to. The AWS SDK is grouped by scope. */
export function packageOf(path, detail = false) {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path.slice(path.lastIndexOf('node_modules/')));
  if (match) {
    const name = match[1];
    if (/^@(aws-sdk|smithy|aws-crypto)\//.test(name)) return `${name.split('/')[0]}/*`;
    return name;
  }
  if (/(^|\/)lib\//.test(path)) return detail ? path.slice(path.search(/(^|\/)lib\//)).replace(/^\//, '') : 'lib/ (ours)';
  if (/(^|\/)functions\//.test(path)) return 'functions/ (ours)';
  if (/(^|\/)bench\/baseline\//.test(path)) return detail ? path.slice(path.search(/bench\/baseline\//)) : 'bench/baseline/';
  return path;
}

/** Bytes per package in the whole bundle (the entry and every chunk), largest first. */
export function bytesByPackage(metafile) {
  const totals = new Map();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs ?? {})) {
      const pkg = packageOf(input);
      totals.set(pkg, (totals.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/**
 * The same build as scripts/build.mjs's buildFunction into `outDir`, plus an external source map
 * per output file (the entry's and each chunk's); resolves to the entry's path.
 */
export async function buildWithSourceMap(entry, outDir) {
  rmSync(outDir, { recursive: true, force: true });
  await build(lambdaBuildOptions(entry, outDir, { sourcemap: 'external', metafile: false }));
  return join(outDir, 'index.mjs');
}

function nodeLabel(url) {
  if (url.includes('deps/undici') || url.includes('internal/webstreams')) return 'node: undici (fetch)';
  if (/node:internal\/(abort_controller|event_target|worker\/js_transferable)/.test(url)) return 'node: AbortSignal';
  if (/node:internal\/(modules|vm)|node:internal\/process\/execution|node:module/.test(url)) return 'node: module loader';
  if (/node:(_http|http|https|internal\/http)/.test(url)) return 'node: http';
  if (/node:(crypto|internal\/crypto)/.test(url)) return 'node: crypto';
  if (/node:(net|dns|stream|internal\/(net|dns|stream|streams))/.test(url)) return 'node: net & streams';
  return 'node: other internals';
}

/**
 * Labels a profile sample's frame: through the source map of the bundle's file it runs in (the
 * entry or one of its chunks) to the package (or, with `detail`, the file of ours) that defines the
 * running function; Node's own modules by area. Native frames (a socket or stdout write, say) are
 * charged to the JavaScript that called them: the nearest caller that is not part of Node itself,
 * else the nearest one.
 */
function labeller(bundleFile, detail) {
  const bundleDirUrl = pathToFileURL(`${dirname(bundleFile)}/`).href;
  /** A file of the bundle → its source map, read on first use (undefined: none). */
  const maps = new Map();
  const sourceMapOf = (url) => {
    if (!maps.has(url)) {
      const file = fileURLToPath(url);
      maps.set(url, existsSync(`${file}.map`) ? { file, map: new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8'))) } : undefined);
    }
    return maps.get(url);
  };
  const cache = new Map();
  const frameLabel = (frame) => {
    const key = `${frame.url}:${frame.lineNumber}:${frame.columnNumber}:${frame.functionName}`;
    let label = cache.get(key);
    if (label !== undefined) return label;
    const own = frame.url.startsWith(bundleDirUrl) ? sourceMapOf(frame.url.split('?')[0]) : undefined;
    if (own) {
      const source = own.map.findEntry(frame.lineNumber, frame.columnNumber)?.originalSource;
      label = source ? packageOf(resolve(dirname(own.file), source), detail) : 'bundle top level (ESM module bodies)';
    } else if (frame.url.startsWith('node:')) label = nodeLabel(frame.url);
    else if (frame.url.startsWith('wasm:')) label = 'node: undici (fetch)';
    else if (frame.url === '') label = frame.functionName.startsWith('(') ? frame.functionName : '';
    else if (frame.url.includes('[eval') || /\/bench\/(worker\.mjs|\.out\/events\.mjs)$/.test(frame.url)) label = 'bench harness';
    else label = frame.url;
    cache.set(key, label);
    return label;
  };
  /** The label of a profile node, given the profile's nodes by id and their parents. */
  return (node, byId, parents) => {
    const own = frameLabel(node.callFrame);
    if (own !== '') return own;
    // The nearest caller outside Node's own modules (the code that asked for the write), else
    // the nearest caller at all (an undici callback, say).
    let nearest;
    for (let id = parents.get(node.id); id !== undefined; id = parents.get(id)) {
      const caller = frameLabel(byId.get(id).callFrame);
      if (caller === '' || caller.startsWith('(')) continue;
      nearest ??= caller;
      if (!caller.startsWith('node:')) return `${caller} (native)`;
    }
    return nearest ? `${nearest} (native)` : 'native code';
  };
}

function indexProfile(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  return { byId, parents };
}

/**
 * Self time (ms) per package and phase over every profile in `dir`. The phases come from
 * the child's own report (monotonic µs, the clock V8's profiler uses): node start before the
 * harness code runs, import of the bundle, first invocation.
 */
function selfTimeByPackage(dir, bundleFile, phasesByPid) {
  const totals = { start: new Map(), import: new Map(), invoke: new Map() };
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const labelOf = labeller(bundleFile, false);
  for (const file of files) {
    const pid = Number(/\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(file)?.[1]);
    const phases = phasesByPid.get(pid);
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const { byId, parents } = indexProfile(profile);
    let at = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      at += profile.timeDeltas[i] ?? 0;
      const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
      const phase = !phases || at < phases.startUs ? 'start' : at < phases.importedUs ? 'import' : 'invoke';
      const label = labelOf(byId.get(profile.samples[i]), byId, parents);
      totals[phase].set(label, (totals[phase].get(label) ?? 0) + ms);
    }
  }
  const table = (map) =>
    [...map]
      .map(([name, ms]) => ({ name, ms: ms / files.length }))
      .filter((row) => row.name !== '(idle)')
      .sort((a, b) => b.ms - a.ms);
  return { start: table(totals.start), import: table(totals.import), invoke: table(totals.invoke) };
}

/**
 * Profiles `runs` cold starts (IMS, one vendor call each; `eventFor(appId)` builds the event) per
 * side with `node --cpu-prof` and returns the mean self time per package per cold start, and the
 * mean profiled time.
 */
export async function profileColdStarts({ outDir, runs, entries, coldCode, timeProcess, env, eventFor }) {
  rmSync(outDir, { recursive: true, force: true });
  const sides = Object.entries(entries).map(([side, entry]) => {
    const dir = join(outDir, side);
    return { side, entry, bundleDir: join(dir, 'bundle'), profiles: join(dir, 'profiles'), phasesByPid: new Map() };
  });
  for (const s of sides) {
    mkdirSync(s.profiles, { recursive: true });
    s.outfile = await buildWithSourceMap(s.entry, s.bundleDir);
  }
  // Sides alternate, so background noise hits both alike.
  for (let i = 0; i < runs; i++) {
    for (const s of i % 2 === 0 ? sides : [...sides].reverse()) {
      const code = coldCode(s.outfile, eventFor(`profile-${s.side}-${i}-${Date.now()}`));
      const { report } = await timeProcess(
        ['--cpu-prof', `--cpu-prof-dir=${s.profiles}`, '--cpu-prof-interval=250', '--input-type=module', '-e', code],
        env,
      );
      s.phasesByPid.set(report.pid, report);
    }
  }
  const out = {};
  for (const s of sides) {
    const phases = selfTimeByPackage(s.profiles, s.outfile, s.phasesByPid);
    const total = (rows) => rows.reduce((sum, row) => sum + row.ms, 0);
    out[s.side] = {
      phases,
      totalMs: { start: total(phases.start), import: total(phases.import), invoke: total(phases.invoke) },
    };
  }
  return out;
}

/**
 * Self time per label (µs per invocation) of the samples a warm worker's profile took inside
 * `windows` (its measured batches, `{startUs, endUs}`, `n` invocations in all); files of ours by name.
 */
export function warmSelfTime(dir, bundleFile, windows, n) {
  const totals = new Map();
  const labelOf = labeller(bundleFile, true);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const { byId, parents } = indexProfile(profile);
    let at = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      at += profile.timeDeltas[i] ?? 0;
      if (!windows.some((w) => at >= w.startUs && at <= w.endUs)) continue;
      const label = labelOf(byId.get(profile.samples[i]), byId, parents);
      totals.set(label, (totals.get(label) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
    }
  }
  const rows = [...totals]
    .map(([name, us]) => ({ name, us: us / n }))
    .filter((row) => row.name !== '(idle)')
    .sort((a, b) => b.us - a.us);
  return { rows, totalUs: rows.reduce((sum, row) => sum + row.us, 0) };
}
