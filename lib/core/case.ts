/**
 * docs/contracts.md's one mechanical rule for vendor payloads: every object key gets its
 * first letter lower-cased, nothing else renamed (`EndPoint` → `endPoint`).
 */
function lowerFirst(key: string): string {
  return key.length === 0 ? key : key[0]!.toLowerCase() + key.slice(1);
}

/** `custSpaceId` → `CustSpaceId`: a body field as the vendor names its parameter. */
export function upperFirst(key: string): string {
  return key.length === 0 ? key : key[0]!.toUpperCase() + key.slice(1);
}

/** Every object key, however deep, with its first letter lower-cased; arrays and values kept as they are. */
export function camelizeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelizeKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[lowerFirst(key)] = camelizeKeys(inner);
    return out;
  }
  return value;
}
