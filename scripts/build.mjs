#!/usr/bin/env node
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
// Bundles each function in functions/ on its own: one minified ESM entry per function, everything
// bundled (the AWS SDK included), as Lambda will run it, split by esbuild into chunks: whatever is
// loaded with `import()` (the KMS client, IMS's SQS client for dead-lettering, and the dynamic
// imports inside the SDK itself) is in a chunk of its own, parsed only when first imported, and
// code both sides of such an import need is in shared chunks the entry imports statically.
//   node scripts/build.mjs            → dist/<function>/index.mjs, dist/<function>/chunks/*.mjs (+ meta.json)
//   node scripts/build.mjs            → also dist/agent/cloud-token-broker-agent.mjs (buildAgent)
//   node scripts/build.mjs --report   → also prints, per function, the entry, what a cold start
//                                       loads, the whole bundle and its non-AWS-SDK part
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const outRoot = join(root, process.env.BUILD_OUT ?? 'dist');

export const functionNames = readdirSync(join(root, 'functions'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => basename(f, '.ts'))
  .sort();

/** The entry of every function's bundle (the handler is `index.handler`), and where its chunks go. */
export const ENTRY_NAME = 'index.mjs';
export const CHUNK_DIR = 'chunks';

/**
 * The part of a bundle that is not the AWS SDK, from esbuild's metafile: summed over the output
 * files named in `outputPaths` (relative to `outDir`; buildFunction passes every file it ships,
 * entry and chunks), or over every output when absent. bowser counts as SDK: only @aws-sdk/core's
 * user-agent code pulls it in.
 */
export function nonAwsBytes(metafile, outputPaths, outDir = process.cwd()) {
  let bytes = 0;
  for (const [path, output] of Object.entries(metafile.outputs)) {
    if (outputPaths && !outputPaths.includes(relative(outDir, path))) continue;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs ?? {})) {
      if (!/node_modules\/(@(aws-sdk|smithy|aws-crypto)\/|bowser\/)/.test(input)) bytes += bytesInOutput;
    }
  }
  return bytes;
}

/**
 * The files of one function's build, from its metafile, relative to `outDir`:
 * - `files`: the entry first, then every chunk it reaches (imports statically or with `import()`,
 *   directly or through other chunks), sorted: what the zip ships;
 * - `cold`: the entry and the chunks it imports statically: what a cold start loads and parses
 *   before the handler runs (the others load on first use);
 * - `orphans`: chunks nothing imports. esbuild makes a chunk of every `import()` it finds before
 *   tree shaking drops the code that held it (`import("bowser")` in @aws-sdk/core's browser
 *   user-agent code, say), so such a chunk can never load.
 * Sizes in bytes; source maps are left out.
 */
export function bundleFiles(metafile, outDir) {
  // The metafile's paths are relative to esbuild's working directory, this process's.
  const rel = (path) => relative(outDir, path);
  const outputs = Object.fromEntries(
    Object.entries(metafile.outputs)
      .filter(([path]) => !path.endsWith('.map'))
      .map(([path, output]) => [rel(path), output]),
  );
  if (!outputs[ENTRY_NAME]) throw new Error(`the build of ${outDir} wrote no ${ENTRY_NAME}`);
  const reach = (kinds) => {
    const seen = new Set();
    const visit = (file) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const { path, kind, external } of outputs[file].imports) if (!external && kinds.includes(kind)) visit(rel(path));
    };
    visit(ENTRY_NAME);
    return seen;
  };
  const shipped = reach(['import-statement', 'dynamic-import']);
  const cold = reach(['import-statement']);
  const byName = (a, b) => (a === ENTRY_NAME ? -1 : b === ENTRY_NAME ? 1 : a < b ? -1 : 1);
  const files = [...shipped].sort(byName);
  const coldFiles = [...cold].sort(byName);
  const bytes = (list) => list.reduce((sum, file) => sum + outputs[file].bytes, 0);
  return {
    files,
    cold: coldFiles,
    orphans: Object.keys(outputs)
      .filter((f) => !shipped.has(f))
      .sort(),
    bytes: bytes(files),
    entryBytes: bytes([ENTRY_NAME]),
    coldBytes: bytes(coldFiles),
  };
}

/**
 * Lambda gives every function its role's credentials in the environment: the bundles take the
 * SDK's default credential chain from lib/aws/lambda-credentials.ts (the environment only) instead of
 * `@aws-sdk/credential-provider-node`, whose SSO, shared-file, process, web-identity and
 * metadata providers, with the STS, SSO and sign-in clients they bring, never answer there.
 */
const lambdaCredentials = {
  name: 'lambda-credentials',
  setup(build) {
    build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, () => ({
      path: join(root, 'lib', 'aws', 'lambda-credentials.ts'),
    }));
  },
};

