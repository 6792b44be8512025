/**
 * A local stand-in for Alibaba Cloud OSS, just enough to show an app's storage client using
 * the temporary credentials the broker hands out: PUT and GET of objects in one bucket,
 * addressed the way ali-oss addresses an IP endpoint (the path is the object's name). Every
 * request is checked as OSS checks it: the signature (OSS V1, `OSS <AccessKeyId>:<base64
 * HMAC-SHA1>`), the security token that belongs to the key, the key's expiry, and the
 * session policy the credentials were issued with (Allow statements whose Action and
 * Resource match, Deny winning). Which credentials exist is asked of `lookup`, so the
 * vendor simulator's STS answers are what this store accepts.
 * @module
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type LoopbackServer, listenOnLoopback, readBody } from './loopback-server.js';

/** Temporary credentials as OSS knows them. */
export interface IssuedCredentials {
  accessKeySecret: string;
  securityToken: string;
  /** Epoch ms after which OSS refuses them. */
  expiresAt: number;
  /** The session policy they were issued with (a JSON document), if any. */
  policy?: string;
}

/** One request the store answered, for tests to read: who signed it, what it asked, the answer. */
export interface ObjectStorageRequest {
  method: string;
  key: string;
  accessKeyId?: string;
  status: number;
  code?: string;
}

export interface ObjectStorage extends LoopbackServer {
  bucket: string;
  /** Every request so far, in order. */
  requests: ObjectStorageRequest[];
  /** The objects stored, by name. */
  objects: Map<string, Buffer>;
}

export interface ObjectStorageOptions {
  bucket: string;
  /** The credentials of an AccessKeyId, or undefined when OSS would not know it. */
  lookup: (accessKeyId: string) => IssuedCredentials | undefined;
  /** The clock the expiry is judged by (tests move it). */
  now?: () => number;
}

type Statement = { Effect?: string; Action?: string | string[]; Resource?: string | string[] };

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  );

/** Whether a session policy lets `action` reach `resource`: an explicit Deny wins, else some Allow must match. */
export function policyAllows(policy: string, action: string, resource: string): boolean {
  let statements: Statement[];
  try {
    statements = list((JSON.parse(policy) as { Statement?: Statement | Statement[] }).Statement);
  } catch {
    return false;
  }
  const matches = (s: Statement) =>
    list(s.Action).some((a) => glob(a).test(action)) && list(s.Resource).some((r) => glob(r).test(resource));
  if (statements.some((s) => s.Effect === 'Deny' && matches(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && matches(s));
}

/** OSS V1's string to sign: verb, Content-MD5, Content-Type, date, `x-oss-*` headers sorted, then the resource. */
function stringToSign(req: IncomingMessage, resource: string): string {
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(',') : (value ?? '');
  };
  const ossHeaders = Object.keys(req.headers)
    .filter((name) => name.startsWith('x-oss-'))
    .sort()
    .map((name) => `${name}:${header(name).trim()}`);
  return [
    req.method ?? '',
    header('content-md5'),
    header('content-type'),
    header('x-oss-date') || header('date'),
    ...ossHeaders,
    resource,
  ].join('\n');
}

function answerError(res: ServerResponse, status: number, code: string, message: string): void {
  const requestId = randomUUID();
  res.writeHead(status, { 'content-type': 'application/xml', 'x-oss-request-id': requestId });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId></Error>`,
  );
}

/** Why OSS would refuse this request, or undefined when it is signed by live credentials that may do it. */
function refusal(req: IncomingMessage, bucket: string, key: string, options: ObjectStorageOptions, accessKeyId: string | undefined) {
  const signed = /^OSS ([^:]+):(.+)$/.exec(String(req.headers.authorization ?? ''));
  if (!signed || accessKeyId === undefined) return [403, 'AccessDenied', 'The request is not signed.'] as const;
  const issued = options.lookup(accessKeyId);
  if (!issued) return [403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.'] as const;
  if (req.headers['x-oss-security-token'] !== issued.securityToken)
    return [403, 'InvalidSecurityToken', 'The security token is not the one issued with this key.'] as const;
  if ((options.now ?? Date.now)() >= issued.expiresAt)
    return [403, 'SecurityTokenExpired', 'The security token you provided has expired.'] as const;
  const expected = createHmac('sha1', issued.accessKeySecret)
    .update(stringToSign(req, `/${bucket}/${key}`), 'utf8')
    .digest('base64');
  if (expected !== signed[2])
    return [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'] as const;
  const action = req.method === 'PUT' ? 'oss:PutObject' : 'oss:GetObject';
  if (issued.policy !== undefined && !policyAllows(issued.policy, action, `acs:oss:*:*:${bucket}/${key}`)) {
    return [403, 'AccessDenied', 'You have no right to access this object because of bucket acl or session policy.'] as const;
  }
  return undefined;
}

/** Starts the store on 127.0.0.1; point ali-oss at its `url` (an IP endpoint, so the path is the object's name). */
export async function startObjectStorage(options: ObjectStorageOptions): Promise<ObjectStorage> {
  const requests: ObjectStorageRequest[] = [];
  const objects = new Map<string, Buffer>();
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const key = decodeURIComponent(new URL(req.url ?? '/', 'http://oss').pathname.slice(1));
    const accessKeyId = /^OSS ([^:]+):/.exec(String(req.headers.authorization ?? ''))?.[1];
    const refused = refusal(req, options.bucket, key, options, accessKeyId);
    const record = (status: number, code?: string) =>
      requests.push({ method: req.method ?? '', key, status, ...(accessKeyId && { accessKeyId }), ...(code && { code }) });
    if (refused) {
      record(refused[0], refused[1]);
      return answerError(res, refused[0], refused[1], refused[2]);
    }
    if (req.method === 'PUT') {
      objects.set(key, body);
      record(200);
      res.writeHead(200, { 'x-oss-request-id': randomUUID(), etag: '"0"' });
      return res.end();
    }
    const object = objects.get(key);
    if (req.method !== 'GET' || object === undefined) {
      record(404, 'NoSuchKey');
      return answerError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    }
    record(200);
    res.writeHead(200, { 'x-oss-request-id': randomUUID(), 'content-type': 'application/octet-stream' });
    res.end(object);
  };
  // A failure answers 500 at once rather than leaving the client to its timeout.
  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) answerError(res, 500, 'InternalError', String(error));
    });
  });
  const listening = await listenOnLoopback(server);
  return { ...listening, bucket: options.bucket, requests, objects };
}
