/**
 * Credentials from a running credentials agent (`cloud-token-broker-agent`) instead of the broker:
 * a plain GET to one of its loopback endpoints. The agent refreshes ahead by the broker's
 * `refreshAfter` itself, so asking it is cheap; the answer's expiry is all it says, and the
 * client asks it again a little later (at most a minute on, or a quarter of the time left).
 * @module
 */
import type { RefreshingCredentials, RefreshOptions, SourceAnswer } from './refreshing-credentials.js';
import { refreshingCredentials } from './refreshing-credentials.js';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
// How often a client asks the agent again at most: the agent serves from memory.
const ASK_AGAIN_MS = 60_000;
const TIMEOUT_MS = 5_000;

/** Checks that `endpoint` is an agent endpoint on loopback (the agent listens nowhere else). */
export function agentEndpoint(endpoint: string): URL {
  const url = new URL(endpoint);
  if (url.protocol !== 'http:' || !LOOPBACK.has(url.hostname)) {
    throw new Error(`the credentials agent listens on loopback http only, got ${url.protocol}//${url.host}`);
  }
  return url;
}

/** When to ask the agent again, for credentials that expire at `expiresAt`. */
export function askAgainAt(expiresAt: number, now: number): number {
  return now + Math.min(ASK_AGAIN_MS, Math.max(0, (expiresAt - now) / 4));
}

/**
 * Credentials read from the agent at `endpoint`; `parse` checks its answer (throwing on anything
 * else) and returns the data and when it expires (epoch ms).
 */
export function fromAgent<Data>(
  endpoint: string,
  parse: (json: unknown) => { data: Data; expiresAt: number },
  options: RefreshOptions = {},
): RefreshingCredentials<Data> {
  const url = agentEndpoint(endpoint);
  const now = options.now ?? (() => Date.now());
  return refreshingCredentials(async (): Promise<SourceAnswer<Data>> => {
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
    } catch {
      throw new Error(`the credentials agent at ${url.host} cannot be reached`);
    }
    const json: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const code = (json as { error?: { code?: unknown } } | undefined)?.error?.code;
      throw new Error(
        `the credentials agent at ${url.host} answered ${response.status}${typeof code === 'string' ? ` ${code.slice(0, 40)}` : ''}`,
      );
    }
    const { data, expiresAt } = parse(json);
    return { data, expiresAt: new Date(expiresAt).toISOString(), refreshAfter: new Date(askAgainAt(expiresAt, now())).toISOString() };
  }, options);
}
