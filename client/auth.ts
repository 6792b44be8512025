/**
 * How an app (or the credentials agent) proves who it is to the broker: SigV4 for API Gateway's
 * IAM authorizer (service `execute-api`, the AWS default credential chain), a bearer JWT read
 * from a file at every call (so a rotated token is picked up), or nothing (a local `npm start`).
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { defaultProvider } from '@aws-sdk/credential-provider-node';

/** How to authenticate to the broker. */
export type BrokerAuth = { kind: 'iam' } | { kind: 'jwt-file'; path: string } | { kind: 'none' };

/** A request to the broker before and after `authorize` (a plain object, as `fetch` takes it). */
export interface BrokerRequest {
  /** The full URL, `https://…/v1/…` (or loopback http). */
  url: string;
  method: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/** Parses the `--auth` flag: `iam`, `jwt-file=<path>` or `none`; anything else throws. */
export function parseAuth(flag: string): BrokerAuth {
  if (flag === 'iam') return { kind: 'iam' };
  if (flag === 'none') return { kind: 'none' };
  if (flag.startsWith('jwt-file=')) {
    const path = flag.slice('jwt-file='.length);
    if (path.trim() === '') throw new Error('--auth jwt-file=<path> needs the path of the file that holds the token');
    return { kind: 'jwt-file', path };
  }
  throw new Error(`--auth must be iam, jwt-file=<path> or none (got "${flag.slice(0, 40)}")`);
}

// Created on first IAM use, never at import; the chain caches and renews what it resolves.
let credentialChain: ReturnType<typeof defaultProvider> | undefined;

async function awsCredentials(): Promise<ReturnType<typeof defaultProvider>> {
  if (!credentialChain) {
    const chain = await import('@aws-sdk/credential-provider-node');
    credentialChain = chain.defaultProvider();
  }
  return credentialChain;
}

/** Reads the bearer token afresh; the message names the file, never its content. */
async function readToken(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new Error(`cannot read the broker token file ${path} (${code})`);
  }
  const token = text.trim();
  if (token === '') throw new Error(`the broker token file ${path} is empty`);
  return token;
}

async function signV4(request: BrokerRequest): Promise<Record<string, string>> {
  const region = process.env.AWS_REGION;
  if (!region) throw new Error('--auth iam needs AWS_REGION: the region of the broker’s API (SigV4 signs for it)');
  const [{ SignatureV4 }, { Hash }] = await Promise.all([import('@smithy/signature-v4'), import('@smithy/hash-node')]);
  const url = new URL(request.url);
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: await awsCredentials(),
    sha256: Hash.bind(null, 'sha256'),
  });
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = value;
  const signed = await signer.sign({
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port && { port: Number(url.port) }),
    path: url.pathname,
    query,
    headers: { ...request.headers, host: url.host },
    body: request.body,
  });
  return signed.headers;
}

/**
 * Returns the request with the headers `auth` asks for: SigV4 (`authorization`, `x-amz-date`,
 * `x-amz-security-token` with temporary credentials, `host`) or `authorization: Bearer <token>`.
 */
export async function authorize(request: BrokerRequest, auth: BrokerAuth): Promise<BrokerRequest> {
  switch (auth.kind) {
    case 'none':
      return request;
    case 'jwt-file':
      return { ...request, headers: { ...request.headers, authorization: `Bearer ${await readToken(auth.path)}` } };
    case 'iam':
      return { ...request, headers: await signV4(request) };
  }
}
