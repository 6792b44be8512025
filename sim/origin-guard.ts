/**
 * A reverse proxy on loopback that keeps web pages out of a local server. A browser puts an
 * `Origin` header on every cross-site request it makes on a page's behalf (and on every
 * POST), so any request carrying an Origin that is not explicitly allowed is answered 403
 * and never forwarded. Requests without one (curl, SDKs, scripts) pass through.
 *
 * `npm start` puts one in front of each serverless-offline server: serverless-offline reflects
 * any Origin with credentials allowed and has no option to refuse one, so it listens on Unix
 * sockets (`socketPath`), which no page can reach, and only the guards on TCP ports.
 *
 * A request without an Origin but with a `Sec-Fetch-Site` other than `none` (a page's no-cors
 * GET, a page reaching loopback through DNS rebinding) is refused too, and so is one whose
 * `Host` is not loopback (DNS rebinding in a browser that sends no Sec-Fetch-Site). The local doubles
 * refuse every request from a page (sim/loopback-server.ts, refuseWebPages).
 *
 * CORS is the guard's alone: it strips every `Access-Control-*` header the upstream sends
 * and, for an allowed origin only, names that origin (no credentials) and answers its
 * preflight itself.
 */
import { Agent, createServer, type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';
import { fromWebPage, type LoopbackServer, listenOnLoopback, namesLoopbackHost, refuseJson } from './loopback-server.js';

export interface OriginGuardOptions {
  /** The server requests are forwarded to, e.g. http://127.0.0.1:40123, or `unix:/path/to/socket` for one on a Unix socket. */
  target: string;
  /** Where the guard listens on 127.0.0.1; 0 (default) picks a free port. */
  port?: number;
  /** Origins let through, exactly as browsers send them (`https://app.example:8443`). Default: none. */
  allowedOrigins?: readonly string[];
}

/** Headers of one connection only, never forwarded (RFC 9110, 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/**
 * `value` as an allowed origin (`scheme://host[:port]`), or an Error saying why not. `*` and
 * `null` are refused: an allowed origin is always one named site.
 */
export function parseAllowedOrigin(value: string): string | Error {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return new Error(`not an origin: ${JSON.stringify(value)} (expected scheme://host[:port])`);
  }
  if (!/^https?:$/.test(url.protocol) || url.origin !== value) {
    return new Error(`not an origin: ${JSON.stringify(value)} (expected http(s)://host[:port], no path or trailing slash)`);
  }
  return url.origin;
}

function forwardedRequestHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  // transfer-encoding stays: Node frames the forwarded body the same way when it is set.
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name === 'transfer-encoding' || !HOP_BY_HOP.has(name)));
}

function forwardedResponseHeaders(upstream: IncomingMessage, origin: string | undefined): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = Object.fromEntries(
    Object.entries(upstream.headers).filter(([name]) => !HOP_BY_HOP.has(name) && !name.startsWith('access-control-')),
  );
  if (origin !== undefined) headers['access-control-allow-origin'] = origin;
  const vary = headers.vary ? `${headers.vary}, Origin` : 'Origin';
  headers.vary = vary;
  return headers;
}

export async function startOriginGuard(options: OriginGuardOptions): Promise<LoopbackServer> {
  const allowed = new Set<string>();
  for (const value of options.allowedOrigins ?? []) {
    const origin = parseAllowedOrigin(value);
    if (origin instanceof Error) throw origin;
    allowed.add(origin);
  }
  const socketPath = options.target.startsWith('unix:') ? options.target.slice('unix:'.length) : undefined;
  const target = socketPath === undefined ? new URL(options.target) : undefined;
  // No pooled connections: closing the guard leaves nothing open towards the upstream.
  const agent = new Agent({ keepAlive: false });

  const server = createServer((req, res) => {
    const origin = req.headers.origin;
    if (!namesLoopbackHost(req.headers)) {
      req.resume();
      refuseJson(res, 403, 'Forbidden', 'Only requests to a loopback host (127.0.0.1, localhost, [::1]) are served.');
      return;
    }
    // An allowed origin's page passes; any other request a page sent does not.
    if (origin === undefined ? fromWebPage(req.headers) : !allowed.has(origin)) {
      req.resume();
      refuseJson(
        res,
        403,
        'Forbidden',
        'Requests from a web page (an Origin header) are refused; allow an origin explicitly to accept it.',
      );
      return;
    }
    if (origin !== undefined && req.method === 'OPTIONS') {
      req.resume();
      res.writeHead(204, {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'content-type',
        'access-control-max-age': '600',
        vary: 'Origin',
      });
      res.end();
      return;
    }
    const upstream = request(
      {
        ...(target === undefined ? { socketPath } : { protocol: target.protocol, hostname: target.hostname, port: target.port }),
        path: req.url,
        method: req.method,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, forwardedResponseHeaders(answer, origin));
        answer.pipe(res);
      },
    );
    for (const [name, value] of Object.entries(forwardedRequestHeaders(req.headers))) {
      if (value !== undefined) upstream.setHeader(name, value);
    }
    upstream.on('error', () => {
      if (res.headersSent) res.destroy();
      else refuseJson(res, 502, 'Unavailable', 'The local server is not answering (still starting, or stopped).');
    });
    req.pipe(upstream);
  });
  // It decides about pages itself: allowed origins pass.
  const listening = await listenOnLoopback(server, options.port, { webPages: 'pass' });
  return {
    ...listening,
    async close() {
      await listening.close();
      agent.destroy();
    },
  };
}
