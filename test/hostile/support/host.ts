/**
 * The parent side of function-host.mjs: the deployment bundles, built once per content of
 * functions/, lib/ and the lockfile (under bench/.out/hostile/bundles/, which git ignores), and
 * the host process running them, with everything it prints kept as lines.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { loadOperations } from '../../../lib/operations/index.js';

export const ROOT = new URL('../../../', import.meta.url).pathname;
export const OUT_DIR = join(ROOT, 'bench', '.out', 'hostile');

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** A hash of everything a bundle is built from. */
function sourceHash(): string {
  const hash = createHash('sha256');
  for (const file of [
    ...filesUnder('functions'),
    ...filesUnder('lib'),
    join(ROOT, 'package-lock.json'),
    join(ROOT, 'scripts', 'build.mjs'),
  ]) {
    hash.update(file).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Every function's bundle, as scripts/build.mjs builds it for a deploy (each function on its own,
 * its entry and its chunks in a folder of its own): `{name: path of its index.mjs}`. Built into a
 * fresh directory and renamed into place, so suites running at once never see half a bundle.
 */
export async function functionBundles(): Promise<Record<string, string>> {
  const { functionNames, buildFunction } = (await import(join(ROOT, 'scripts', 'build.mjs'))) as {
    functionNames: string[];
    buildFunction(name: string, outDir: string): Promise<{ outfile: string }>;
  };
  const dir = join(OUT_DIR, 'bundles', sourceHash());
  const paths = Object.fromEntries(functionNames.map((name) => [name, join(dir, name, 'index.mjs')]));
  if (Object.values(paths).every((path) => existsSync(path))) return paths;
  const staging = `${dir}.${randomUUID()}`;
  mkdirSync(staging, { recursive: true });
  await Promise.all(functionNames.map((name) => buildFunction(name, join(staging, name))));
  try {
    renameSync(staging, dir);
  } catch {
    // Another suite put the same bundles in place first.
    rmSync(staging, { recursive: true, force: true });
  }
  return paths;
}

export interface HostOptions {
  /** Environment of the functions (the local world's, plus settings). */
  env: Record<string, string>;
  /** The functions' timeout (the Lambda context's remaining time at the start). Default 10 s, as deployed. */
  timeoutMs?: number;
  /** Only these functions; all when absent. */
  functions?: string[];
  /** Most instances of one function at once (its reserved concurrency); more events wait. Default 4. */
  maxInstances?: number;
}

export interface FunctionHost {
  url: string;
  child: ChildProcess;
  /** Every line the functions printed, stdout and stderr, in order. */
  lines: string[];
  /** The heap in use in the host after full collections, and the part of it that is machine code, in bytes. */
  heap(): Promise<{ heapUsed: number; codeSpace: number }>;
  /** Writes a heap snapshot of the host to `path` (after full collections). */
  snapshot(path: string): Promise<void>;
  /** Instances started so far, per function (each a cold start), and the CPU time the host used. */
  stats(): Promise<{ instances: Record<string, number>; cpuMs: number }>;
  /** Runs a non-HTTP event (SQS) through a function; a failed invocation resolves to `{error}`. */
  invoke(functionName: string, event: unknown, timeoutMs?: number): Promise<{ result?: any; error?: { name: string; message: string } }>;
  close(): Promise<void>;
}

const invokeAgent = new Agent({ keepAlive: true, maxSockets: 16 });

function post(url: string, body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: invokeAgent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export async function startFunctionHost(options: HostOptions): Promise<FunctionHost> {
  const bundles = await functionBundles();
  const operations = await loadOperations();
  const functions = operations
    .filter((op) => options.functions === undefined || options.functions.includes(op.functionName))
    .map((op) => ({ functionName: op.functionName, route: op.route, bundle: bundles[op.functionName] }));
  const child = fork(new URL('./function-host.mjs', import.meta.url).pathname, [], {
    execArgv: [
      '--expose-gc',
      '--trace-warnings',
      ...(process.env.HOSTILE_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.HOSTILE_CPU_PROF}`] : []),
    ],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TZ: 'UTC',
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      ...options.env,
      HOST_FUNCTIONS: JSON.stringify(functions),
      HOST_TIMEOUT_MS: String(options.timeoutMs ?? 10_000),
      HOST_MAX_INSTANCES: String(options.maxInstances ?? 4),
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const lines: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      for (const line of parts) if (line !== '') lines.push(line);
    });
    stream.on('end', () => {
      if (rest !== '') lines.push(rest);
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.on('message', (message: { type?: string; port?: number }) => {
      if (message.type === 'listening') resolve(message.port!);
    });
    child.once('exit', (code) => reject(new Error(`the function host exited (${code}) before it listened:\n${lines.join('\n')}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  let next = 0;
  const ask = (type: string, extra: Record<string, unknown> = {}) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const id = ++next;
      const onMessage = (message: { type?: string; id?: number }) => {
        if (message.type !== type || message.id !== id) return;
        child.off('message', onMessage);
        resolve(message as Record<string, unknown>);
      };
      child.on('message', onMessage);
      child.send({ type, id, ...extra });
    });
  return {
    url,
    child,
    lines,
    heap: async () => {
      const { heapUsed, codeSpace } = await ask('heap');
      return { heapUsed: heapUsed as number, codeSpace: codeSpace as number };
    },
    snapshot: async (path) => {
      await ask('snapshot', { path });
    },
    stats: async () => (await ask('stats')) as unknown as { instances: Record<string, number>; cpuMs: number },
    async invoke(functionName, event, timeoutMs) {
      const answer = await post(`${url}/invoke/${functionName}`, JSON.stringify({ event, timeoutMs }), (timeoutMs ?? 10_000) + 5_000);
      if (answer.status !== 200) throw new Error(`invoke ${functionName}: HTTP ${answer.status} ${answer.text}`);
      return JSON.parse(answer.text);
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
