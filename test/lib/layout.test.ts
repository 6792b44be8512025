/**
 * The shape of lib/, checked on every import (type imports included). Folders, bottom to top;
 * a folder imports only from folders below it (and from itself):
 *
 *   core/        config, errors, logger, metrics, schema, backoff, case
 *   aws/         SDK clients and their configuration: client-config, ssm-client, ssm-parameter, kms-client, lambda-credentials
 *   access/      who may ask for what: caller, policy, claims, session-policy, session-name, assumed-role, tenant
 *   vendor/      a vendor's side: keys, api (the adapter types), transport, aliyun, tencent, ucloud, signing/
 *   spec/        what an operation is: operation (with its trigger types), openapi
 *   state/       what instances share or hold: token-cache, token-store, token-memory, token-table, token-lease, token-seal, rate-budget, rate-limiter, body-key
 *   runtime/     running an operation: handler, run-operation, vendor-call, credentials, triggers/, middleware/
 *   rotation/    rotating the master keys: api (the vendors' key APIs), steps, run-state, lock, key-parameter, rotate, handler, index (its registry), vendors/
 *   operations/  the registry: one spec per operation (scripts, infra and tests find it there)
 *
 * Also: no import cycle between any two files, no loose file at lib/'s top, every file of
 * test/lib mirrors a file of lib/, and every export of lib/ carries a TSDoc comment.
 *
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** An exported declaration, and its name. */
const EXPORT = /^export (?:declare )?(?:async )?(?:function|const|let|class|abstract class|interface|type|enum) (\w+)/;

const LAYERS = ['core', 'aws', 'access', 'vendor', 'spec', 'state', 'runtime', 'rotation', 'operations'];
/** Files allowed at lib/'s top. */
const MAX_LOOSE = 0;

const root = resolve(new URL('../..', import.meta.url).pathname);
const filesUnder = (dir: string): string[] =>
  readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(dir, file));
const libFiles = filesUnder('lib');

/** Each lib file's relative imports as repository paths (`.js` specifiers name `.ts` sources). */
const imports = new Map(
  libFiles.map((file) => {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
    const local = importedFiles.map((i) => i.fileName).filter((spec) => spec.startsWith('.'));
    return [file, local.map((spec) => relative(root, resolve(root, dirname(file), spec)).replace(/\.js$/, '.ts'))];
  }),
);
const layerOf = (file: string) => LAYERS.indexOf(file.split('/')[1]!);

/** The file cycles of `graph`: its strongly connected parts of more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (file: string) => {
    index.set(file, next);
    low.set(file, next++);
    stack.push(file);
    for (const to of graph.get(file) ?? []) {
      if (!graph.has(to)) continue;
      if (!index.has(to)) visit(to);
      if (stack.includes(to)) low.set(file, Math.min(low.get(file)!, low.get(to)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const part: string[] = [];
    let top: string;
    do {
      top = stack.pop()!;
      part.push(top);
    } while (top !== file);
    if (part.length > 1) found.push(part.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

describe('the layout of lib/', () => {
  it('has every file in a known folder, and at most MAX_LOOSE at its top', () => {
    expect(libFiles.filter((file) => !file.slice('lib/'.length).includes('/')).length).toBeLessThanOrEqual(MAX_LOOSE);
    expect(libFiles.filter((file) => layerOf(file) === -1)).toEqual([]);
  });

  it('imports only from its own folder or folders below it', () => {
    const upward = [...imports].flatMap(([file, targets]) =>
      targets.filter((to) => to.startsWith('lib/') && layerOf(to) > layerOf(file)).map((to) => `${file} -> ${to}`),
    );
    expect(upward).toEqual([]);
  });

  it('has no import cycle between files', () => {
    expect(cycles(imports)).toEqual([]);
  });

  it('finds a cycle when there is one (the check above can fail)', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c']]);
  });

  it('is mirrored by test/lib: each test is named after a lib file in the same folder (`<name>` or `<name>-<aspect>`)', () => {
    const lib = new Set(libFiles.map((file) => file.replace(/\.ts$/, '')));
    const orphans = filesUnder('test/lib').filter((test) => {
      if (test === 'test/lib/layout.test.ts') return false;
      const stem = test.replace(/^test\//, '').replace(/\..*$/, '');
      const parts = stem.split('-');
      return !parts.some((_, i) => lib.has(parts.slice(0, i + 1).join('-')));
    });
    expect(orphans).toEqual([]);
  });

  it('documents every export with a TSDoc comment right above it', () => {
    const undocumented = libFiles.flatMap((file) => {
      const lines = readFileSync(join(root, file), 'utf8').split('\n');
      return lines
        .map((line, i) => ({ line, i }))
        .map(({ line, i }) => ({ line, i, name: EXPORT.exec(line)?.[1] }))
        .filter(({ name }) => name !== undefined)
        .filter(({ i }) => !/\*\/\s*$/.test(lines[i - 1] ?? '') || !documentedAbove(lines, i))
        .map(({ line, i }) => `${file}:${i + 1} ${line.slice(0, 60)}`);
    });
    expect(undocumented).toEqual([]);
  });
});

/** Whether the comment ending right above line `i` opens with `/**`. */
function documentedAbove(lines: string[], i: number): boolean {
  for (let j = i - 1; j >= 0; j--) {
    const line = lines[j]!.trim();
    if (line.startsWith('/**')) return true;
    if (line.startsWith('/*') || line === '' || (!line.startsWith('*') && j !== i - 1)) return false;
  }
  return false;
}
