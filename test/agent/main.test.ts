/**
 * The command as a user runs it: the package's bin (bin/cloud-token-broker-agent.mjs) in a child
 * process, for --help and the refusals at start.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AGENT_BIN, getJson, startAgent } from '../support/agent-process.js';

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  bin: Record<string, string>;
  scripts: Record<string, string>;
};
const flagsSource = readFileSync(new URL('../../agent/flags.ts', import.meta.url), 'utf8');

/** Runs the bin; resolves with its exit code and output whatever the code. */
async function agent(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [AGENT_BIN, ...args], { env: { ...process.env, ...env }, timeout: 15_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('cloud-token-broker-agent', () => {
  it('is the package’s bin, and npm run agent runs the same file', () => {
    expect(pkg.bin['cloud-token-broker-agent']).toBe('bin/cloud-token-broker-agent.mjs');
    expect(pkg.scripts.agent).toBe('node bin/cloud-token-broker-agent.mjs');
  });

  it('--help documents every flag parseFlags knows, the endpoints and print aliyun', async () => {
    const { code, stdout } = await agent(['--help']);
    expect(code).toBe(0);
    // The options parseArgs is given, read from its source: a new flag must reach --help.
    const options = [...flagsSource.matchAll(/^ {8}([a-z]+): \{ type:/gm)].map((m) => m[1]!);
    expect(options.sort()).toEqual(['auth', 'broker', 'help', 'listen', 'route']);
    for (const option of options) expect(stdout).toMatch(new RegExp(`^ {2}--${option}\\b`, 'm'));
    for (const text of [
      '/aliyun/credentials',
      '/tencent/credentials',
      '/routes/<name>',
      'print aliyun',
      'jwt-file=<path>',
      'iam',
      'none',
      '127.0.0.1:9911',
    ]) {
      expect(stdout).toContain(text);
    }
  });

  it('refuses at start, with exit code 2 and a clear message: no --broker, a non-loopback --listen', async () => {
    expect(await agent([])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--broker <base URL> is required/) });
    expect(await agent(['--broker', 'https://b.example', '--listen', '0.0.0.0:9911'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/0\.0\.0\.0 is not loopback/),
    });
  });

  it('refuses --auth iam without AWS_REGION, and a broker that is plain http off loopback, before listening', async () => {
    const noRegion = await agent(['--broker', 'https://b.example', '--listen', '127.0.0.1:0'], { AWS_REGION: '', AWS_DEFAULT_REGION: '' });
    expect(noRegion).toMatchObject({ code: 1, stderr: expect.stringMatching(/--auth iam needs AWS_REGION/) });
    expect(noRegion.stdout).toBe('');
    const clear = await agent(['--broker', 'http://b.example', '--auth', 'none', '--listen', '127.0.0.1:0']);
    expect(clear).toMatchObject({ code: 1, stderr: expect.stringMatching(/https/) });
  });
});

describe('--auth jwt-file', () => {
  it('reads the token at every broker call, so a rotated token is used, and never logs it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-jwt-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'jwt-one-eyJhbGciOi\n');
    const seen: string[] = [];
    // The broker as far as the agent can tell: short-lived credentials, to be asked again after a second.
    const broker = createServer((req, res) => {
      seen.push(String(req.headers.authorization));
      req.resume();
      const now = Date.now();
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          operation: 'aliyun-sts:AssumeRole',
          requestId: 'r',
          expiresAt: new Date(now + 8000).toISOString(),
          refreshAfter: new Date(now + 1000).toISOString(),
          data: { accessKeyId: 'STS.jwt-test', accessKeySecret: 'secret', securityToken: 'token' },
        }),
      );
    });
    await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', resolve));
    const port = (broker.address() as AddressInfo).port;
    const agentProcess = await startAgent([
      '--broker',
      `http://127.0.0.1:${port}`,
      '--auth',
      `jwt-file=${tokenFile}`,
      '--listen',
      '127.0.0.1:0',
    ]);
    try {
      await expect.poll(() => seen, { timeout: 10_000 }).toContain('Bearer jwt-one-eyJhbGciOi');
      writeFileSync(tokenFile, 'jwt-two-eyJhbGciOi');
      await expect.poll(() => seen, { timeout: 15_000 }).toContain('Bearer jwt-two-eyJhbGciOi');
      expect((await getJson(`${agentProcess.url}/aliyun/credentials`)).status).toBe(200);
      expect(agentProcess.stderr()).toMatch(/"msg":"credentials refreshed"/);
      expect(agentProcess.stderr() + agentProcess.stdout()).not.toMatch(/jwt-(one|two)|eyJ/);
    } finally {
      agentProcess.kill();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
