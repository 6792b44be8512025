import * as z from 'zod/mini';
import { BrokerError } from './errors.js';

/** A key a path may name as it is: what the schemas' own field names look like. */
const NAMEABLE_KEY = /^[A-Za-z0-9_-]{1,64}$/;
/** What a path shows for a key it may not name (an unknown key is the event's own text: control characters, a secret, 60 KiB). */
export const UNNAMED_KEY = '(unnamed)';

/** One step of a path: an index, or a key when it looks like a field name. */
function segment(key: PropertyKey): string {
  if (typeof key === 'number') return String(key);
  return typeof key === 'string' && NAMEABLE_KEY.test(key) ? key : UNNAMED_KEY;
}

/**
 * zod issues as docs/contracts.md's `details`: one entry per offending field, unknown fields
 * named one by one. A path names fields, never values; a key that does not look like a field
 * name is shown as `(unnamed)`, so nothing a caller or an event wrote reaches a log line or a
 * dead-letter attribute through it.
 */
export function issueDetails(error: z.core.$ZodError): { path: string; message: string }[] {
  const details: { path: string; message: string }[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(segment).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const name = segment(key);
        details.push({ path: path ? `${path}.${name}` : name, message: 'unknown field' });
      }
    } else {
      details.push({ path: path || '(body)', message: describeIssue(issue) });
    }
    if (details.length >= MAX_DETAILS) break;
  }
  // A hostile body can hold thousands of unknown keys: the answer names the first few.
  return details.slice(0, MAX_DETAILS);
}

/** The most field problems an answer lists. */
const MAX_DETAILS = 20;

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}${issue.origin === 'string' ? ' characters' : ''}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}${issue.origin === 'string' ? ' characters' : ''}`;
    case 'invalid_format':
      return `must match ${issue.format === 'regex' ? 'the documented pattern' : issue.format}`;
    default:
      return 'invalid value';
  }
}

/** Parses `value` or throws a BrokerError of `code` whose message names no value (values may be secret). */
export function parseOrThrow<S extends z.core.$ZodType>(
  schema: S,
  value: unknown,
  code: 'InvalidRequest' | 'VendorError' | 'ConfigurationError',
  message: string,
): z.infer<S> {
  const result = z.safeParse(schema, value);
  if (result.success) return result.data;
  // Details name fields, never values; callers see them only for InvalidRequest (errors.ts).
  throw new BrokerError(code, message, { details: issueDetails(result.error) });
}
