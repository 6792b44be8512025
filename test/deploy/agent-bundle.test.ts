/**
 * scripts/build.mjs's agent bundle (buildAgent): dist/agent/cloud-token-broker-agent.mjs is one
 * file that runs with plain Node from a folder with no node_modules, as a sidecar image copies it:
 * --help, and a start that listens on loopback and answers its endpoints (here 503: no broker).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { getJson } from '../support/agent-process.js';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'ctb-agent-bundle-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const { buildAgent, AGENT_BUNDLE } = (await import(pathToFileURL(join(root, 'scripts', 'build.mjs')).href)) as {
  buildAgent(outfile?: string): Promise<string>;
  AGENT_BUNDLE: string;
};

describe('the agent bundle', () => {
  it('is written where npm run build puts it: dist/agent/cloud-token-broker-agent.mjs', () => {
    expect(AGENT_BUNDLE).toBe(join('agent', 'cloud-token-broker-agent.mjs'));
  });

  it('is one file that runs with plain Node and no node_modules', async () => {
    const outfile = await buildAgent(join(scratch, 'cloud-token-broker-agent.mjs'));
    expect(readdirSync(scratch)).toEqual(['cloud-token-broker-agent.mjs']);
    const { stdout } = await exec(process.execPath, [outfile, '--help'], { cwd: scratch });
    expect(stdout).toMatch(/^ {2}--broker <base URL>/m);
    const child = spawn(process.execPath, [outfile, '--broker', 'http://127.0.0.1:1', '--auth', 'none', '--listen', '127.0.0.1:0'], {
      cwd: scratch,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      await expect.poll(() => out, { timeout: 15_000 }).toMatch(/^ALIBABA_CLOUD_CREDENTIALS_URI=(\S+)$/m);
      const uri = /^ALIBABA_CLOUD_CREDENTIALS_URI=(\S+)$/m.exec(out)![1]!;
      const answer = await getJson(uri);
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ error: { code: 'BrokerUnavailable' } });
    } finally {
      child.kill('SIGKILL');
    }
  });
});
