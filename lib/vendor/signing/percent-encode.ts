/** Alibaba Cloud percent-encoding (docs/vendors.md, "Alibaba Cloud signing"): RFC 3986 unreserved stay, all else %XY. */
export function percentEncode(value: string): string {
  // encodeURIComponent leaves !'()* alone; Alibaba encodes them.
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Orders strings by their UTF-8 bytes (= code points), not by UTF-16 units or locale. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** `enc(name)=enc(value)` sorted by name, joined by `&`. */
export function canonicalQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .sort(compareBytes)
    .map((name) => `${percentEncode(name)}=${percentEncode(params[name] ?? '')}`)
    .join('&');
}
