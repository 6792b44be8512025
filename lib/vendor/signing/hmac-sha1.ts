import { createHmac } from 'node:crypto';
import { canonicalQuery, percentEncode } from './percent-encode.js';

/** `METHOD&%2F&enc(canonical query)` over every parameter but `Signature` (RPC, SignatureVersion 1.0). */
export function rpcStringToSign(method: string, params: Record<string, string>): string {
  const { Signature: _signature, ...signed } = params;
  return `${method}&${percentEncode('/')}&${percentEncode(canonicalQuery(signed))}`;
}

/** base64 HMAC-SHA1 keyed with `secret&` (the empty token secret after the `&`). */
export function rpcSignature(method: string, params: Record<string, string>, accessKeySecret: string): string {
  return createHmac('sha1', `${accessKeySecret}&`).update(rpcStringToSign(method, params), 'utf8').digest('base64');
}
