/**
 * One JSON object per line on stdout, with every secret removed before it is written.
 * Two nets: keys whose name says "secret" are masked wherever they are nested, and
 * any string holding a registered secret value (master keys) is scrubbed. A line may carry
 * metrics (EMF, lib/core/metrics.ts): they are appended unredacted, being names from code and
 * numbers, and such a line is written at every level but `silent`.
 * @module
 */
const REDACTED = '[REDACTED]';

/** Normalises a key name: lower case, letters and digits only (`X-TC-Token` → `xtctoken`). */
const normalise = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * Normalised key names whose values are always secret: the generic ones here, and each loaded
 * vendor's (its adapter's `secretFields`: master-key secrets, STS tokens, their headers), which
 * lib/vendor/api.ts defineVendor adds as the adapter loads.
 */
const SECRET_KEY_NAMES = new Set(['sessiontoken', 'signature', 'authorization', 'secret', 'password']);

/** Field names whose values must be masked wherever they are nested, in any spelling (a vendor's secretFields). */
export function registerSecretNames(names: readonly string[]): void {
  for (const name of names) SECRET_KEY_NAMES.add(normalise(name));
}

const secretValues = new Set<string>();

/** Values that must never be printed (master keys); short values are ignored so `a` does not mask every word. */
export function registerSecret(value: string | undefined): void {
  if (value !== undefined && value.length >= 6) secretValues.add(value);
}

function isSecretKey(key: string): boolean {
  return SECRET_KEY_NAMES.has(normalise(key));
}

function scrubString(value: string): string {
  let out = value;
  for (const secret of secretValues) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/** A copy of `value` with secret-named keys masked and registered secret values scrubbed, however deep. */
export function redact(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (value instanceof Error) {
    return redact({ name: value.name, message: value.message, ...(value.cause !== undefined && { cause: value.cause }) }, seen);
  }
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, seen));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) out[key] = isSecretKey(key) ? REDACTED : redact(inner, seen);
  return out;
}

/**
 * An id that came with an event (an SQS message id, an EventBridge event id) as a log line may
 * show it: only when it looks like an id, since an event's text may be anything.
 */
export function plainId(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(value) ? value : undefined;
}

/** The levels a line can be written at. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
type Threshold = LogLevel | 'silent';
/** Structured fields of a log line. */
export type LogFields = Record<string, unknown>;

/**
 * The metrics a line carries (CloudWatch EMF, made by lib/core/metrics.ts): JSON members appended
 * to the line's object as they are, never redacted (metric and dimension names from code,
 * numbers, the operation's name and an error code), and the operation the `operation`
 * dimension names, which the line gets when its fields lack it. A line with metrics is
 * written at every level but `silent`: LOG_LEVEL never drops metrics.
 */
export interface MetricMembers {
  operation: string;
  /** `"Name":value,…,"_aws":{…}`: members of an object, without braces. */
  json: string;
}

/** A JSON-lines logger bound to some fields (request id, operation). */
export interface Logger {
  debug(message: string, fields?: LogFields, metrics?: MetricMembers): void;
  info(message: string, fields?: LogFields, metrics?: MetricMembers): void;
  warn(message: string, fields?: LogFields, metrics?: MetricMembers): void;
  error(message: string, fields?: LogFields, metrics?: MetricMembers): void;
  /** A `{"type": "audit"}` record: written at every level but `silent`. */
  audit(fields: LogFields, metrics?: MetricMembers): void;
  child(fields: LogFields): Logger;
}

const LEVELS: Record<Threshold, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** LOG_LEVEL: debug, info (default), warn, error or silent; read once per logger (one per invocation). */
function threshold(): number {
  const level = (process.env.LOG_LEVEL ?? 'info').toLowerCase() as Threshold;
  return LEVELS[level] ?? LEVELS.info;
}

/** A logger writing one redacted JSON object per line to stdout. */
export function createLogger(base: LogFields = {}, level = threshold()): Logger {
  const emit = (record: LogFields, metrics?: MetricMembers) => {
    if (metrics !== undefined && record.operation === undefined) record.operation = metrics.operation;
    const text = JSON.stringify(redact(record));
    process.stdout.write(metrics === undefined ? `${text}\n` : `${text.slice(0, -1)},${metrics.json}}\n`);
  };
  const write = (at: LogLevel, message: string, fields?: LogFields, metrics?: MetricMembers) => {
    if (LEVELS[at] < level && (metrics === undefined || level >= LEVELS.silent)) return;
    emit({ level: at, time: new Date().toISOString(), message, ...base, ...fields }, metrics);
  };
  return {
    debug: (message, fields, metrics) => write('debug', message, fields, metrics),
    info: (message, fields, metrics) => write('info', message, fields, metrics),
    warn: (message, fields, metrics) => write('warn', message, fields, metrics),
    error: (message, fields, metrics) => write('error', message, fields, metrics),
    audit: (fields, metrics) => {
      if (level < LEVELS.silent) emit({ type: 'audit', time: new Date().toISOString(), ...base, ...fields }, metrics);
    },
    child: (fields) => createLogger({ ...base, ...fields }, level),
  };
}
