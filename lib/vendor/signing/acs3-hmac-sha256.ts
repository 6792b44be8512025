import { createHash, createHmac } from 'node:crypto';
import { compareBytes, percentEncode } from './percent-encode.js';

const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

/** The parts of a request that ACS3-HMAC-SHA256 signs. */
export interface Acs3Request {
  method: string;
  host: string;
  /** Already percent-encoded; `/` for every RPC-style API. */
  path: string;
  query: Record<string, string>;
  /** Must hold host, x-acs-action/-version/-date/-signature-nonce/-content-sha256, content-type with a body; any case. */
  headers: Record<string, string>;
  body: string;
}

/** The AccessKey pair that signs. */
export type Acs3Credentials = { accessKeyId: string; accessKeySecret: string };

/** Lower-case hex SHA-256 of a UTF-8 string (the payload hash and the canonical request hash). */
export function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}

/**
 * Like canonicalQuery, but names stay as they are: the official openapi-util encodes only the values
 * (docs/vendors.md says both; the vendor's code wins). Alibaba's names ([A-Za-z0-9.]) encode to themselves anyway.
 */
function acs3Query(query: Record<string, string>): string {
  return Object.keys(query)
    .sort(compareBytes)
    .map((name) => `${name}=${percentEncode(query[name] ?? '')}`)
    .join('&');
}

const isSigned = (name: string) => name === 'host' || name === 'content-type' || name.startsWith('x-acs-');

/** The canonical request and its signed header names, as the vendor builds them. */
export function canonicalRequest(req: Acs3Request): { canonical: string; signedHeaders: string } {
  const hasHost = Object.keys(req.headers).some((name) => name.toLowerCase() === 'host');
  const byName = new Map<string, string[]>();
  for (const [name, value] of Object.entries(hasHost ? req.headers : { ...req.headers, host: req.host })) {
    const lower = name.toLowerCase();
    if (isSigned(lower)) byName.set(lower, [...(byName.get(lower) ?? []), value.trim()]);
  }
  const payloadHash = sha256Hex(req.body);
  const declared = byName.get('x-acs-content-sha256');
  // The server hashes the body it receives; a stale header would only come back as SignatureDoesNotMatch.
  if (declared && declared.join(',') !== payloadHash) throw new Error('x-acs-content-sha256 does not match the body');
  const names = [...byName.keys()].sort();
  // One name in several cases: values sorted and joined with `,`, as the official openapi-util does.
  const headers = names.map((name) => `${name}:${byName.get(name)!.sort().join(',')}\n`).join('');
  const signedHeaders = names.join(';');
  // `headers` ends in \n, so an empty line precedes the signed names, as in the vendor's code and example.
  const canonical = [req.method, req.path, acs3Query(req.query), headers, signedHeaders, payloadHash].join('\n');
  return { canonical, signedHeaders };
}

/** The `Authorization` header value. */
export function acs3Authorization(req: Acs3Request, credentials: Acs3Credentials): string {
  const { canonical, signedHeaders } = canonicalRequest(req);
  const stringToSign = `${ACS3_ALGORITHM}\n${sha256Hex(canonical)}`;
  const signature = createHmac('sha256', credentials.accessKeySecret).update(stringToSign, 'utf8').digest('hex');
  return `${ACS3_ALGORITHM} Credential=${credentials.accessKeyId},SignedHeaders=${signedHeaders},Signature=${signature}`;
}