/**
 * The esbuild options of every Lambda bundle, written into `outdir` as index.mjs and chunks/; the
 * bench builds its variants (and the baseline) from them too.
 */
export function lambdaBuildOptions(entry, outdir, extra = {}) {
  return {
    entryPoints: [{ in: entry, out: 'index' }],
    outdir,
    outExtension: { '.js': '.mjs' },
    // Each `import()` (and what only it needs) in a chunk of its own, loaded on first use; without
    // it esbuild inlines the imported module into the one file, to be parsed at every cold start.
    splitting: true,
    // Content hashes: the same sources give the same names, and a zip's files never go stale.
    chunkNames: `${CHUNK_DIR}/[name]-[hash]`,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    metafile: true,
    // Prefer packages' ESM builds: esbuild's node default (main first) takes the AWS SDK's
    // CommonJS build, which cannot be tree-shaken (client-ssm alone: 203 KB of every command).
    mainFields: ['module', 'main'],
    legalComments: 'none',
    logLevel: 'warning',
    // Some dependencies are CommonJS and call require(); ESM output needs one. esbuild puts the
    // banner at the top of every output file, the chunks included: each is a module of its own, so
    // each declares its own `require`, bound to its own URL (test/deploy/build.test.ts).
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
    plugins: [lambdaCredentials],
    ...extra,
  };
}

/**
 * Builds one function into `outDir` (emptied first, so no chunk of an earlier build stays behind;
 * chunks nothing imports are deleted): `outfile` is its entry, `files` every file to ship (relative
 * to `outDir`, the entry first), `bytes` all of them, `entryBytes` index.mjs alone, `coldBytes`
 * index.mjs and the chunks it imports statically, `nonAwsBytes` the non-AWS-SDK part of all the
 * files shipped.
 */
export async function buildFunction(name, outDir = join(outRoot, name), entry = join(root, 'functions', `${name}.ts`), extra = {}) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await build(lambdaBuildOptions(entry, outDir, extra));
  const { files, cold, orphans, bytes, entryBytes, coldBytes } = bundleFiles(result.metafile, outDir);
  for (const orphan of orphans) {
    rmSync(join(outDir, orphan), { force: true });
    // meta.json describes what is shipped (the metafile's paths are relative to this process's directory).
    delete result.metafile.outputs[relative(process.cwd(), join(outDir, orphan))];
  }
  writeFileSync(join(outDir, 'meta.json'), JSON.stringify(result.metafile));
  return {
    name,
    outDir,
    outfile: join(outDir, ENTRY_NAME),
    files,
    cold,
    bytes,
    entryBytes,
    coldBytes,
    nonAwsBytes: nonAwsBytes(result.metafile, files, outDir),
  };
}

/** Where the credentials agent's single-file bundle goes, under the build's output root. */
export const AGENT_BUNDLE = join('agent', 'cloud-token-broker-agent.mjs');

/**
 * The credentials agent (agent/main.ts) as one file that runs with plain Node and no
 * node_modules: what a sidecar image copies. No splitting (its dynamic imports are inlined), the
 * AWS SDK's whole default credential chain kept (a task or pod role needs it), not minified so a
 * stack trace stays readable.
 */
export async function buildAgent(outfile = join(outRoot, AGENT_BUNDLE)) {
  rmSync(outfile, { force: true });
  mkdirSync(join(outfile, '..'), { recursive: true });
  await build({
    entryPoints: [join(root, 'agent', 'main.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    mainFields: ['module', 'main'],
    legalComments: 'none',
    logLevel: 'warning',
    banner: { js: "#!/usr/bin/env node\nimport{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = [];
  for (const name of functionNames) results.push(await buildFunction(name));
  const agent = await buildAgent();
  if (process.argv.includes('--report')) {
    // index.mjs: the entry alone; at cold start: the entry and the chunks it imports statically
    // (what every cold start parses); whole bundle: every file of the zip; non-AWS-SDK part: of
    // the whole bundle.
    const kb = (bytes, width) => (bytes / 1024).toFixed(1).padStart(width);
    console.log(
      'function                               index.mjs (KB)   at cold start (KB)   whole bundle (KB)   files   non-AWS-SDK part of the whole (KB)',
    );
    for (const r of results) {
      console.log(
        `${r.name.padEnd(38)} ${kb(r.entryBytes, 14)}   ${kb(r.coldBytes, 18)}   ${kb(r.bytes, 17)}   ${String(r.files.length).padStart(5)}   ${kb(r.nonAwsBytes, 34)}`,
      );
    }
  } else {
    console.log(`built ${results.length} functions into ${outRoot}, and the agent into ${agent}`);
  }
}
