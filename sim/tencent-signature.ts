/**
 * Tencent Cloud's TC3-HMAC-SHA256 as the simulator checks it, written from the vendor's
 * "Signature v3" page with node:crypto only (no code shared with lib/, so a signing bug in
 * the broker shows up here instead of being reproduced).
 */
import { createHash, createHmac } from 'node:crypto';

/** What the vendor recomputes a signature from: the request as received, and its own date and service. */
export interface Tc3VerifyInput {
  method: string;
  path: string;
  /** The raw query string, without `?`. */
  query: string;
  /** Values of the signed headers, by lower-case name. */
  headers: Record<string, string>;
  signedHeaders: string[];
  body: Buffer | string;
  timestamp: number;
  service: string;
}

/** The parts of an `Authorization: TC3-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header. */
export interface Tc3Authorization {
  secretId: string;
  date: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTHORIZATION =
  /^TC3-HMAC-SHA256\s+Credential=([^/\s,]+)\/(\d{4}-\d{2}-\d{2})\/([^/\s,]+)\/tc3_request\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-fA-F]{64})$/;

/** The header's parts, or undefined when it is not a TC3-HMAC-SHA256 Authorization. */
export function parseTc3Authorization(value: string | undefined): Tc3Authorization | undefined {
  const match = AUTHORIZATION.exec((value ?? '').trim());
  if (!match) return undefined;
  return {
    secretId: match[1]!,
    date: match[2]!,
    service: match[3]!,
    signedHeaders: match[4]!.toLowerCase().split(';'),
    signature: match[5]!.toLowerCase(),
  };
}

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** UTC date of a unix timestamp: the credential scope's date. */
export function utcDate(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().slice(0, 10);
}

/** Signed headers sorted, each `name:value` lower-cased and trimmed; the body's SHA-256 last. */
export function tc3CanonicalRequest(input: Omit<Tc3VerifyInput, 'timestamp' | 'service'>): string {
  const names = [...input.signedHeaders].sort();
  const headers = names.map((name) => `${name}:${(input.headers[name] ?? '').trim().toLowerCase()}\n`).join('');
  return [input.method, input.path, input.query, headers, names.join(';'), sha256Hex(input.body)].join('\n');
}

/** The hex signature the vendor expects, with the date taken from the timestamp and the service its own. */
export function expectedTc3Signature(input: Tc3VerifyInput, secretKey: string): string {
  const date = utcDate(input.timestamp);
  const mac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const signingKey = mac(mac(mac(`TC3${secretKey}`, date), input.service), 'tc3_request');
  const stringToSign = [
    'TC3-HMAC-SHA256',
    String(input.timestamp),
    `${date}/${input.service}/tc3_request`,
    sha256Hex(tc3CanonicalRequest(input)),
  ].join('\n');
  return createHmac('sha256', signingKey).update(stringToSign).digest('hex');
}
