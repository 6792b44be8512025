import { createHash } from 'node:crypto';
import { compareBytes } from './percent-encode.js';

type UcloudScalar = string | number | boolean;
/** A parameter value UCloud accepts: a scalar, a list of scalars, or nothing. */
export type UcloudValue = UcloudScalar | undefined | null | readonly UcloudScalar[];

/** Decimal without exponent: String(1e21) is "1e+21" and String(1e-7) is "1e-7", which UCloud does not read as numbers. */
function plainNumber(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`UCloud parameter is not a finite number: ${n}`);
  const text = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign = '', head = '', tail = '', exp = '0'] = m;
  const e = Number(exp);
  // Exponent form only appears for |n| >= 1e21 (more places than digits) or |n| < 1e-6.
  return e > 0 ? sign + head + tail + '0'.repeat(e - tail.length) : `${sign}0.${'0'.repeat(-e - 1)}${head}${tail}`;
}

const format = (value: UcloudScalar): string => (typeof value === 'number' ? plainNumber(value) : String(value));

/** Flat string parameters as UCloud reads them: absent values dropped, lists as `Name.0`, `Name.1`. */
export function flattenUcloudParams(params: Record<string, UcloudValue>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (typeof value !== 'object') flat[name] = format(value);
    else for (const [i, item] of value.entries()) flat[`${name}.${i}`] = format(item);
  }
  return flat;
}

/** Lower-case hex SHA-1 of the byte-sorted `name value` pairs (PublicKey included) followed by the private key. */
export function ucloudSignature(params: Record<string, UcloudValue>, publicKey: string, privateKey: string): string {
  const flat = flattenUcloudParams({ ...params, PublicKey: publicKey });
  const text = Object.keys(flat)
    .sort(compareBytes)
    .map((name) => name + flat[name])
    .join('');
  return createHash('sha1')
    .update(text + privateKey, 'utf8')
    .digest('hex');
}
