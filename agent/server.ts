/**
 * The agent's loopback HTTP server: `/aliyun/credentials`, `/tencent/credentials` and
 * `/routes/<name>`, GET only, behind the guard (agent/guard.ts). Each answer is built from the
 * route's held credentials (agent/held-routes.ts) in its endpoint's format (agent/formats.ts);
 * when there are none to serve, a JSON error: 502 when the broker refused, 503 when it could not
 * be reached or the credentials held are too close to expiry. Every answer says
 * `Cache-Control: no-store`; refusals and failures are logged, never an answer.
 * @module
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { BrokerCallError } from '../client/broker-client.js';
import type { ListenAddress } from './flags.js';
import { aliyunUri, type HeldAnswer, NotServable, routeAnswer, tencentCredentials } from './formats.js';
import { refusal } from './guard.js';
import { errorText, type HeldRoute } from './held-routes.js';
import { log } from './log.js';

/** The agent listening: its base URL, and how to stop it. */
export interface AgentServer {
  /** `http://127.0.0.1:9911` (the port actually bound when 0 was asked). */
  url: string;
  close(): Promise<void>;
}

/** The endpoints and the route each serves, with its format. */
const FIXED: Record<string, { route: string; format: (held: HeldAnswer) => unknown }> = {
  '/aliyun/credentials': { route: 'aliyun', format: (held) => aliyunUri(held) },
  '/tencent/credentials': { route: 'tencent', format: (held) => tencentCredentials(held) },
};

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...(status === 405 && { allow: 'GET' }),
  });
  res.end(text);
}

/** The status and code of a failure to serve: 502 when the broker refused or answered what is not an answer, 503 when it cannot be reached or what is held cannot be served. */
export function failure(error: unknown): { status: 502 | 503; code: string } {
  if (error instanceof BrokerCallError) {
    if (error.status === undefined) return { status: 503, code: 'BrokerUnavailable' };
    // A 200 the client could not read as the broker's answer.
    return error.status < 300 ? { status: 502, code: 'BadBrokerAnswer' } : { status: 502, code: 'BrokerRefused' };
  }
  if (error instanceof NotServable) return { status: 503, code: 'CredentialsUnavailable' };
  return { status: 502, code: 'BadBrokerAnswer' };
}

/** Which route and format a path asks for, or undefined (404). */
function endpoint(path: string, routes: Map<string, HeldRoute>) {
  const fixed = FIXED[path];
  if (fixed) return { held: routes.get(fixed.route), format: fixed.format };
  const name = /^\/routes\/([a-z0-9-]+)$/.exec(path)?.[1];
  return name === undefined ? undefined : { held: routes.get(name), format: (held: HeldAnswer) => routeAnswer(held) };
}

/** Listens on `listen` and serves `routes`. */
export async function startAgentServer(listen: ListenAddress, routes: Map<string, HeldRoute>): Promise<AgentServer> {
  const server: Server = createServer((req, res) => {
    req.resume();
    const path = new URL(req.url ?? '/', 'http://agent').pathname;
    const refused = refusal(req.method, req.headers);
    if (refused) {
      log('warn', 'request refused', { path, status: refused.status, reason: refused.code });
      return answer(res, refused.status, { error: { code: refused.code, message: refused.message } });
    }
    const found = endpoint(path, routes);
    if (found?.held === undefined) {
      return answer(res, 404, { error: { code: 'NotFound', message: `no endpoint ${path} (see --help)` } });
    }
    const { held, format } = found;
    held.credentials
      .get()
      .then((credentials) => {
        // Not logged: SDKs ask on every call once their own staleness window starts; failures are.
        answer(res, 200, format(credentials));
      })
      .catch((error: unknown) => {
        const { status, code } = failure(error);
        log('warn', 'not served', { path, route: held.route.name, status, code, error: errorText(error) });
        answer(res, status, { error: { code, message: `${held.route.name}: ${errorText(error)}` } });
      });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = listen.host === '::1' ? '[::1]' : listen.host;
  return {
    url: `http://${host}:${port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
