/**
 * The credentials agent run as its real command (`node bin/cloud-token-broker-agent.mjs …`, what
 * the package's `bin` runs) in a child process, for the tests: started, its banner read, its
 * output kept, killed at the end.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';

/** The agent's command from this checkout. */
export const AGENT_BIN = new URL('../../bin/cloud-token-broker-agent.mjs', import.meta.url).pathname;

/** A running agent. */
export interface AgentProcess {
  child: ChildProcess;
  /** Its base URL, from the banner's ALIBABA_CLOUD_CREDENTIALS_URI line. */
  url: string;
  /** The banner's environment lines, by variable. */
  env: Record<string, string>;
  /** Everything it printed so far: stdout, then the JSON log lines of stderr as they came. */
  stdout(): string;
  stderr(): string;
  kill(): void;
}

/** Runs the agent with `args` and waits for its banner (throws with its output if it exits or is slow). */
export async function startAgent(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<AgentProcess> {
  const child = spawn(process.execPath, [AGENT_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const started = Date.now();
  while (!/^CLOUD_TOKEN_BROKER_TENCENT_CREDENTIALS_URL=.*$/m.test(out)) {
    if (child.exitCode !== null || Date.now() - started > timeoutMs) {
      kill();
      throw new Error(`the agent did not start:\n${out}\n${err}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const env_ = Object.fromEntries(
    out
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const url = env_.ALIBABA_CLOUD_CREDENTIALS_URI!.replace(/\/aliyun\/credentials$/, '');
  return { child, url, env: env_, stdout: () => out, stderr: () => err, kill };
}

/** A GET with exactly these headers (node:http, so Host can be set as a page's would be); status and parsed JSON body. */
export async function getJson(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; body: unknown; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: the text
        }
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
