/**
 * A COS bucket in miniature for the client tests: PUT Object, accepted only when signed (COS's
 * q-sign-algorithm=sha1 scheme, recomputed here from the documented steps) with temporary
 * credentials the vendor simulator issued, carrying their security token, unexpired, within the
 * signature's key time. It checks credentials, not session policies (the OSS double does those).
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { type LoopbackServer, listenOnLoopback } from '../../sim/loopback-server.js';
import type { IssuedCredentials } from '../../sim/object-storage.js';

/** One request the bucket answered. */
export interface CosRequest {
  key: string;
  secretId?: string;
  status: number;
  code?: string;
}

/** A running bucket. */
export interface CosStorage extends LoopbackServer {
  requests: CosRequest[];
  objects: Map<string, Buffer>;
}

const encode = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** COS's `key=value&…` form: keys lower-cased and sorted, both encoded. */
function formString(entries: [string, string][]): string {
  return entries
    .map(([key, value]) => [encode(key).toLowerCase(), encode(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

function signatureOf(req: IncomingMessage, path: string, query: URLSearchParams, auth: Map<string, string>, secretKey: string): string {
  const keyTime = auth.get('q-key-time') ?? '';
  const headerNames = (auth.get('q-header-list') ?? '').split(';').filter(Boolean);
  const paramNames = (auth.get('q-url-param-list') ?? '').split(';').filter(Boolean);
  const headers = headerNames.map((name): [string, string] => [name, String(req.headers[name] ?? '')]);
  const params = paramNames.map((name): [string, string] => [name, query.get(name) ?? '']);
  const signKey = createHmac('sha1', secretKey).update(keyTime).digest('hex');
  const format = [req.method!.toLowerCase(), path, formString(params), formString(headers), ''].join('\n');
  const toSign = ['sha1', auth.get('q-sign-time') ?? '', createHash('sha1').update(format).digest('hex'), ''].join('\n');
  return createHmac('sha1', signKey).update(toSign).digest('hex');
}

/** Starts the bucket on loopback; `lookup` is what the vendor knows of a SecretId, `now` the clock expiry is judged by. */
export async function startCosStorage(options: {
  lookup: (secretId: string) => IssuedCredentials | undefined;
  now?: () => number;
}): Promise<CosStorage> {
  const now = options.now ?? (() => Date.now());
  const requests: CosRequest[] = [];
  const objects = new Map<string, Buffer>();
  const server = await listenOnLoopback(
    createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const url = new URL(req.url ?? '/', 'http://cos.local');
      const key = decodeURIComponent(url.pathname.slice(1));
      const auth = new Map(
        String(req.headers.authorization ?? '')
          .split('&')
          .map((pair) => pair.split('=', 2) as [string, string]),
      );
      const record: CosRequest = { key, secretId: auth.get('q-ak'), status: 200 };
      requests.push(record);
      const refuse = (status: number, code: string) => {
        record.status = status;
        record.code = code;
        res
          .writeHead(status, { 'content-type': 'application/xml' })
          .end(`<?xml version="1.0"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
      };
      const issued = record.secretId ? options.lookup(record.secretId) : undefined;
      if (!issued) return refuse(403, 'InvalidAccessKeyId');
      if (req.headers['x-cos-security-token'] !== issued.securityToken) return refuse(403, 'InvalidToken');
      if (now() >= issued.expiresAt) return refuse(400, 'ExpiredToken');
      const [from, to] = (auth.get('q-key-time') ?? '').split(';').map(Number);
      const seconds = now() / 1000;
      if (!(from! <= seconds + 1 && seconds <= to!)) return refuse(403, 'AccessDenied');
      if (auth.get('q-signature') !== signatureOf(req, url.pathname, url.searchParams, auth, issued.accessKeySecret)) {
        return refuse(403, 'SignatureDoesNotMatch');
      }
      if (req.method !== 'PUT') return refuse(405, 'MethodNotAllowed');
      objects.set(key, Buffer.concat(chunks));
      res.writeHead(200, { etag: `"${createHash('md5').update(Buffer.concat(chunks)).digest('hex')}"` }).end();
    }),
  );
  return Object.assign(server, { requests, objects });
}
