import { createHash, createHmac } from 'node:crypto';

const TC3_ALGORITHM = 'TC3-HMAC-SHA256';

/** The parts of a Tencent Cloud API 3.0 request that TC3-HMAC-SHA256 signs (docs/vendors.md, "Tencent Cloud signing"). */
export interface Tc3Request {
  method: 'POST' | 'GET';
  /** `/` for every API 3.0 call. */
  path: string;
  /** The URL's query string as sent, without `?`; empty for POST. */
  query: string;
  /**
   * The headers to sign, by name in any case: at least `content-type` and `host`. `host` is
   * the endpoint's host name without a port, as the official SDK signs it.
   */
  headers: Record<string, string>;
  /** The body exactly as sent. */
  body: string;
  /** X-TC-Timestamp: unix seconds. */
  timestamp: number;
  /** The product in the credential scope (`sts`, `cvm`): the first label of its endpoint host. */
  service: string;
}

/** The API key pair that signs. */
export type Tc3Credentials = { secretId: string; secretKey: string };

function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** The credential scope's date: the UTC date of the timestamp (never a local one, or calls fail after midnight in UTC+8). */
export function tc3Date(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().slice(0, 10);
}

/** The canonical request and its signed header names: names and values lower-cased and trimmed, names sorted. */
export function tc3CanonicalRequest(req: Tc3Request): { canonical: string; signedHeaders: string } {
  const byName = new Map<string, string>();
  for (const [name, value] of Object.entries(req.headers)) byName.set(name.trim().toLowerCase(), value.trim().toLowerCase());
  for (const required of ['content-type', 'host']) {
    if (!byName.has(required)) throw new Error(`TC3-HMAC-SHA256 signs ${required}; the request has none`);
  }
  const names = [...byName.keys()].sort();
  const canonicalHeaders = names.map((name) => `${name}:${byName.get(name)}\n`).join('');
  const signedHeaders = names.join(';');
  // canonicalHeaders ends in \n, so an empty line precedes the signed names, as in the vendor's example.
  const canonical = [req.method, req.path, req.query, canonicalHeaders, signedHeaders, sha256Hex(req.body)].join('\n');
  return { canonical, signedHeaders };
}

/** `TC3-HMAC-SHA256`, the timestamp, the credential scope and the canonical request's hash, one per line. */
export function tc3StringToSign(timestamp: number, credentialScope: string, canonical: string): string {
  return [TC3_ALGORITHM, String(timestamp), credentialScope, sha256Hex(canonical)].join('\n');
}

/** SecretDate → SecretService → SecretSigning, each an HMAC-SHA256 keyed with the one before. */
export function tc3SigningKey(secretKey: string, date: string, service: string): Buffer {
  return hmac(hmac(hmac(`TC3${secretKey}`, date), service), 'tc3_request');
}

/** The `Authorization` header value. */
export function tc3Authorization(req: Tc3Request, credentials: Tc3Credentials): string {
  const { canonical, signedHeaders } = tc3CanonicalRequest(req);
  const date = tc3Date(req.timestamp);
  const credentialScope = `${date}/${req.service}/tc3_request`;
  const signature = createHmac('sha256', tc3SigningKey(credentials.secretKey, date, req.service))
    .update(tc3StringToSign(req.timestamp, credentialScope, canonical), 'utf8')
    .digest('hex');
  return `${TC3_ALGORITHM} Credential=${credentials.secretId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}
