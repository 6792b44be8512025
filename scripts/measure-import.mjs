#!/usr/bin/env node
// Time to import each built bundle in a fresh `node` process, above a bare `node -e 0`.
// Runs the two alternately so machine noise hits both alike. Build first: npm run build.
//   node scripts/measure-import.mjs [runs=20]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { functionNames } from './build.mjs';

const root = new URL('..', import.meta.url).pathname;
const runs = Number(process.argv[2] ?? 20);

function timeNode(args) {
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, args, { stdio: 'ignore' });
  if (child.status !== 0) throw new Error(`node ${args.join(' ')} exited ${child.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`import time above a bare node start, median of ${runs} runs (ms)`);
for (const name of functionNames) {
  const bundle = join(root, 'dist', name, 'index.mjs');
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build first`);
  const bare = [];
  const withImport = [];
  for (let i = 0; i < runs; i++) {
    bare.push(timeNode(['-e', '0']));
    withImport.push(timeNode(['--input-type=module', '-e', `await import(${JSON.stringify(bundle)})`]));
  }
  console.log(`${name.padEnd(38)} ${(median(withImport) - median(bare)).toFixed(1).padStart(6)}   (bare node ${median(bare).toFixed(1)})`);
}
