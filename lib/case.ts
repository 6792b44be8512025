/**
 * docs/contracts.md's one mechanical rule for vendor payloads: every object key gets its
 * first letter lower-cased, nothing else renamed (`EndPoint` → `endPoint`).
 */
export function lowerFirst(key: string): string {
  return key.length === 0 ? key : key[0]!.toLowerCase() + key.slice(1);
}

export function upperFirst(key: string): string {
  return key.length === 0 ? key : key[0]!.toUpperCase() + key.slice(1);
}

export function camelizeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelizeKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[lowerFirst(key)] = camelizeKeys(inner);
    return out;
  }
  return value;
}
