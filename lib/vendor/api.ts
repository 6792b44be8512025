import type { Config } from '../core/config.js';
import type { KeysOf, Vendor } from './keys.js';

/** What a vendor adapter produces and how the vendor call treats an answer (docs/vendors.md, error classes). */
export interface SignedRequest {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body?: string;
}

/** How the vendor call treats a failed answer. */
export type FailureClass =
  /** Retry with backoff. */
  | 'throttled'
  | 'transient'
  /** Re-read the keys past the cache and retry once. */
  | 'key'
  /** Re-sign (new nonce and timestamp) and retry once. */
  | 'clock'
  | 'accessDenied'
  | 'notFound'
  | 'rejected'
  /** The broker sent something the vendor cannot route: our bug. */
  | 'bug'
  /** The answer could not be read at all. */
  | 'malformed';

/** A classified vendor answer. */
export type VendorOutcome =
  | { kind: 'ok'; payload: Record<string, unknown>; vendorRequestId?: string }
  | { kind: FailureClass; vendorCode: string; vendorRequestId?: string; retryAfterMs?: number };

/** Request parameters in the vendor's own names, before encoding. */
export type VendorParams = Record<string, string | number | boolean | readonly string[] | undefined>;

/** What a signer needs of an operation. */
export interface OperationTarget {
  action: string;
  version?: string;
  /** Alibaba RPC: where the official SDK puts the operation's parameters. */
  paramsIn?: 'query' | 'body';
  /** Tencent Cloud: the product in the credential scope (`sts`). */
  service?: string;
}

/** The part of a vendor call that knows the vendor: how to sign, and how to read an answer. */
export interface VendorAdapter<Keys> {
  sign(input: { endpoint: string; target: OperationTarget; params: VendorParams; keys: Keys; now: Date }): SignedRequest;
  classify(status: number, headers: ResponseHeaders, text: string): VendorOutcome;
}

/**
 * A vendor as an operation spec names it (`api`): its name and its adapter as configured. Each
 * spec imports its own vendor's, so a function's bundle holds no other vendor's signing code.
 */
export interface VendorApi<V extends Vendor = Vendor> {
  name: V;
  adapter(config: Config): VendorAdapter<KeysOf<V>>;
}

/** What an adapter reads of an answer's headers (a `Headers` object has it too): a value by name, any case. */
export interface ResponseHeaders {
  get(name: string): string | null;
}

/** Parses a JSON object body, or returns undefined for anything else. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Retry-After in seconds (RFC 9110: delay-seconds or an HTTP date) as milliseconds. */
export function retryAfterMs(headers: ResponseHeaders, now = Date.now()): number | undefined {
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
