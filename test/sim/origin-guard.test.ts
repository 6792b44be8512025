import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LoopbackServer, listenOnLoopback, refuseWebPages } from '../../sim/loopback-server.js';
import { parseAllowedOrigin, startOriginGuard } from '../../sim/origin-guard.js';

/** An upstream that behaves like serverless-offline: reflects any Origin, credentials allowed. */
let upstream: LoopbackServer;
let seen: { method: string; url: string; origin?: string; body: string; host?: string }[] = [];
let guard: LoopbackServer;
let open: LoopbackServer;

beforeAll(async () => {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({
        method: req.method!,
        url: req.url!,
        body,
        ...(req.headers.origin && { origin: req.headers.origin }),
        host: req.headers.host,
      });
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-upstream': 'yes',
        ...(req.headers.origin && { 'access-control-allow-origin': req.headers.origin, 'access-control-allow-credentials': 'true' }),
      });
      res.end(JSON.stringify({ echo: body }));
    });
  });
  // As serverless-offline does, it answers pages itself (reflecting them): the guard must keep them away.
  upstream = await listenOnLoopback(server, 0, { webPages: 'pass' });
  guard = await startOriginGuard({ target: upstream.url });
  open = await startOriginGuard({ target: upstream.url, allowedOrigins: ['http://localhost:5173'] });
});

afterAll(async () => {
  await Promise.all([guard.close(), open.close()]);
  await upstream.close();
});

beforeEach(() => {
  seen = [];
});

describe('origin guard', () => {
  it('forwards requests without an Origin, body, path and headers intact', async () => {
    const response = await fetch(`${guard.url}/v1/x?y=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-upstream')).toBe('yes');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(await response.json()).toEqual({ echo: '{"a":1}' });
    expect(seen).toEqual([{ method: 'POST', url: '/v1/x?y=1', body: '{"a":1}', host: new URL(guard.url).host }]);
  });

  it.each([
    ['POST', 'application/json'],
    ['POST', 'text/plain'],
    ['OPTIONS', undefined],
    ['GET', undefined],
  ])('answers 403 to %s %s from an origin not allowed, without forwarding it or naming the origin', async (method, type) => {
    for (const origin of ['https://evil.example', 'null', 'http://localhost:5173']) {
      const response = await fetch(`${guard.url}/2015-03-31/functions/f/invocations`, {
        method,
        headers: { origin, ...(type && { 'content-type': type }), 'access-control-request-method': 'POST' },
        ...(method === 'POST' && { body: '{}' }),
      });
      expect(response.status).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('Forbidden');
    }
    expect(seen).toEqual([]);
  });

  it('lets an allowed origin through, naming it without credentials', async () => {
    const response = await fetch(`${open.url}/v1/x`, { method: 'POST', headers: { origin: 'http://localhost:5173' }, body: 'hi' });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(response.headers.get('vary')).toMatch(/Origin/);
    expect(seen).toHaveLength(1);
    const other = await fetch(`${open.url}/v1/x`, { method: 'POST', headers: { origin: 'https://evil.example' }, body: 'hi' });
    expect(other.status).toBe(403);
  });

  it("answers an allowed origin's preflight itself", async () => {
    const response = await fetch(`${open.url}/v1/x`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(response.headers.get('access-control-allow-methods')).toBe('POST');
    expect(seen).toEqual([]);
  });

  it('answers 502 while the upstream is not there', async () => {
    const dead = await listenOnLoopback(createServer());
    const url = dead.url;
    await dead.close();
    const lonely = await startOriginGuard({ target: url });
    try {
      const response = await fetch(`${lonely.url}/v1/x`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(502);
    } finally {
      await lonely.close();
    }
  });

  it('refuses a request without an Origin that a page sent (Sec-Fetch-Site other than none), and passes one typed by the user', async () => {
    for (const site of ['cross-site', 'same-site', 'same-origin']) {
      const response = await fetch(`${guard.url}/v1/x`, { headers: { 'sec-fetch-site': site, 'sec-fetch-mode': 'no-cors' } });
      expect(response.status, site).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    }
    expect(seen).toEqual([]);
    const typed = await fetch(`${guard.url}/v1/x`, { headers: { 'sec-fetch-site': 'none' } });
    expect(typed.status).toBe(200);
  });

  it('refuses a request whose Host is not loopback (a page that reached it through DNS rebinding), and passes localhost', async () => {
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${guard.url}/v1/x`, { headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject).end();
      });
    const { port } = new URL(guard.url);
    for (const host of [`rebound.evil.example:${port}`, 'rebound.evil.example', `10.0.0.8:${port}`, `127.0.0.1.evil.example:${port}`]) {
      expect(await status(host), host).toBe(403);
    }
    expect(seen).toEqual([]);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) expect(await status(host), host).toBe(200);
  });

  it('forwards to an upstream on a Unix socket (`unix:<path>`), which no page can reach', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-test-'));
    const path = join(dir, 'up.sock');
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'access-control-allow-origin': '*' });
      res.end(`unix ${req.method} ${req.url}`);
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const front = await startOriginGuard({ target: `unix:${path}` });
    try {
      const response = await fetch(`${front.url}/2015-03-31/functions/f/invocations`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('unix POST /2015-03-31/functions/f/invocations');
      // The upstream's `*` never gets out.
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      const page = await fetch(`${front.url}/x`, { method: 'POST', headers: { origin: 'https://evil.example' }, body: '{}' });
      expect(page.status).toBe(403);
    } finally {
      await front.close();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes only exact origins as allowed', async () => {
    expect(parseAllowedOrigin('https://app.example:8443')).toBe('https://app.example:8443');
    for (const bad of ['*', 'null', 'https://app.example/', 'https://app.example/path', 'app.example', 'file:///x']) {
      expect(parseAllowedOrigin(bad)).toBeInstanceOf(Error);
    }
    await expect(startOriginGuard({ target: 'http://127.0.0.1:1', allowedOrigins: ['*'] })).rejects.toThrow(/not an origin/);
  });
});

