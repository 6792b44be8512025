// scripts/build.mjs: each function is an entry (index.mjs) and chunks; what is loaded with
// `import()` is in chunks of its own, loaded on first use. Every output file carries the
// createRequire banner, so code in a chunk that calls require() works as it does in the entry.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOperations } from '../../lib/operations/index.js';
import { loadRotations } from '../../lib/rotation/index.js';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'ctb-build-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Built {
  outDir: string;
  outfile: string;
  files: string[];
  cold: string[];
  bytes: number;
  entryBytes: number;
  coldBytes: number;
  nonAwsBytes: number;
}
const { buildFunction, bundleFiles, lambdaBuildOptions, nonAwsBytes } = (await import(
  pathToFileURL(join(root, 'scripts', 'build.mjs')).href
)) as {
  buildFunction(name: string, outDir: string, entry?: string): Promise<Built>;
  bundleFiles(metafile: unknown, outDir: string): Pick<Built, 'files' | 'cold' | 'bytes' | 'entryBytes' | 'coldBytes'>;
  lambdaBuildOptions(entry: string, outDir: string, extra?: Record<string, unknown>): Parameters<typeof build>[0];
  nonAwsBytes(metafile: unknown, outputPaths?: string[], outDir?: string): number;
};

/** Runs `handler()` of the bundle at `entry` in a fresh node and answers what it printed. */
async function runHandler(entry: string): Promise<string> {
  const code = `const { handler } = await import(${JSON.stringify(pathToFileURL(entry).href)}); console.log(JSON.stringify(await handler()));`;
  const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', code]);
  return stdout.trim();
}

describe('scripts/build.mjs: code splitting', () => {
  it('a chunk that calls require() works, and its banner does not clash with the entry’s', async () => {
    const outDir = join(scratch, 'require-out');
    // A CommonJS module, loaded lazily, that requires a Node built-in at run time; the entry
    // requires another itself, so both files need (and declare) `require`.
    for (const [file, text] of Object.entries({
      'lazy.cjs': "module.exports = { cpus: () => require('node:os').cpus().length > 0, sep: require('node:path').sep };",
      'eager.cjs': "module.exports = { base: require('node:path').basename('/a/b.txt') };",
      'entry.mjs':
        "import eager from './eager.cjs';\nexport async function handler() {\n  const lazy = (await import('./lazy.cjs')).default;\n  return { eager: eager.base, cpus: lazy.cpus(), sep: lazy.sep };\n}\n",
    })) {
      writeFileSync(join(scratch, file), text);
    }
    const result = await build(lambdaBuildOptions(join(scratch, 'entry.mjs'), outDir));
    const { files, cold } = bundleFiles(result.metafile, outDir);
    expect(files[0]).toBe('index.mjs');
    const lazyChunk = files.find((f) => f.startsWith('chunks/lazy-'));
    expect(lazyChunk, files.join(', ')).toBeDefined();
    expect(cold).not.toContain(lazyChunk);
    for (const file of files) {
      expect(
        readFileSync(join(outDir, file), 'utf8').startsWith("import{createRequire as __cr}from'node:module';const require=__cr("),
        file,
      ).toBe(true);
    }
    // The lazy chunk's own code calls require: through esbuild's __require, which lives in a shared
    // chunk and calls that chunk's own `require`, from its banner.
    expect(readFileSync(join(outDir, lazyChunk!), 'utf8')).toMatch(/\("node:os"\)/);
    expect(JSON.parse(await runHandler(join(outDir, 'index.mjs')))).toEqual({ eager: 'b.txt', cpus: true, sep: '/' });
  });

  it('IMS: the KMS and SQS clients are in chunks loaded with import(); the sizes add up', async () => {
    const outDir = join(scratch, 'ims');
    const built = await buildFunction('ims-provision-external-application', outDir);
    const size = (file: string) => statSync(join(outDir, file)).size;
    expect(built.outfile).toBe(join(outDir, 'index.mjs'));
    expect(built.files[0]).toBe('index.mjs');
    expect(built.files.slice(1).every((f) => /^chunks\/[\w-]+\.mjs$/.test(f))).toBe(true);
    expect(built.cold[0]).toBe('index.mjs');
    expect(built.entryBytes).toBe(size('index.mjs'));
    expect(built.bytes).toBe(built.files.reduce((sum, f) => sum + size(f), 0));
    expect(built.coldBytes).toBe(built.cold.reduce((sum, f) => sum + size(f), 0));
    expect(built.entryBytes).toBeLessThan(built.coldBytes);
    expect(built.coldBytes).toBeLessThan(built.bytes);
    for (const lazy of ['kms-client', 'dead-letter']) {
      const chunk = built.files.find((f) => f.startsWith(`chunks/${lazy}-`));
      expect(chunk, `${lazy}: ${built.files.join(', ')}`).toBeDefined();
      expect(built.cold).not.toContain(chunk);
    }
    // outDir holds what is shipped, no more: a chunk nothing imports (bowser's: esbuild makes it
    // for an import() in code that tree shaking then drops) is deleted.
    expect(
      readdirSync(join(outDir, 'chunks'))
        .map((f) => `chunks/${f}`)
        .sort(),
    ).toEqual(built.files.slice(1));
    expect(built.files.some((f) => f.startsWith('chunks/bowser-'))).toBe(false);
    // nonAwsBytes counts the whole bundle: every output file, not index.mjs alone.
    const meta = JSON.parse(readFileSync(join(outDir, 'meta.json'), 'utf8'));
    expect(Object.keys(meta.outputs).some((path) => path.includes('bowser'))).toBe(false);
    expect(built.nonAwsBytes).toBe(nonAwsBytes(meta, built.files, outDir));
    expect(built.nonAwsBytes).toBe(nonAwsBytes(meta));
    expect(nonAwsBytes(meta, ['index.mjs'], outDir)).toBeLessThan(built.nonAwsBytes);
    // The same sources, the same file names (content hashes).
    const again = await buildFunction('ims-provision-external-application', join(scratch, 'ims-again'));
    expect(again.files).toEqual(built.files);
  });
});

