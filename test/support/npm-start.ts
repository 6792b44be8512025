import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A loopback port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `npm start` running in the background, as a user runs it. */
export interface NpmStart {
  child: ChildProcess;
  httpPort: number;
  lambdaPort: number;
  /** Everything it printed so far, both streams. */
  output(): string;
  /** Resolves with its exit code. */
  exited: Promise<number | null>;
  /** Kills its whole process group, if it is still running. */
  kill(): void;
}

/** Starts `npm start` (scripts/start.ts) in `cwd` on free ports and waits for its banner. */
export async function startNpmStart(cwd: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 150_000): Promise<NpmStart> {
  const [httpPort, lambdaPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/start.ts'], {
    cwd,
    env: { ...process.env, PORT: String(httpPort), LAMBDA_PORT: String(lambdaPort), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a failed run can still be cleaned up whole.
    detached: true,
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  };
  const started = Date.now();
  while (!output.includes('Ctrl-C stops everything')) {
    if (child.exitCode !== null || Date.now() - started > timeoutMs) {
      kill();
      throw new Error(`npm start did not come up:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { child, httpPort, lambdaPort, output: () => output, exited, kill };
}
