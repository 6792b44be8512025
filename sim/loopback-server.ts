import type { IncomingHttpHeaders, IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A server listening on 127.0.0.1, and how to stop it at once. */
export interface LoopbackServer {
  url: string;
  port: number;
  /** Destroys every open connection (hung requests included), then closes the server. */
  close(): Promise<void>;
}

/**
 * Whether a browser sent this request on a page's behalf: it carries an `Origin` (every
 * cross-site request a browser makes, every POST), or a `Sec-Fetch-Site` other than `none`
 * (a page's no-cors GET, or a page reaching loopback through DNS rebinding). curl, SDKs and
 * Node's fetch send neither.
 */
export function fromWebPage(headers: IncomingHttpHeaders): boolean {
  const site = headers['sec-fetch-site'];
  return headers.origin !== undefined || (site !== undefined && site !== 'none');
}

/** `Host` values a tool on this machine sends to a loopback server, with any port. */
const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i;

/**
 * Whether a request names a loopback host. A page that reached loopback through DNS rebinding
 * names its own host, even in a browser too old to send Sec-Fetch-Site. Only servers that are
 * reached by loopback address check it: the vendor doubles are sent the vendor's host names.
 */
export function namesLoopbackHost(headers: IncomingHttpHeaders): boolean {
  return LOOPBACK_HOST.test(headers.host ?? '');
}

/** A JSON error answer of the local servers: never cached, never sniffed, no CORS header at all. */
export function refuseJson(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    vary: 'Origin',
  });
  res.end(body);
}

/** 403 to a page, with no CORS header at all: nothing for a page to read, nothing reflected. */
export function refuseWebPage(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  refuseJson(res, 403, 'Forbidden', 'Requests from a web page (an Origin header) are refused by the local servers.');
}

/**
 * Puts `server`'s request handlers behind fromWebPage: a request from a web page is answered
 * 403 (refuseWebPage) and never reaches them. Call it once the handlers are attached
 * (`createServer(handler)` attaches one); listenOnLoopback does, unless told `webPages: 'pass'`.
 */
export function refuseWebPages(server: Server): void {
  const handlers = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (fromWebPage(req.headers)) return refuseWebPage(req, res);
    for (const handler of handlers) handler.call(server, req, res);
  });
}

/** How a loopback server treats requests from web pages. */
export interface LoopbackOptions {
  /**
   * `refuse` (default): every request from a web page is answered 403 (refuseWebPages); the
   * local doubles are never a page's to call. `pass`: the server decides itself (the origin
   * guard, which lets allowed origins through; a test's stand-in for serverless-offline).
   */
  webPages?: 'refuse' | 'pass';
}

/**
 * Listens on 127.0.0.1 (`port` 0: any free one), tracking connections so that close() need not
 * wait for them. Requests from web pages are refused unless `webPages: 'pass'`: every local
 * double that listens through here (simulator, fake SSM, SQS, KMS) is out of a page's reach.
 */
export async function listenOnLoopback(server: Server, port = 0, options: LoopbackOptions = {}): Promise<LoopbackServer> {
  if (options.webPages !== 'pass') refuseWebPages(server);
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Largest request body a local server reads: the local doubles are never sent more. */
const MAX_BODY_BYTES = 1024 * 1024;

/** A request's whole body (rejected past MAX_BODY_BYTES): what every local server here reads first. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
