import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SignedRequest } from '../../../lib/vendor/api.js';
import { closeVendorConnections, sendRequest } from '../../../lib/vendor/transport.js';
import { type LoopbackServer, listenOnLoopback } from '../../../sim/loopback-server.js';

/**
 * The vendor call's transport on its own: node:http with a keep-alive agent, the answer read
 * whole, and each way an attempt can end without one reported as its kind only.
 */

let server: LoopbackServer;
let connections: number;
let answer: (req: IncomingMessage, res: ServerResponse) => void;

beforeEach(async () => {
  connections = 0;
  answer = (_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'x-acs-retry-after': '250' }).end('{"ok":true}');
  const http = createServer((req, res) => {
    req.resume();
    answer(req, res);
  });
  http.on('connection', () => {
    connections += 1;
  });
  server = await listenOnLoopback(http);
});

afterEach(async () => {
  closeVendorConnections();
  await server.close();
  vi.unstubAllGlobals();
});

const request = (path = '/?Action=Echo&Token=sig%3D%2Babc'): SignedRequest => ({
  url: `${server.url}${path}`,
  method: 'POST',
  headers: { accept: 'application/json', authorization: 'ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=0123' },
});

describe('sendRequest', () => {
  it('sends the signed path and headers as they are and reads the whole answer', async () => {
    let seen: { url?: string; method?: string; authorization?: string; host?: string } = {};
    answer = (req, res) => {
      seen = { url: req.url, method: req.method, authorization: req.headers.authorization, host: req.headers.host };
      res.writeHead(200, { 'x-acs-retry-after': '250' }).end('{"ok":true}');
    };
    const sent = await sendRequest({ ...request(), body: 'a=1' }, 1_000, undefined);
    expect(sent).toMatchObject({ answer: { status: 200, text: '{"ok":true}' } });
    expect('answer' in sent && sent.answer.headers.get('X-Acs-Retry-After')).toBe('250');
    expect('answer' in sent && sent.answer.headers.get('retry-after')).toBeNull();
    expect(seen).toEqual({
      url: '/?Action=Echo&Token=sig%3D%2Babc',
      method: 'POST',
      authorization: 'ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=0123',
      host: `127.0.0.1:${server.port}`,
    });
  });

  it('keeps the connection alive between requests', async () => {
    for (let i = 0; i < 3; i++) expect(await sendRequest(request(), 1_000, undefined)).toHaveProperty('answer.status', 200);
    expect(connections).toBe(1);
  });

  it('never uses fetch', async () => {
    vi.stubGlobal('fetch', () => {
      throw new Error('fetch was called');
    });
    expect(await sendRequest(request(), 1_000, undefined)).toHaveProperty('answer.status', 200);
  });

  it('reports a hung attempt as a timeout after timeoutMs, and drops its socket', async () => {
    answer = () => undefined;
    const started = Date.now();
    expect(await sendRequest(request(), 100, undefined)).toEqual({ failure: 'timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    answer = (_req, res) => res.end('{}');
    expect(await sendRequest(request(), 1_000, undefined)).toHaveProperty('answer.status', 200);
    expect(connections).toBe(2);
  });

  it('reports the deadline signal as the deadline, also when it fires mid-body', async () => {
    const controller = new AbortController();
    answer = (_req, res) => {
      res.writeHead(200);
      res.write('{"partial":');
      setTimeout(() => controller.abort(), 30);
    };
    expect(await sendRequest(request(), 5_000, controller.signal)).toEqual({ failure: 'deadline' });
  });

  it('reports a reset connection and a body cut short as a network failure, with nothing of the error', async () => {
    answer = (req) => req.socket.destroy();
    expect(await sendRequest(request(), 1_000, undefined)).toEqual({ failure: 'network' });
    answer = (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"torn":');
      setTimeout(() => res.socket?.destroy(), 10);
    };
    expect(await sendRequest(request(), 1_000, undefined)).toEqual({ failure: 'network' });
  });

  it('reports an endpoint nobody listens on as a network failure', async () => {
    const port = server.port;
    await server.close();
    const sent = await sendRequest({ ...request(), url: `http://127.0.0.1:${port}/?Signature=secret` }, 1_000, undefined);
    expect(sent).toEqual({ failure: 'network' });
    server = await listenOnLoopback(createServer((_req, res) => res.end()));
  });
});
