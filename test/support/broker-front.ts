/**
 * The broker's HTTP API in miniature for client tests: a loopback server that does what API
 * Gateway and its authorizer do (a JWT authorizer whose bearer token names the tenant, or the IAM
 * authorizer verifying SigV4 for `execute-api` by re-signing with @smithy/signature-v4), then runs
 * the route's real function handler (found through the registry) and writes its answer back.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { loadOperations } from '../../lib/operations/index.js';
import { httpApiEvent, lambdaContext } from '../../sim/lambda-events.js';
import { type LoopbackServer, listenOnLoopback } from '../../sim/loopback-server.js';

/** The credentials an IAM-mode front accepts signatures of (tests put them in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). */
export const FRONT_AWS_CREDENTIALS = { accessKeyId: 'AKIDFRONTTEST0000001', secretAccessKey: 'front-test-secret-access-key-0000000001' };
/** The region an IAM-mode front checks signatures for. */
export const FRONT_REGION = 'eu-west-1';
/** The principal the IAM authorizer reports for a good signature. */
export const FRONT_IAM_PRINCIPAL = 'arn:aws:iam::123456789012:user/app-uploads';

/** One request the front received: what the authorizer saw and decided. */
export interface FrontRequest {
  path: string;
  authorization?: string;
  /** IAM mode: whether the signature verified. */
  signatureValid?: boolean;
  status: number;
}

/** A running front. */
export interface BrokerFront extends LoopbackServer {
  requests: FrontRequest[];
}

/**
 * JWT mode: `Authorization: Bearer <tenant>[.<anything>]` becomes the claims
 * `{ iss, sub: app-of-<tenant>, tenant }` (a token's suffix may change on rotation, its tenant not).
 */
function jwtClaims(authorization: string | undefined) {
  const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
  if (!token) return undefined;
  const tenant = token.split('.')[0]!;
  return { iss: 'https://issuer.example.test', sub: `app-of-${tenant}`, tenant };
}

/** Re-signs the request as received with the known credentials, at its own x-amz-date, and compares. */
async function sigV4Valid(method: string, path: string, headers: IncomingHttpHeaders, body: string): Promise<boolean> {
  const authorization = headers.authorization;
  const amzDate = headers['x-amz-date'];
  if (typeof authorization !== 'string' || typeof amzDate !== 'string') return false;
  // The signer's payload hash header stands for the body when re-signing: check it against the body as API Gateway does.
  const payloadHash = headers['x-amz-content-sha256'];
  if (payloadHash !== undefined && payloadHash !== createHash('sha256').update(body).digest('hex')) return false;
  const signedNames = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
  const signedHeaders: Record<string, string> = {};
  for (const name of signedNames) {
    const value = headers[name];
    if (typeof value === 'string') signedHeaders[name] = value;
  }
  const signer = new SignatureV4({
    service: 'execute-api',
    region: FRONT_REGION,
    credentials: FRONT_AWS_CREDENTIALS,
    sha256: Hash.bind(null, 'sha256'),
  });
  const at = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  const expected = await signer.sign(
    { method, protocol: 'http:', hostname: '127.0.0.1', path, query: {}, headers: signedHeaders, body },
    { signingDate: at },
  );
  return expected.headers.authorization === authorization;
}

/** Starts a front on loopback with `auth` as its authorizer; every registry route runs its function's handler. */
export async function startBrokerFront(auth: 'jwt' | 'iam'): Promise<BrokerFront> {
  const routes = new Map<string, string>((await loadOperations()).map((operation) => [operation.route, operation.functionName]));
  const requests: FrontRequest[] = [];
  const server = await listenOnLoopback(
    createServer((req, res) => {
      // A front that fails answers 500 (and the test sees it) instead of leaving the request open.
      serve(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"Internal Server Error"}');
      });
    }),
  );
  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const path = req.url ?? '/';
    const record: FrontRequest = { path, authorization: req.headers.authorization, status: 0 };
    requests.push(record);
    const send = (status: number, headers: Record<string, string>, text: string) => {
      record.status = status;
      res.writeHead(status, headers).end(text);
    };
    const functionName = routes.get(path);
    if (req.method !== 'POST' || !functionName) return send(404, { 'content-type': 'application/json' }, '{"message":"Not Found"}');
    let authorizer: Record<string, unknown>;
    if (auth === 'iam') {
      record.signatureValid = await sigV4Valid(req.method, path, req.headers, body);
      // API Gateway's own refusal, in its own shape.
      if (!record.signatureValid) return send(403, { 'content-type': 'application/json' }, '{"message":"Forbidden"}');
      authorizer = { iam: { userArn: FRONT_IAM_PRINCIPAL, accountId: '123456789012' } };
    } else {
      const claims = jwtClaims(req.headers.authorization);
      if (!claims) return send(401, { 'content-type': 'application/json' }, '{"message":"Unauthorized"}');
      authorizer = { jwt: { claims, scopes: null } };
    }
    const { handler } = (await import(`../../functions/${functionName}.ts`)) as {
      handler: (event: unknown, context: unknown) => Promise<unknown>;
    };
    const event = httpApiEvent(path as `/v1/${string}`, undefined, { rawBody: body || '{}', authorizer });
    const answer = (await handler(event, lambdaContext(30_000))) as APIGatewayProxyResult;
    send(answer.statusCode, answer.headers as Record<string, string>, answer.body);
  }
  return Object.assign(server, { requests });
}
