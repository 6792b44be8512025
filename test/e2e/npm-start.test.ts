import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadOperations } from '../../lib/operations/index.js';
import { type NpmStart, startNpmStart } from '../support/npm-start.js';

/**
 * `npm start` end to end: the launcher as a user runs it (serverless-offline unpacking the
 * deployment zips, the simulator and fake SSM alongside), called over HTTP, then stopped
 * with Ctrl-C (SIGINT), leaving nothing behind.
 */
let npmStart: NpmStart;
let child: NpmStart['child'];
let output = '';
let httpPort: number;
let lambdaPort: number;
let exited: Promise<number | null>;
/** The Unix sockets serverless-offline listened on: gone, with their directory, after Ctrl-C. */
let innerSockets: string[] = [];
const root = new URL('../..', import.meta.url).pathname;
const operations = await loadOperations();

beforeAll(async () => {
  npmStart = await startNpmStart(root);
  ({ child, httpPort, lambdaPort, exited } = npmStart);
  output = npmStart.output();
}, 160_000);

// Only if the Ctrl-C test did not get to stop it: never leave a server behind.
afterAll(() => npmStart?.kill());

/** The pids of the process group `pgid` (npm start and everything it started). */
function groupPids(pgid: number): string[] {
  return execFileSync('ps', ['-eo', 'pid=,pgid='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, group]) => group === String(pgid))
    .map(([pid]) => pid!);
}

/** The socket inodes the processes of the group hold open (Linux: /proc/<pid>/fd). */
function socketInodes(pgid: number): Set<string> {
  const inodes = new Set<string>();
  for (const pid of groupPids(pgid)) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // exited meanwhile
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode !== undefined) inodes.add(inode);
      } catch {
        // closed meanwhile
      }
    }
  }
  return inodes;
}

