/**
 * The agent's log: one JSON object a line on stderr (stdout carries the start banner and
 * `print aliyun`'s JSON). Callers pass only fixed fields (route names, paths, statuses, error
 * codes and messages that carry no secret, times); no credential, token or JWT is ever a field.
 * @module
 */

/** Fields of one log line. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** Writes one line: `{"time","level","msg",...fields}`. */
export function log(level: 'info' | 'warn' | 'error', msg: string, fields: LogFields = {}): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
}
