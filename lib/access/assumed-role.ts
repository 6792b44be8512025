/**
 * What an STS operation (a spec with `assumesRole`) sends beyond its body: the role the
 * deployment configured for its route, never one the caller names; a RoleSessionName derived
 * from the caller; the session policy its caller-policy rule rendered; and the lifetime asked
 * of the vendor (docs/contracts.md, "Session policies").
 * @module
 */

import { type RoleArnVariable, readConfig } from '../core/config.js';
import { BrokerError } from '../core/errors.js';
import { DEFAULT_ACCOUNT } from './account.js';
import { type Caller, callerIdentity } from './caller.js';
import type { Allowed } from './policy.js';
import { roleSessionName } from './session-name.js';

/** The role an STS call assumes, for whom, and within what. */
export interface AssumedRole {
  roleArn: string;
  /** RoleSessionName: who asked (lib/access/session-name.ts). */
  sessionName: string;
  /** The rendered session policy (compact JSON), sent as `Policy`; absent only when the rule opted out (`"none"`). */
  sessionPolicy?: string;
  /** The caller in full (callerIdentity): part of the token-cache key, never sent. */
  caller: string;
  /** The vendor account whose role this is (lib/access/account.ts). */
  account: string;
  /** ExternalId sent to the vendor: the account's key parameter says it, never the body. */
  externalId?: string;
  /**
   * Who asked, as the vendor is told: the session name (allow-listed, 2 to 64 characters); Alibaba
   * Cloud gets it as SourceIdentity, Tencent Cloud as the session tag `broker-caller`.
   */
  sourceIdentity: string;
  /** DurationSeconds sent to the vendor (sessionLifetime): at least what the caller asked, and less than twice it. */
  durationSeconds: number;
  /** Least lifetime (ms) cached credentials must have left to be served to this request (sessionLifetime). */
  minimumLeftMs: number;
  /**
   * What the token-cache key covers: the body with `durationSeconds` replaced by the lifetime
   * asked of the vendor, so many durations share a few entries and none is served a longer one.
   */
  cacheBody: Record<string, unknown>;
}

/** What DurationSeconds an operation's vendor takes: its least, its default (what it gives when none is sent) and its most. */
export interface SessionLifetimes {
  minSeconds: number;
  defaultSeconds: number;
  maxSeconds: number;
  /**
   * The most a role allows when its account says nothing (`maxSessionSeconds`): Alibaba Cloud's
   * default MaxSessionDuration is 3,600 s; absent: `maxSeconds`.
   */
  roleMaxSeconds?: number;
}

/** An account's STS settings, from its key parameter's JSON (docs/contracts.md, "Accounts"). */
export interface AccountRole {
  /** The account's name; absent: `default`. */
  name?: string;
  stsRoleArn?: string;
  externalId?: string;
  /** The role's MaxSessionDuration; absent: the operation's `roleMaxSeconds`. */
  maxSessionSeconds?: number;
}

/** What a spec's `assumesRole` holds: the variable naming the role, its lifetimes, and how to fill in the rest for a caller. */
export interface RoleAssumption {
  roleArn: RoleArnVariable;
  lifetimes: SessionLifetimes;
  /**
   * The role, session name, session policy and lifetime for `caller` and `body`, as `decision`
   * allows it, in `account` (its key parameter's STS settings; absent: `default` with none).
   */
  resolve(operation: string, caller: Caller, decision: Allowed, body: Record<string, unknown>, account?: AccountRole): AssumedRole;
}

/**
 * Cached credentials are served to a request asking `durationSeconds` d while they still live
 * at least this share of d: the slack, the same quarter after which any cached credentials are
 * refreshed (docs/contracts.md, "Session policies").
 */
export const SERVE_WHILE_LEFT_OF_ASKED = 0.75;

/**
 * What to ask the vendor for, and what a cached answer must still have, for a caller asking
 * `asked` seconds (or nothing: the vendor's default). An asked lifetime is rounded up to the
 * vendor's least doubled until it covers it (capped at the most): 900, 1800, 3600, … seconds.
 * So 60 requests with 60 durations make one AssumeRole call per step at most, and a caller
 * never gets credentials that live twice what it asked, or longer: a lifetime is reach too.
 * Cached credentials serve a request while they live at least 3/4 of what it asked.
 */
export function sessionLifetime(
  lifetimes: SessionLifetimes,
  asked: number | undefined,
): { durationSeconds: number; minimumLeftMs: number } {
  if (asked === undefined) return { durationSeconds: lifetimes.defaultSeconds, minimumLeftMs: 0 };
  let durationSeconds = lifetimes.minSeconds;
  while (durationSeconds < asked && durationSeconds < lifetimes.maxSeconds) durationSeconds *= 2;
  durationSeconds = Math.min(durationSeconds, lifetimes.maxSeconds);
  return { durationSeconds, minimumLeftMs: Math.ceil(asked * SERVE_WHILE_LEFT_OF_ASKED * 1000) };
}

/**
 * An operation assumes the role named by `roleArn` for its callers, asking the vendor for
 * the given lifetimes. Made in the spec (which imports this module), so a function that
 * assumes no role bundles none of this.
 */
export function assumesRole(roleArn: RoleArnVariable, lifetimes: SessionLifetimes): RoleAssumption {
  return {
    roleArn,
    lifetimes,
    resolve(operation, caller, decision, body, account = {}) {
      const name = account.name ?? DEFAULT_ACCOUNT;
      // Only `default` falls back to the variable: another account's role is its own, or none.
      const arn = account.stsRoleArn ?? (name === DEFAULT_ACCOUNT ? readConfig()[roleArn] : undefined);
      if (arn === undefined) {
        throw new BrokerError(
          'ConfigurationError',
          name === DEFAULT_ACCOUNT
            ? `${roleArn} is not set: this deployment names no role for ${operation}.`
            : `The key parameter of account ${name} names no stsRoleArn for ${operation}.`,
        );
      }
      if (decision.sessionPolicy === undefined && decision.unscoped !== true) {
        // decide never allows this; kept as a last guard before the vendor.
        throw new BrokerError('Forbidden', `${operation} assumes a role, and no session policy scopes it.`);
      }
      const { durationSeconds: asked, ...rest } = body;
      // The role's own maximum (its account's setting), never above what the vendor takes at all.
      const roleMax = Math.min(account.maxSessionSeconds ?? lifetimes.roleMaxSeconds ?? lifetimes.maxSeconds, lifetimes.maxSeconds);
      if (typeof asked === 'number' && asked > roleMax) {
        throw new BrokerError('InvalidRequest', `durationSeconds may be at most ${roleMax} for this role.`, {
          details: [{ path: 'durationSeconds', message: `at most ${roleMax}` }],
        });
      }
      const lifetime = sessionLifetime(
        { ...lifetimes, maxSeconds: roleMax, defaultSeconds: Math.min(lifetimes.defaultSeconds, roleMax) },
        typeof asked === 'number' ? asked : undefined,
      );
      const sessionName = roleSessionName(caller);
      return {
        roleArn: arn,
        account: name,
        ...(account.externalId !== undefined && { externalId: account.externalId }),
        sourceIdentity: sessionName,
        sessionName,
        ...(decision.sessionPolicy !== undefined && { sessionPolicy: decision.sessionPolicy }),
        caller: callerIdentity(caller),
        ...lifetime,
        cacheBody: asked === undefined ? rest : { ...rest, durationSeconds: lifetime.durationSeconds },
      };
    },
  };
}
