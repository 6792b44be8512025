import { vi } from 'vitest';

/** Captures every line written to stdout (the broker's logs) until `restore()`. */
export function captureLogs() {
  const lines: string[] = [];
  const level = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'debug';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  return {
    lines,
    /** Every line parsed: proves each is one JSON object. */
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () => {
      spy.mockRestore();
      process.env.LOG_LEVEL = level;
    },
  };
}

/** Every string value anywhere inside `value` (secrets returned by the vendor, say). */
export function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}
