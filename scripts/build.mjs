#!/usr/bin/env node
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
// Bundles each function in functions/ on its own: one minified ESM file per function,
// everything bundled (the AWS SDK included), as Lambda will run it.
//   node scripts/build.mjs            → dist/<function>/index.mjs (+ meta.json)
//   node scripts/build.mjs --report   → also prints bundle sizes and their non-AWS-SDK part
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const outRoot = join(root, process.env.BUILD_OUT ?? 'dist');

export const functionNames = readdirSync(join(root, 'functions'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => basename(f, '.ts'))
  .sort();

/**
 * The part of a bundle that is not the AWS SDK, from esbuild's metafile. bowser counts as
 * SDK: only @aws-sdk/core's user-agent code pulls it in.
 */
export function nonAwsBytes(metafile, outputPath) {
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith(outputPath))?.[1];
  let bytes = 0;
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    if (!/node_modules\/(@(aws-sdk|smithy|aws-crypto)\/|bowser\/)/.test(input)) bytes += bytesInOutput;
  }
  return bytes;
}

/**
 * Lambda gives every function its role's credentials in the environment: the bundles take the
 * SDK's default credential chain from lib/lambda-credentials.ts (the environment only) instead of
 * `@aws-sdk/credential-provider-node`, whose SSO, shared-file, process, web-identity and
 * metadata providers, with the STS, SSO and sign-in clients they bring, never answer there.
 */
const lambdaCredentials = {
  name: 'lambda-credentials',
  setup(build) {
    build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, () => ({ path: join(root, 'lib', 'lambda-credentials.ts') }));
  },
};

/** The esbuild options of every Lambda bundle; the bench builds its variants from them too. */
export function lambdaBuildOptions(entry, outfile, extra = {}) {
  return {
    entryPoints: [entry],
    outfile,
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
    // Some dependencies are CommonJS and call require(); ESM output needs one.
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
    plugins: [lambdaCredentials],
    ...extra,
  };
}

export async function buildFunction(name, outDir = join(outRoot, name), entry = join(root, 'functions', `${name}.ts`), extra = {}) {
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'index.mjs');
  const result = await build(lambdaBuildOptions(entry, outfile, extra));
  writeFileSync(join(outDir, 'meta.json'), JSON.stringify(result.metafile));
  return { name, outfile, bytes: statSync(outfile).size, nonAwsBytes: nonAwsBytes(result.metafile, 'index.mjs') };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = [];
  for (const name of functionNames) results.push(await buildFunction(name));
  if (process.argv.includes('--report')) {
    console.log('function                               bundle (KB)   non-AWS-SDK part (KB)');
    for (const r of results) {
      console.log(`${r.name.padEnd(38)} ${(r.bytes / 1024).toFixed(1).padStart(11)}   ${(r.nonAwsBytes / 1024).toFixed(1).padStart(21)}`);
    }
  } else {
    console.log(`built ${results.length} functions into ${outRoot}`);
  }
}