describe('the local doubles (listenOnLoopback, refuseWebPages)', () => {
  /** A server that would hand anything to anyone, reflecting the Origin as dynalite and serverless-offline do. */
  const generous = () =>
    createServer((req, res) => {
      res.writeHead(200, { 'access-control-allow-origin': req.headers.origin ?? '*', 'content-type': 'application/json' });
      res.end('{"accessKeySecret":"handed-out"}');
    });

  it('refuse every request from a page by default: 403, no CORS header, nothing handed out; others are served', async () => {
    const local = await listenOnLoopback(generous());
    try {
      for (const headers of <Record<string, string>[]>[
        { origin: 'https://evil.example' },
        { origin: 'null' },
        { origin: 'http://localhost:5173' },
        { 'sec-fetch-site': 'cross-site' },
      ]) {
        for (const method of ['GET', 'POST', 'OPTIONS']) {
          const response = await fetch(`${local.url}/`, { method, headers, ...(method === 'POST' && { body: '{}' }) });
          expect(response.status, `${method} ${JSON.stringify(headers)}`).toBe(403);
          expect([...response.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
          expect(await response.text()).not.toContain('handed-out');
        }
      }
      const tool = await fetch(`${local.url}/`, { method: 'POST', body: '{}' });
      expect(tool.status).toBe(200);
    } finally {
      await local.close();
    }
  });

  it('refuseWebPages puts any server behind the same rule in one line (a server not started through listenOnLoopback)', async () => {
    const server = generous();
    refuseWebPages(server);
    const local = await listenOnLoopback(server, 0, { webPages: 'pass' });
    try {
      expect((await fetch(local.url, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
      expect((await fetch(local.url)).status).toBe(200);
    } finally {
      await local.close();
    }
  });
});
