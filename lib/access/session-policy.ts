/**
 * Session-policy templates of the caller policy (docs/contracts.md, "Session policies"): a
 * vendor policy document whose string values may name the caller's claims, rendered for each
 * request and sent as STS AssumeRole's `Policy`, so the credentials reach only what the
 * caller's own claims name. A claim that could widen the document is refused, never escaped.
 * @module
 */
import * as z from 'zod/mini';
import type { Caller } from './caller.js';
import { checkReferences, claimRefusal, claimValue, PolicyMalformed, REFERENCE } from './claims.js';

/**
 * Most UTF-8 bytes a rendered session policy may take: Alibaba Cloud's AssumeRole takes a
 * `Policy` of 1 to 2,048 characters (Tencent Cloud documents no bound); counting bytes
 * keeps within it however the vendor counts characters.
 */
export const MAX_SESSION_POLICY_BYTES = 2048;

/**
 * The longest claim (UTF-16 code units) a session policy takes; a longer one is refused, so
 * the size bound holds. Tenant names and subjects (a UUID is 36) fit; each reference may
 * then add at most 192 bytes, so a template can name claims several times and stay bounded.
 */
export const MAX_SESSION_CLAIM_LENGTH = 64;

/** UTF-8 bytes one UTF-16 code unit may take: 3 for a BMP character, 4 for a surrogate pair (2 units). */
const MOST_BYTES_PER_UNIT = 3;

/** A session policy as the caller policy holds it: a JSON object, `${claim}` allowed in string values only. */
export const sessionPolicySchema = z.record(z.string(), z.json());
/** A session-policy template: JSON whose string values may hold `${claim}` references. */
export type SessionPolicyTemplate = z.infer<typeof sessionPolicySchema>;
type Json = SessionPolicyTemplate[string];

/**
 * A session policy for one caller: rendered, or the claim that stopped it and why (missing,
 * empty or a list; or outside the allow-list, claimRefusal). Either way the request is refused.
 */
export type SessionPolicyRendering = { policy: string } | { refused: { claim: string; reason: string } };

/** Why a claim the template names and the caller lacks (absent, empty, or a list) stops the request. */
export const MISSING_CLAIM = 'is missing, empty or a list';

/** A compiled template: renders the session policy for a caller. */
export type RenderSessionPolicy = (caller: Caller) => SessionPolicyRendering;

const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** `value` with every string value passed through `change`; keys and every other value kept. */
function mapStrings(value: Json, change: (text: string) => string): Json {
  if (typeof value === 'string') return change(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, change));
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties: a `__proto__` key stays a key.
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, mapStrings(inner, change)]));
  }
  return value;
}

/** Every key and string value of `value`, with where it is. */
function* textsOf(value: Json, where: string): Generator<{ text: string; where: string; isKey: boolean }> {
  if (typeof value === 'string') yield { text: value, where, isKey: false };
  else if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* textsOf(item, `${where}[${i}]`);
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      yield { text: key, where: `${where}.${key}`, isKey: true };
      yield* textsOf(inner, `${where}.${key}`);
    }
  }
}

/**
 * The claims a template names, each once, after checking where it names them: only inside
 * string values, each reference expressible, never `${principal}` (an IAM principal is an
 * ARN, and its `/` would always be refused), the text well-formed Unicode.
 */
function checkTemplate(template: SessionPolicyTemplate, where: string): string[] {
  if (Object.keys(template).length === 0) throw new PolicyMalformed(`${where}: an empty session policy`);
  const names = new Set<string>();
  for (const { text, where: at, isKey } of textsOf(template, where)) {
    if (/\p{Cs}/u.test(text)) throw new PolicyMalformed(`${at}: not well-formed Unicode`);
    if (isKey) {
      if (text.includes('${')) throw new PolicyMalformed(`${at}: a claim may be named in a string value only, never in a key`);
      continue;
    }
    checkReferences(text, at);
    for (const match of text.matchAll(REFERENCE)) {
      if (match[1] === 'principal') throw new PolicyMalformed(`${at}: \${principal} is an ARN, whose \`/\` a session policy refuses`);
      names.add(match[1]!);
    }
  }
  return [...names];
}

/** How many references a template holds, repeats counted: each may add a whole claim. */
function referenceCount(template: SessionPolicyTemplate): number {
  let count = 0;
  for (const { text, isKey } of textsOf(template, '')) if (!isKey) count += Array.from(text.matchAll(REFERENCE)).length;
  return count;
}

/** The most UTF-8 bytes the template can render to: every reference a claim of the longest length, of the widest characters. */
function largestRendering(template: SessionPolicyTemplate): number {
  const bare = JSON.stringify(mapStrings(template, (text) => text.replace(REFERENCE, '')));
  return utf8Bytes(bare) + referenceCount(template) * MAX_SESSION_CLAIM_LENGTH * MOST_BYTES_PER_UNIT;
}

/**
 * Checks a template and compiles it, once per policy read. The renderer walks the parsed
 * document and replaces references inside its string values, then serialises it: the
 * caller's text is never spliced into JSON text. Throws PolicyMalformed, saying where.
 */
export function compileSessionPolicy(template: SessionPolicyTemplate, where: string): RenderSessionPolicy {
  const names = checkTemplate(template, where);
  const largest = largestRendering(template);
  if (largest > MAX_SESSION_POLICY_BYTES) {
    throw new PolicyMalformed(
      `${where}: may render to ${largest} bytes (claims of up to ${MAX_SESSION_CLAIM_LENGTH} characters); the vendors take ${MAX_SESSION_POLICY_BYTES}`,
    );
  }
  return (caller) => {
    const values = new Map<string, string>();
    for (const name of names) {
      const value = claimValue(caller, name);
      if (value === undefined) return { refused: { claim: name, reason: MISSING_CLAIM } };
      values.set(name, value);
    }
    for (const [claim, value] of values) {
      const reason = claimRefusal(value);
      if (reason !== undefined) return { refused: { claim, reason } };
    }
    const rendered = mapStrings(template, (text) => text.replace(REFERENCE, (_whole, name: string) => values.get(name)!));
    return { policy: JSON.stringify(rendered) };
  };
}
