import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A server listening on 127.0.0.1, and how to stop it at once. */
export interface LoopbackServer {
  url: string;
  port: number;
  /** Destroys every open connection (hung requests included), then closes the server. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (`port` 0: any free one), tracking connections so that close() need not wait for them. */
export async function listenOnLoopback(server: Server, port = 0): Promise<LoopbackServer> {
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
