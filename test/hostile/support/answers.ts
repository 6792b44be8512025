/** What every HTTP answer must be (docs/contracts.md, "Answers" and "Errors"). */
import { ERROR_STATUS, type ErrorCode } from '../../../lib/core/errors.js';
import type { LoadAnswer } from './load.js';

/** The statuses a function may answer; 500 means a bug and is not among them. */
export const DOCUMENTED_STATUSES = new Set([200, 400, 403, 404, 413, 422, 429, 502, 503, 504]);

export interface CheckedAnswer {
  /** `200`, or `<status> <code>`; `no answer` when none came. */
  key: string;
  code?: ErrorCode;
  json?: any;
  /** Why the answer breaks the contract, if it does. */
  problem?: string;
}

/** Checks one answer against the contract; `operation` is the name the route's answers carry. */
export function checkAnswer(answer: LoadAnswer, operation: string): CheckedAnswer {
  if (answer.status === 0) return { key: 'no answer', problem: `no answer: ${answer.error}` };
  let json: any;
  try {
    json = JSON.parse(answer.body);
  } catch {
    return { key: String(answer.status), problem: `HTTP ${answer.status} with a body that is not JSON` };
  }
  const code: ErrorCode | undefined = json?.error?.code;
  const key = answer.status === 200 ? '200' : `${answer.status} ${code ?? '?'}`;
  const fail = (problem: string): CheckedAnswer => ({ key, json, ...(code && { code }), problem });
  if (!DOCUMENTED_STATUSES.has(answer.status)) return fail(`undocumented status ${answer.status}`);
  if (answer.headers['content-type'] !== 'application/json') return fail(`content-type ${answer.headers['content-type']}`);
  if (answer.headers['cache-control'] !== 'no-store') return fail(`cache-control ${answer.headers['cache-control']}`);
  const requestId = answer.headers['x-request-id'];
  if (typeof requestId !== 'string' || requestId === '') return fail('no X-Request-Id');
  if (answer.status === 200) {
    if (json.operation !== operation) return fail(`operation ${json.operation}, not ${operation}`);
    if (!('data' in json)) return fail('a success without data');
    if (json.requestId !== requestId) return fail('requestId differs from X-Request-Id');
    return { key, json };
  }
  if (typeof code !== 'string' || !(code in ERROR_STATUS)) return fail(`unknown error code ${code}`);
  if (ERROR_STATUS[code] !== answer.status) return fail(`code ${code} with status ${answer.status}`);
  if (typeof json.error.message !== 'string' || json.error.requestId !== requestId) return fail('error body without message or requestId');
  if (answer.status === 429 && !(Number(answer.headers['retry-after']) >= 1)) return fail('429 without Retry-After');
  return { key, json, code };
}

/** Counts by key, printed largest first. */
export class Tally {
  readonly counts = new Map<string, number>();
  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort((a, b) => b[1] - a[1]));
  }
  toString(): string {
    return [...this.counts]
      .sort((a, b) => b[1] - a[1])
      .map(([key, n]) => `${key}: ${n}`)
      .join(', ');
  }
}
