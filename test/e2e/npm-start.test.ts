import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm start` end to end: the launcher as a user runs it (serverless-offline unpacking the
 * deployment zips, the simulator and fake SSM alongside), called over HTTP, then stopped
 * with Ctrl-C (SIGINT), leaving nothing behind.
 */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let child: ChildProcess;
let output = '';
let httpPort: number;
let lambdaPort: number;
let exited: Promise<number | null>;

beforeAll(async () => {
  [httpPort, lambdaPort] = [await freePort(), await freePort()];
  child = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/start.ts'], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, PORT: String(httpPort), LAMBDA_PORT: String(lambdaPort), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a failed run can still be cleaned up whole.
    detached: true,
  });
  exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const started = Date.now();
  while (!output.includes('Ctrl-C stops everything')) {
    if (child.exitCode !== null || Date.now() - started > 150_000) throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 160_000);

afterAll(() => {
  // Only if the Ctrl-C test did not get to stop it: never leave a server behind.
  if (child?.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
});

const post = (path: string, body: unknown) =>
  fetch(`http://localhost:${httpPort}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('npm start', () => {
  it('first says where it listens, which vendors and key source it uses, and a curl to paste', () => {
    const lines = output.split('\n').filter(Boolean);
    expect(lines[0]).toBe(`cloud-token-broker (stage local) listening on http://localhost:${httpPort}`);
    expect(lines[1]).toMatch(/^vendors: +simulator at http:\/\/127\.0\.0\.1:\d+/);
    expect(lines[2]).toMatch(/^keys: +fake SSM at http:\/\/127\.0\.0\.1:\d+/);
    expect(output).toContain(`curl -s -X POST http://localhost:${httpPort}/v1/aliyun/cams/upload-authorization`);
  });

  it.each([
    ['/v1/aliyun/bpstudio/token', {}, 'bpstudio:GetToken'],
    ['/v1/aliyun/cams/upload-authorization', { custSpaceId: 'cs-demo' }, 'cams:GetChatappUploadAuthorization'],
    ['/v1/aliyun/ims/external-applications', { appId: '4035506116466040001', scopes: ['openid'] }, 'ims:ProvisionExternalApplication'],
    ['/v1/ucloud/ufile/tokens', { region: 'cn-bj' }, 'ufile:DescribeUFileToken'],
  ])('serves %s', async (path, body, operation) => {
    const response = await post(path, body);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-request-id')).toMatch(/\S+/);
    const answer = (await response.json()) as { operation: string; data: unknown };
    expect(answer.operation).toBe(operation);
    expect(answer.data).toBeTruthy();
  });

  it('answers errors with the error body and the same headers', async () => {
    const response = await post('/v1/aliyun/cams/upload-authorization', { custSpaceId: 'x', extra: true });
    expect(response.status).toBe(400);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('InvalidRequest');
  });

  it('takes provisioning events on the Lambda invoke port', async () => {
    const sqsEvent = {
      Records: [
        {
          messageId: 'local-1',
          body: JSON.stringify({ appId: '4035506116466049999' }),
          eventSource: 'aws:sqs',
          attributes: { ApproximateReceiveCount: '1' },
        },
        { messageId: 'local-2', body: '{"appId": 5}', eventSource: 'aws:sqs', attributes: { ApproximateReceiveCount: '1' } },
      ],
    };
    const response = await fetch(
      `http://localhost:${lambdaPort}/2015-03-31/functions/cloud-token-broker-local-ims-provision-external-application/invocations`,
      {
        method: 'POST',
        body: JSON.stringify(sqsEvent),
      },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ batchItemFailures: [{ itemIdentifier: 'local-2' }] });
  });

  it('stops everything it started on Ctrl-C', async () => {
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await expect(fetch(`http://localhost:${httpPort}/`)).rejects.toThrow();
    await expect(fetch(`http://localhost:${lambdaPort}/`)).rejects.toThrow();
    // No process is left that was started with this run's ports.
    const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes(`--httpPort ${httpPort}`) || line.includes(`--lambdaPort ${lambdaPort}`));
    expect(left).toEqual([]);
  }, 30_000);
});
