// A local osls plugin (listed under `plugins:` in serverless.yml): it makes each function's
// deployment artifact from our own build, so that `osls package` / `osls deploy` ship exactly
// what `npm run build` produces, and nothing else.
//
// For every function in serverless.yml it
//   1. checks that the function's name is a file in functions/ (and that every file there is
//      deployed), that its handler is `index.handler`, and that its `package.artifact` is
//      `.serverless/<name>.zip`;
//   2. bundles functions/<name>.ts with scripts/build.mjs's buildFunction → dist/<name>/index.mjs
//      and dist/<name>/chunks/*.mjs (exactly what `npm run build` writes);
//   3. writes `.serverless/<name>.zip` holding those files under the same names: `index.mjs` and
//      `chunks/<chunk>.mjs` (the chunks the entry imports, statically or with `import()`).
// osls then finds the artifact in place and uses it as is (it zips nothing itself).
//
// It runs after osls's `package:cleanup` (which empties .serverless/) and before osls checks
// the artifacts, and again before `osls deploy function -f <name>` repackages one function.
// It never touches the network: esbuild and node:zlib only.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { deflateRawSync } from 'node:zlib';

const HANDLER = 'index.handler';
const DEPLOY_DIR = '.serverless';
/** Where `osls offline` gets its zips (and their bundles): not .serverless/, which `osls package` empties. */
const LOCAL_DIR = '.serverless-local';

// ---------------------------------------------------------------------------------------------
// A minimal, deterministic ZIP writer: one or more deflated files, fixed timestamps, no extras.
// ---------------------------------------------------------------------------------------------
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(buffer) {
  let c = 0xffffffff;
  for (let i = 0; i < buffer.length; i++) c = CRC_TABLE[(c ^ buffer[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** 1980-01-01 00:00:00 in MS-DOS format: the same bytes in, the same zip out. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/** @param {{ name: string, data: Buffer }[]} entries */
export function zipEntries(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const compressed = deflateRawSync(data, { level: 9 });
    const crc = crc32(data);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); // local file header signature
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0x0800, 6); // flags: UTF-8 names
    local.writeUInt16LE(8, 8); // method: deflate
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28); // extra length
    locals.push(local, nameBytes, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); // central directory header signature
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: UNIX, 2.0 (so the mode below counts)
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: regular file, rw-r--r--
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);

    offset += local.length + nameBytes.length + compressed.length;
  }
  const centralSize = centrals.reduce((sum, b) => sum + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); // end of central directory signature
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(0, 20);
  return Buffer.concat([...locals, ...centrals, end]);
}

// ---------------------------------------------------------------------------------------------
// The plugin
// ---------------------------------------------------------------------------------------------
export default class PackageArtifacts {
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options ?? {};
    this.log = utils?.log ?? console;
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.packageAll(),
      'before:package:function:package': () => this.packageOne(this.options.function),
      // serverless-offline unpacks each function's artifact and runs it: `npm start` runs what a
      // deploy ships. Built apart from .serverless/, so a concurrent `osls package` cannot wipe it.
      'before:offline:start:init': () => this.packageAll(LOCAL_DIR),
      'before:offline:start': () => this.packageAll(LOCAL_DIR),
    };
  }

  get serviceDir() {
    return this.serverless.serviceDir;
  }

  fail(message) {
    const ServerlessError = this.serverless.classes?.Error ?? Error;
    throw new ServerlessError(`package-artifacts: ${message}`, 'PACKAGE_ARTIFACTS');
  }

  /** Checks the configuration that osls cannot check for us (see the file comment). */
  validate() {
    const { service } = this.serverless;
    const sourceNames = readdirSync(join(this.serviceDir, 'functions'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => basename(f, '.ts'))
      .sort();
    const configured = service.getAllFunctions().sort();
    const missing = sourceNames.filter((n) => !configured.includes(n));
    const unknown = configured.filter((n) => !sourceNames.includes(n));
    if (missing.length) this.fail(`functions/ has ${missing.join(', ')}, which serverless.yml does not deploy.`);
    if (unknown.length) this.fail(`serverless.yml deploys ${unknown.join(', ')}, which has no file in functions/.`);
    for (const name of configured) {
      const fn = service.getFunction(name);
      if (fn.handler !== HANDLER) this.fail(`function ${name}: handler must be "${HANDLER}", not "${fn.handler}".`);
      const expected = join('.serverless', `${name}.zip`);
      const artifact = fn.package?.artifact;
      if (!artifact || relative(this.serviceDir, resolve(this.serviceDir, artifact)) !== expected) {
        this.fail(`function ${name}: package.artifact must be "${expected}", not "${artifact}".`);
      }
    }
  }

  async buildAndZip(name, dir) {
    const { buildFunction } = await import(new URL('./build.mjs', import.meta.url).href);
    // The same call as `npm run build`: dist/<name>/ (or $BUILD_OUT/<name>/).
    const built = dir === DEPLOY_DIR ? await buildFunction(name) : await buildFunction(name, join(this.serviceDir, dir, 'dist', name));
    const zipPath = join(this.serviceDir, dir, `${name}.zip`);
    mkdirSync(dirname(zipPath), { recursive: true });
    // Every file of the build, index.mjs first (not meta.json), by its path under dist/<name>/ with `/`.
    const zip = zipEntries(built.files.map((file) => ({ name: file.split(sep).join('/'), data: readFileSync(join(built.outDir, file)) })));
    writeFileSync(zipPath, zip);
    this.serverless.service.getFunction(name).package.artifact = zipPath;
    return { name, files: built.files.length, entryBytes: built.entryBytes, bundleBytes: built.bytes, zipBytes: zip.length };
  }

  async packageAll(dir = DEPLOY_DIR) {
    this.validate();
    const results = [];
    for (const name of this.serverless.service.getAllFunctions().sort()) results.push(await this.buildAndZip(name, dir));
    for (const r of results) {
      this.log.info(
        `package-artifacts: ${r.name}.zip (index.mjs ${(r.entryBytes / 1024).toFixed(0)} KB and ${r.files - 1} chunks, ${(r.bundleBytes / 1024).toFixed(0)} KB in all, zip ${(r.zipBytes / 1024).toFixed(0)} KB)`,
      );
    }
  }

  async packageOne(name) {
    if (!name) return;
    this.validate();
    await this.buildAndZip(name, DEPLOY_DIR);
  }
}
