/**
 * A reference reading of the caller policy (docs/contracts.md, "Routes"; lib/access/policy.ts's
 * documented rules), written without lib/ and without building a RegExp from policy text:
 * globs, `${claim}` templates and the pattern subset the property tests generate (a small
 * regex AST) are matched here by plain string and set-of-positions code. The property tests
 * compare lib/access/policy.ts's decisions with these.
 */
import type { Caller } from '../../lib/access/caller.js';

// ---------------------------------------------------------------------------
// Globs: `*` matches any run of characters, everything else itself; the whole value.
// ---------------------------------------------------------------------------

export function globMatches(glob: string, value: string): boolean {
  const parts = glob.split('*');
  if (parts.length === 1) return glob === value;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) return false;
  let at = first.length;
  const end = value.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const found = value.indexOf(middle, at);
    if (found === -1 || found + middle.length > end) return false;
    at = found + middle.length;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Templates: `${name}`, name a letter or `_` then letters, digits, `_ : . -`, 128 at most.
// ---------------------------------------------------------------------------

export type TemplatePiece = { literal: string } | { claim: string };

const NAME_START = /[A-Za-z_]/;
const NAME_REST = /[A-Za-z0-9_:.-]/;

/** Scans a template left to right; `malformed` when a `${` is left that opens no expressible reference. */
export function parseTemplate(template: string): { pieces: TemplatePiece[]; malformed: boolean } {
  const pieces: TemplatePiece[] = [];
  let literal = '';
  let rest = '';
  let i = 0;
  while (i < template.length) {
    if (template.startsWith('${', i) && NAME_START.test(template[i + 2] ?? '')) {
      let j = i + 3;
      while (j < template.length && NAME_REST.test(template[j]!)) j++;
      if (template[j] === '}' && j - (i + 2) <= 128) {
        if (literal) pieces.push({ literal });
        literal = '';
        pieces.push({ claim: template.slice(i + 2, j) });
        i = j + 1;
        continue;
      }
    }
    literal += template[i];
    rest += template[i];
    i++;
  }
  if (literal) pieces.push({ literal });
  return { pieces, malformed: rest.includes('${') };
}