const operations = await loadOperations();

/** What every function ships of lib/vendor/ whatever its vendor. */
const VENDOR_MACHINERY = ['lib/vendor/api.ts', 'lib/vendor/keys.ts', 'lib/vendor/transport.ts'];

describe('scripts/build.mjs: one vendor per bundle', () => {
  it.each(operations.map((op) => [op.functionName, op.vendor]))(
    "%s carries only its own vendor's adapter and signing code (%s), and no registry",
    async (functionName, vendor) => {
      const entry = join(root, 'functions', `${functionName}.ts`);
      const result = await build({ ...lambdaBuildOptions(entry, join(scratch, `vendor-${functionName}`)), write: false });
      const metafile = result.metafile!;
      // What made it into the output, after tree shaking: every file with bytes in some output.
      const shipped = new Set(
        Object.values(metafile.outputs).flatMap((output) =>
          Object.entries(output.inputs)
            .filter(([, input]) => input.bytesInOutput > 0)
            .map(([path]) => path),
        ),
      );
      // What the vendor's own adapter reaches through its imports.
      const own = `lib/vendor/${vendor}.ts`;
      const reached = new Set<string>();
      const visit = (path: string) => {
        if (reached.has(path)) return;
        reached.add(path);
        for (const imported of metafile.inputs[path]?.imports ?? []) visit(imported.path);
      };
      visit(own);
      expect(shipped).toContain(own);
      // lib/vendor/'s shared machinery (defineVendor, key reading, the HTTP transport) ships with
      // every function; everything else of lib/vendor/ (adapters, signers) must be the vendor's own.
      const vendorCode = [...shipped].filter((path) => path.startsWith('lib/vendor/') && !VENDOR_MACHINERY.includes(path));
      expect(vendorCode.length).toBeGreaterThan(1);
      expect(vendorCode.filter((path) => !reached.has(path))).toEqual([]);
      expect(shipped).not.toContain('lib/vendor/index.ts');
      expect(shipped).not.toContain('lib/operations/index.ts');
    },
  );
});

const rotations = await loadRotations();

describe('scripts/build.mjs: a rotation function carries its own vendor only', () => {
  it.each(rotations.map((rotation) => [rotation.functionName, rotation.vendor]))(
    "%s: its vendor's adapter and key API (%s), no other vendor's, no registry",
    async (functionName, vendor) => {
      const entry = join(root, 'functions', `${functionName}.ts`);
      const result = await build({ ...lambdaBuildOptions(entry, join(scratch, `rotation-${functionName}`)), write: false });
      const shipped = new Set(
        Object.values(result.metafile!.outputs).flatMap((output) =>
          Object.entries(output.inputs)
            .filter(([, input]) => input.bytesInOutput > 0)
            .map(([path]) => path),
        ),
      );
      expect(shipped).toContain(`lib/vendor/${vendor}.ts`);
      expect(shipped).toContain(`lib/rotation/vendors/${vendor}.ts`);
      for (const other of rotations.filter((r) => r.vendor !== vendor)) {
        expect(shipped).not.toContain(`lib/vendor/${other.vendor}.ts`);
        expect(shipped).not.toContain(`lib/rotation/vendors/${other.vendor}.ts`);
      }
      for (const registry of ['lib/rotation/index.ts', 'lib/vendor/index.ts', 'lib/operations/index.ts'])
        expect(shipped).not.toContain(registry);
      expect([...shipped].filter((path) => path.startsWith('lib/operations/'))).toEqual([]);
    },
  );
});
