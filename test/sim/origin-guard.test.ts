import { createServer } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LoopbackServer, listenOnLoopback } from '../../sim/loopback-server.js';
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
  upstream = await listenOnLoopback(server);
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

  it('takes only exact origins as allowed', async () => {
    expect(parseAllowedOrigin('https://app.example:8443')).toBe('https://app.example:8443');
    for (const bad of ['*', 'null', 'https://app.example/', 'https://app.example/path', 'app.example', 'file:///x']) {
      expect(parseAllowedOrigin(bad)).toBeInstanceOf(Error);
    }
    await expect(startOriginGuard({ target: 'http://127.0.0.1:1', allowedOrigins: ['*'] })).rejects.toThrow(/not an origin/);
  });
});