/** A claim as a template reads it: a non-empty string the caller really has, else missing. */
export function claimValue(caller: Caller, name: string): string | undefined {
  let value: unknown;
  if (caller.kind === 'jwt') value = Object.hasOwn(caller.claims, name) ? caller.claims[name] : undefined;
  else if (caller.kind === 'iam' && name === 'principal') value = caller.principal;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The template with the caller's claims in it, or undefined when one is missing. */
export function substitute(template: string, caller: Caller): string | undefined {
  let out = '';
  for (const piece of parseTemplate(template).pieces) {
    if ('literal' in piece) out += piece.literal;
    else {
      const value = claimValue(caller, piece.claim);
      if (value === undefined) return undefined;
      out += value;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Patterns: a regex AST, rendered to policy text and matched here by sets of positions.
// ---------------------------------------------------------------------------

/** A character class the generator uses: its policy text and what it admits (one code point). */
export interface CharClass {
  source: string;
  admits: (c: string) => boolean;
}

export type Re =
  | { k: 'char'; c: string }
  | { k: 'claim'; name: string }
  | { k: 'class'; cls: CharClass }
  | { k: 'any' }
  | { k: 'start' }
  | { k: 'end' }
  | { k: 'group'; capture: boolean; body: Re }
  | { k: 'alt'; options: Re[] }
  | { k: 'seq'; items: Re[] }
  | { k: 'quant'; atom: Re; min: number; max: number; source: string };

const SYNTAX = new Set(['^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '/']);

/** The policy text of a pattern. */
export function render(node: Re): string {
  switch (node.k) {
    case 'char':
      return SYNTAX.has(node.c) ? `\\${node.c}` : node.c;
    case 'claim':
      return `\${${node.name}}`;
    case 'class':
      return node.cls.source;
    case 'any':
      return '.';
    case 'start':
      return '^';
    case 'end':
      return '$';
    case 'group':
      return `(${node.capture ? '' : '?:'}${render(node.body)})`;
    case 'alt':
      return node.options.map(render).join('|');
    case 'seq':
      return node.items.map(render).join('');
    case 'quant':
      return render(node.atom) + node.source;
  }
}

function* nodes(node: Re): Generator<Re> {
  yield node;
  if (node.k === 'group') yield* nodes(node.body);
  else if (node.k === 'quant') yield* nodes(node.atom);
  else if (node.k === 'alt') for (const option of node.options) yield* nodes(option);
  else if (node.k === 'seq') for (const item of node.items) yield* nodes(item);
}

/** Every claim a pattern names. */
export function claimsOf(node: Re): string[] {
  return [...nodes(node)].flatMap((n) => (n.k === 'claim' ? [n.name] : []));
}

/** Every literal character a pattern holds (to build hostile values from). */
export function charsOf(node: Re): string[] {
  return [...nodes(node)].flatMap((n) => (n.k === 'char' ? [n.c] : []));
}

/** The shape of catastrophic backtracking: a quantified group holding a quantifier or an alternation. */
export function hasNestedQuantifier(node: Re): boolean {
  return [...nodes(node)].some(
    (n) =>
      n.k === 'quant' &&
      n.atom.k === 'group' &&
      [...nodes(n.atom.body)].some((inner) => inner.k === 'quant' || (inner.k === 'alt' && inner.options.length > 1)),
  );
}

/** How many quantifiers a pattern holds. */
export function quantifierCount(node: Re): number {
  return [...nodes(node)].filter((n) => n.k === 'quant').length;
}

/** The longest value a policy pattern is ever tried on (the request schemas cap strings at 128). */
export const LONGEST_VALUE = 128;

/**
 * How many ways a backtracking matcher may try to match the pattern against a value of up
 * to LONGEST_VALUE characters, counted on the AST: a quantifier offers one choice per count
 * it allows, an alternation one per option; a sequence multiplies, an alternation adds.
 * A quantified group must hold neither, so its body offers no choice.
 */
export function backtrackingPaths(node: Re): number {
  switch (node.k) {
    case 'seq':
      return node.items.reduce((product, item) => product * backtrackingPaths(item), 1);
    case 'alt':
      return node.options.reduce((sum, option) => sum + backtrackingPaths(option), 0);
    case 'group':
      return backtrackingPaths(node.body);
    case 'quant': {
      const most = Math.min(node.max, LONGEST_VALUE);
      return Math.max(1, most - Math.min(node.min, most) + 1) * backtrackingPaths(node.atom);
    }
    default:
      return 1;
  }
}

const LINE_TERMINATORS = new Set(['\n', '\r', '\u2028', '\u2029']);

/**
 * Whether the pattern, with the caller's claims as literal text, matches the whole value:
 * undefined when a claim it names is missing (the rule cannot apply). Works on code points,
 * as a `u` regular expression does.
 */
export function patternMatches(pattern: Re, caller: Caller, value: string): boolean | undefined {
  const claims = new Map<string, string[]>();
  for (const name of claimsOf(pattern)) {
    const claim = claimValue(caller, name);
    if (claim === undefined) return undefined;
    claims.set(name, Array.from(claim));
  }
  const text = Array.from(value);
  const memo = new Map<Re, Map<number, Set<number>>>();
  const ends = (node: Re, at: number): Set<number> => {
    let byStart = memo.get(node);
    if (!byStart) {
      byStart = new Map();
      memo.set(node, byStart);
    }
    const known = byStart.get(at);
    if (known) return known;
    const out = endsOf(node, at);
    byStart.set(at, out);
    return out;
  };
  const one = (ok: boolean, at: number) => (ok ? new Set([at + 1]) : new Set<number>());
  const endsOf = (node: Re, at: number): Set<number> => {
    const c = text[at];
    switch (node.k) {
      case 'char':
        return one(c === node.c, at);
      case 'class':
        return one(c !== undefined && node.cls.admits(c), at);
      case 'any':
        return one(c !== undefined && !LINE_TERMINATORS.has(c), at);
      case 'start':
        return at === 0 ? new Set([at]) : new Set();
      case 'end':
        return at === text.length ? new Set([at]) : new Set();
      case 'claim': {
        const claim = claims.get(node.name)!;
        return claim.every((ch, i) => text[at + i] === ch) ? new Set([at + claim.length]) : new Set();
      }
      case 'group':
        return ends(node.body, at);
      case 'alt':
        return new Set(node.options.flatMap((option) => [...ends(option, at)]));
      case 'seq': {
        let starts = new Set([at]);
        for (const item of node.items) starts = new Set([...starts].flatMap((s) => [...ends(item, s)]));
        return starts;
      }
      case 'quant': {
        const out = new Set<number>(node.min === 0 ? [at] : []);
        let current = new Set([at]);
        for (let count = 1; count <= Math.min(node.max, text.length + 1) && current.size > 0; count++) {
          current = new Set([...current].flatMap((s) => [...ends(node.atom, s)]));
          if (count >= node.min) for (const end of current) out.add(end);
        }
        return out;
      }
    }
  };
  return ends(pattern, 0).has(text.length);
}

// ---------------------------------------------------------------------------
// Decisions
// ---------------------------------------------------------------------------

/** A constraint as the property tests generate it: pattern constraints carry their AST. */
export type OracleConstraint = { equals: string } | { prefix: string } | { oneOf: string[] } | { pattern: string; ast: Re };

export type OracleMatcher = { principal: string } | { claims: Record<string, string> } | { anonymous: true };

export interface OracleRule {
  id: string;
  callers: OracleMatcher[];
  operations: string[];
  constraints?: Record<string, OracleConstraint>;
  /** A template, or the explicit opt-out `"none"`. */
  sessionPolicy?: JsonObject | 'none';
}

function claimItems(name: string, value: string | string[]): string[] {
  if (Array.isArray(value)) return value;
  return name === 'scope' || name === 'scp' ? value.split(/\s+/).filter((item) => item !== '') : [value];
}

function callerMatches(matcher: OracleMatcher, caller: Caller): boolean {
  if ('anonymous' in matcher) return caller.kind === 'anonymous';
  if ('principal' in matcher) return caller.kind === 'iam' && globMatches(matcher.principal, caller.principal);
  if (caller.kind !== 'jwt') return false;
  return Object.entries(matcher.claims).every(([name, glob]) => {
    if (!Object.hasOwn(caller.claims, name)) return false;
    return claimItems(name, caller.claims[name]!).some((item) => item !== '' && globMatches(glob, item));
  });
}

function valueAllowed(constraint: OracleConstraint, value: string, caller: Caller): boolean {
  if ('equals' in constraint) return substitute(constraint.equals, caller) === value;
  if ('oneOf' in constraint) return constraint.oneOf.some((option) => substitute(option, caller) === value);
  if ('prefix' in constraint) {
    const prefix = substitute(constraint.prefix, caller);
    return prefix !== undefined && value.startsWith(prefix);
  }
  return patternMatches(constraint.ast, caller, value) === true;
}

function fieldAllowed(constraint: OracleConstraint, body: Record<string, unknown>, field: string, caller: Caller): boolean {
  if (!Object.hasOwn(body, field) || body[field] === undefined) return false;
  const value = body[field];
  const items = Array.isArray(value) ? value : [value];
  return (
    items.length > 0 &&
    items.every((item) => (typeof item === 'string' || typeof item === 'number') && valueAllowed(constraint, String(item), caller))
  );
}

/** Templates a rule holds that must parse (constraints and claim globs; principal and operation globs are plain globs). */
function templatesOf(rule: OracleRule): string[] {
  const claimGlobs = rule.callers.flatMap((m) => ('claims' in m ? Object.values(m.claims) : []));
  const constraintTemplates = Object.values(rule.constraints ?? {}).flatMap((c) =>
    'equals' in c ? [c.equals] : 'prefix' in c ? [c.prefix] : 'oneOf' in c ? c.oneOf : [c.pattern],
  );
  return [...claimGlobs, ...constraintTemplates];
}

/** True when the reference reading finds a template that is not expressible (the policy is then malformed). */
export function oracleMalformed(rules: OracleRule[]): boolean {
  return rules.some(
    (rule) =>
      templatesOf(rule).some((template) => parseTemplate(template).malformed) ||
      (rule.sessionPolicy !== undefined && rule.sessionPolicy !== 'none' && sessionPolicyMalformed(rule.sessionPolicy)),
  );
}

/** The first rule that allows the request, or undefined: deny by default. Rules without session policies only. */
export function oracleDecide(rules: OracleRule[], caller: Caller, operation: string, body: Record<string, unknown>): string | undefined {
  const decision = oracleDecision(rules, caller, operation, body);
  return decision.allowed ? decision.rule : undefined;
}

/**
 * What the reference reading decides: a rule and its rendered document (or its opt-out, for
 * an operation that assumes a role), a refused claim, or deny (naming the rules skipped for
 * allowing an operation that assumes a role without a session policy).
 */
export type OracleDecision =
  | { allowed: true; rule: string; document?: Json; unscoped?: true }
  | { allowed: false; refusedClaim?: string; unscopedSkipped?: string[] };

/**
 * The first rule whose operations, callers and constraints match decides: it allows, with its
 * session policy rendered, unless that policy names a claim that is missing or refused (the
 * request is then refused outright). An operation that assumes a role matches only a rule
 * naming it literally (no glob), and only with a session policy or `"none"`; a rule without
 * either is skipped.
 */
export function oracleDecision(
  rules: OracleRule[],
  caller: Caller,
  operation: string,
  body: Record<string, unknown>,
  assumesRole = false,
): OracleDecision {
  const skipped: string[] = [];
  for (const rule of rules) {
    const named = assumesRole ? rule.operations.includes(operation) : rule.operations.some((glob) => globMatches(glob, operation));
    if (!named) continue;
    if (!rule.callers.some((matcher) => callerMatches(matcher, caller))) continue;
    const constraints = Object.entries(rule.constraints ?? {});
    if (!constraints.every(([field, constraint]) => fieldAllowed(constraint, body, field, caller))) continue;
    if (rule.sessionPolicy === undefined) {
      if (assumesRole) {
        skipped.push(rule.id);
        continue;
      }
      return { allowed: true, rule: rule.id };
    }
    if (rule.sessionPolicy === 'none')
      return assumesRole ? { allowed: true, rule: rule.id, unscoped: true } : { allowed: true, rule: rule.id };
    const outcome = renderSessionPolicy(rule.sessionPolicy, caller);
    if ('missing' in outcome) return { allowed: false, refusedClaim: outcome.missing };
    if ('refused' in outcome) return { allowed: false, refusedClaim: outcome.refused };
    return { allowed: true, rule: rule.id, document: outcome.document };
  }
  return skipped.length > 0 ? { allowed: false, unscopedSkipped: skipped } : { allowed: false };
}

// ---------------------------------------------------------------------------
// Session policies: a JSON document whose string values may name claims, rendered per caller.
// ---------------------------------------------------------------------------

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** The longest claim a session policy takes, and the most UTF-8 bytes it may render to. */
export const SESSION_CLAIM_MAX = 64;
export const SESSION_POLICY_MAX_BYTES = 2048;

/** The only characters a claim in a session policy may hold (docs/contracts.md, "Session policies"), listed one by one. */
const ALLOWED_CHARACTERS = new Set([...'abcdefghijklmnopqrstuvwxyz', ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ', ...'0123456789', '.', '_', '@', '-']);

/** True when a claim may not go into a session policy: empty, too long, a parent path, a dot at either end, or a character off the allow-list. */
export function claimRefusedInSessionPolicy(value: string): boolean {
  if (value.length === 0 || value.length > SESSION_CLAIM_MAX) return true;
  if (value.includes('..') || value.startsWith('.') || value.endsWith('.')) return true;
  return Array.from(value).some((ch) => !ALLOWED_CHARACTERS.has(ch));
}

/** Every string value of a document, depth first, object members in order (keys are not values). */
export function stringValues(value: Json): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringValues);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringValues);
  return [];
}

function keysOf(value: Json): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)]);
  return [];
}

/** Claims a document names, in the order they first appear. */
export function sessionPolicyClaims(template: JsonObject): string[] {
  const names = stringValues(template).flatMap((text) => parseTemplate(text).pieces.flatMap((p) => ('claim' in p ? [p.claim] : [])));
  return [...new Set(names)];
}

function mapStrings(value: Json, change: (text: string) => string): Json {
  if (typeof value === 'string') return change(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, change));
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {};
    for (const [key, inner] of Object.entries(value)) {
      Object.defineProperty(out, key, { value: mapStrings(inner, change), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

const fillPieces = (text: string, fill: (claim: string) => string) =>
  parseTemplate(text)
    .pieces.map((p) => ('literal' in p ? p.literal : fill(p.claim)))
    .join('');

/**
 * True when a template cannot be a session policy: empty, a `${` in a key, a stray `${` or
 * `${principal}` in a value, a lone surrogate anywhere, or a rendering that could pass the
 * byte bound (each reference filled with the longest claim of 3-byte characters).
 */
export function sessionPolicyMalformed(template: JsonObject): boolean {
  if (Object.keys(template).length === 0) return true;
  const texts = [...keysOf(template), ...stringValues(template)];
  if (texts.some((text) => Array.from(text).some((ch) => ch.length === 1 && ch >= '\ud800' && ch <= '\udfff'))) return true;
  if (keysOf(template).some((key) => key.includes('${'))) return true;
  const values = stringValues(template);
  if (values.some((text) => parseTemplate(text).malformed)) return true;
  if (sessionPolicyClaims(template).includes('principal')) return true;
  const widest = '中'.repeat(SESSION_CLAIM_MAX);
  return Buffer.byteLength(JSON.stringify(mapStrings(template, (text) => fillPieces(text, () => widest)))) > SESSION_POLICY_MAX_BYTES;
}

export type SessionPolicyOutcome = { missing: string } | { refused: string } | { document: Json };

/** The template for this caller: the first claim missing, the first claim refused, or the document with every claim in it literally. */
export function renderSessionPolicy(template: JsonObject, caller: Caller): SessionPolicyOutcome {
  const names = sessionPolicyClaims(template);
  const missing = names.find((name) => claimValue(caller, name) === undefined);
  if (missing !== undefined) return { missing };
  const refused = names.find((name) => claimRefusedInSessionPolicy(claimValue(caller, name)!));
  if (refused !== undefined) return { refused };
  return { document: mapStrings(template, (text) => fillPieces(text, (claim) => claimValue(caller, claim)!)) };
}