/** Every TCP port a process of the group listens on, found by the kernel's tables rather than by what the banner says. */
function listeningTcpPorts(pgid: number): number[] {
  const inodes = socketInodes(pgid);
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; field 9 is the inode.
      if (fields[3] === '0A' && inodes.has(fields[9] ?? '')) ports.add(Number.parseInt(fields[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** The paths of the Unix sockets a process of the group listens on (tsx's own IPC pipe aside). */
function listeningUnixSockets(pgid: number): string[] {
  const inodes = socketInodes(pgid);
  return readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[3] === '00010000' && inodes.has(fields[6] ?? '') && fields[7] !== undefined)
    .map((fields) => fields[7]!)
    .filter((path) => !path.endsWith('.pipe'));
}

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
    expect(lines[3]).toMatch(
      /^table: +local token table cloud-token-broker-local-tokens at http:\/\/127\.0\.0\.1:\d+ \(dynalite\), tokens sealed by the fake KMS at http:\/\/127\.0\.0\.1:\d+ \(alias\/cloud-token-broker-local-tokens\)$/,
    );
    expect(lines[4]).toMatch(
      /^queues: +fake SQS at http:\/\/127\.0\.0\.1:\d+, holding the dead-letter queues cloud-token-broker-local-ims-provision-external-application-dlq$/,
    );
    expect(lines[5]).toMatch(/^storage: +local OSS bucket cloud-token-broker-local at http:\/\/127\.0\.0\.1:\d+ /);
    expect(lines[6]).toBe(
      `lambda invoke API on http://localhost:${lambdaPort} (SQS / EventBridge / rotation events; see docs/local-run.md)`,
    );
    expect(lines[7]).toMatch(/^origins: .*403.*allowed: none$/);
    expect(lines[8]).toMatch(/^metrics: .*on Ctrl-C, or now with: kill -USR2 \d+$/);
  });

  it('lists every route of the registry, with a curl line for each', () => {
    for (const op of operations) {
      expect(output).toMatch(new RegExp(`^  POST ${op.route} +${op.name}$`, 'm'));
      expect(output).toContain(`curl -s -X POST http://localhost:${httpPort}${op.route} -H 'content-type: application/json' -d '{`);
    }
    // The vendors line names every endpoint variable the registry uses.
    for (const variable of new Set(operations.map((op) => op.endpoint))) expect(output.split('\n')[1]).toContain(variable);
  });

  it('serves every route of the registry with the body of its curl line', async () => {
    for (const op of operations) {
      const body = new RegExp(`curl -s -X POST http://localhost:${httpPort}${op.route} .* -d '(.*)'$`, 'm').exec(output)![1]!;
      const response = await post(op.route, JSON.parse(body));
      expect(response.status, op.route).toBe(200);
      expect(((await response.json()) as { operation: string }).operation).toBe(op.name);
    }
  });

  it.each([
    ['HTTP', () => `http://localhost:${httpPort}/v1/aliyun/cams/upload-authorization`, 'application/json'],
    [
      'Lambda invoke',
      () => `http://localhost:${lambdaPort}/2015-03-31/functions/cloud-token-broker-local-cams-get-upload-authorization/invocations`,
      'text/plain',
    ],
  ])('refuses a request from a web page (Origin header) on the %s port with 403, reflecting nothing', async (_port, url, type) => {
    for (const method of ['POST', 'OPTIONS']) {
      const response = await fetch(url(), {
        method,
        headers: { origin: 'https://evil.example', 'content-type': type, 'access-control-request-method': 'POST' },
        ...(method === 'POST' && { body: JSON.stringify({ custSpaceId: 'cs-demo' }) }),
      });
      expect(response.status, method).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('leaves nothing a web page can use: every TCP port it opened refuses an Origin (403, no CORS header); the rest is on Unix sockets only its user can reach', async () => {
    const ports = listeningTcpPorts(child.pid!);
    // The two public ports and each local double the banner names are among them.
    const named = [...output.matchAll(/http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
    expect(named.length).toBeGreaterThanOrEqual(4);
    for (const port of [httpPort, lambdaPort, ...named]) expect(ports).toContain(port);
    const paths = [
      '/',
      '/v1/aliyun/cams/upload-authorization',
      '/2015-03-31/functions/cloud-token-broker-local-cams-get-upload-authorization/invocations',
    ];
    const answers: string[] = [];
    for (const port of ports) {
      for (const path of paths) {
        for (const [method, headers] of [
          ['POST', { origin: 'https://evil.example', 'content-type': 'text/plain' }],
          ['POST', { origin: 'null', 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' }],
          ['OPTIONS', { origin: 'https://evil.example', 'access-control-request-method': 'POST' }],
          // A page's no-cors GET, or one through DNS rebinding: no Origin, but Sec-Fetch-Site says a page sent it.
          ['GET', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' }],
        ] as const) {
          const response = await fetch(`http://127.0.0.1:${port}${path}`, {
            method,
            headers,
            ...(method === 'POST' && { body: JSON.stringify({ custSpaceId: 'cs-demo', Name: '/cloud-token-broker/local/keys/aliyun' }) }),
          });
          const body = await response.text();
          const cors = [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));
          answers.push(
            `${port}${path} ${method} ${headers.origin ?? 'no Origin'}: ${response.status}${cors.length ? ` ${cors.join(',')}` : ''}`,
          );
          expect.soft(response.status, `${method} ${port}${path}`).toBe(403);
          expect.soft(cors, `${method} ${port}${path}`).toEqual([]);
          expect.soft(body).not.toMatch(/accessKey|securityToken|"Value"/i);
        }
      }
    }
    expect(answers.length).toBe(ports.length * paths.length * 4);
    // serverless-offline itself listens on Unix sockets, in a directory no other user may enter.
    innerSockets = listeningUnixSockets(child.pid!);
    expect(innerSockets).toHaveLength(2);
    for (const socket of innerSockets) expect(statSync(dirname(socket)).mode & 0o077).toBe(0);
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
    // local-2 can never succeed: the function sent it to its dead-letter queue (the fake SQS), so it is not reported.
    expect(await response.json()).toEqual({ batchItemFailures: [] });
    const failed = npmStart
      .output()
      .split('\n')
      .filter((line) => line.includes('"message failed"') && line.includes('"local-2"'));
    expect(failed).toHaveLength(1);
    expect(JSON.parse(failed[0]!.slice(failed[0]!.indexOf('{')))).toMatchObject({ code: 'InvalidRequest', goesTo: 'dead-letter queue' });
  });

  it('prints a summary of the metrics on SIGUSR2 (to the pid of its banner) and goes on serving', async () => {
    const pid = Number(/kill -USR2 (\d+)$/m.exec(output)![1]);
    const before = npmStart.output().length;
    process.kill(pid, 'SIGUSR2');
    await vi.waitFor(() => expect(npmStart.output().slice(before)).toMatch(/^metrics of this run, from \d+ EMF lines/m), {
      timeout: 10_000,
      interval: 100,
    });
    const response = await post('/v1/aliyun/bpstudio/token', {});
    expect(response.status).toBe(200);
  });

  it('stops everything it started on Ctrl-C, after a summary of the metrics of the run', async () => {
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    // The summary is the last one printed, from the metric lines the functions wrote.
    const all = npmStart.output();
    const summary = all.slice(all.lastIndexOf('metrics of this run'));
    expect(summary).toMatch(/^metrics of this run, from \d+ EMF lines the functions printed:/);
    for (const op of operations) {
      const line = new RegExp(`^  ${op.name}: (\\d+) requests? \\((.*)\\)$`, 'm').exec(summary);
      expect(line, `${op.name} in\n${summary}`).not.toBeNull();
      expect(Number(line![1])).toBeGreaterThan(0);
      expect(line![2]).toMatch(/\bOK \d+/);
    }
    // The refused request above, by its code; the provisioning events, by their messages.
    expect(summary).toMatch(/^ {2}cams:GetChatappUploadAuthorization: \d+ requests \(.*InvalidRequest 1.*\)$/m);
    expect(summary).toMatch(/\bMessagesProcessed 1\b/);
    expect(summary).toMatch(/\bMessagesFailed 1\b/);
    await expect(fetch(`http://localhost:${httpPort}/`)).rejects.toThrow();
    await expect(fetch(`http://localhost:${lambdaPort}/`)).rejects.toThrow();
    for (const socket of innerSockets) expect(existsSync(dirname(socket)), socket).toBe(false);
    // No process is left running in the run's process group (serverless-offline and what it
    // started); exited ones not yet reaped (state Z) are gone already. A helper that is still
    // shutting down gets a few seconds to go.
    const leftInGroup = () =>
      execFileSync('ps', ['-eo', 'pgid=,stat=,args='], { encoding: 'utf8' })
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter(([pgid, stat]) => pgid === String(child.pid) && !stat?.startsWith('Z'))
        .map((fields) => fields.slice(2).join(' '));
    const until = Date.now() + 5_000;
    while (leftInGroup().length > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(leftInGroup()).toEqual([]);
  }, 30_000);
});

describe('npm start -- --real-vendors', () => {
  it('refuses to start without the explicit opt-in, saying how to give it', () => {
    const run = spawnSync(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/start.ts', '--real-vendors'], {
      cwd: root,
      env: { ...process.env, BROKER_REAL_CREDENTIALS: '', PORT: '1', LAMBDA_PORT: '1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('--real-vendors refused');
    expect(run.stderr).toContain('--i-understand-real-credentials');
    expect(run.stdout).toBe('');
  }, 40_000);
});
