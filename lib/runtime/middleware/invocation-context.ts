import type middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type Caller, callerOf } from '../../access/caller.js';
import { createLogger, type Logger } from '../../core/logger.js';
import { createMeasures, type Measures } from '../../core/metrics.js';
import type { Operation } from '../../spec/operation.js';

/** What the audit record of an HTTP request says beyond its outcome; filled in as the request goes. */
export interface AuditFacts {
  caller?: Record<string, string>;
  bodyHash?: string;
  decision?: { allowed: boolean; rule?: string };
  /**
   * STS: the RoleSessionName sent, and a hash of the session policy (the policy itself can be
   * 2 KB); or `sessionPolicy: "none"` and the rule that opted out of one.
   */
  session?: { name: string; sourceIdentity?: string; policyHash?: string; sessionPolicy?: 'none'; unscopedByRule?: string };
  /** The vendor account the policy chose, when not `default` (lib/access/account.ts). */
  account?: string;
  source?: 'memory' | 'table' | 'vendor';
  expiresAt?: string;
  /** The vendor's request id of the answer (for a cached answer, of the call that fetched it). */
  vendorRequestId?: string;
}

/** What one Lambda invocation hands the machinery: who it is, its logger, and its deadline. */
export interface Invocation {
  requestId: string;
  /** The operation's name (`<product>:<Action>`): the `operation` dimension of its metrics. */
  operation: string;
  /** The X-Ray trace id of the invocation (Lambda sets one, traced or not); absent outside Lambda. */
  traceId?: string;
  logger: Logger;
  /** Epoch ms at which middy aborts the invocation (`signal`): no vendor attempt starts that cannot end before it. */
  deadline: number;
  /** middy's abort signal: fires at `deadline`. */
  signal?: AbortSignal;
  startedAt: number;
  audit: AuditFacts;
  /** An HTTP request's caller, read once from the event by invocationCaller; absent for other events. */
  caller?: Caller;
  /** What the invocation measures; the line that ends it writes them (lib/core/metrics.ts). */
  metrics: Measures;
}

/** The Lambda context once invocationContext has run. */
export type BrokerContext = Context & { invocation: Invocation };

/** An X-Ray trace id: `1-<8 hex digits>-<24 hex digits>`. */
const TRACE_ID = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;

/**
 * The invocation's trace id, from the context (newer runtimes put `xRayTraceId` there) or
 * `_X_AMZN_TRACE_ID` (`Root=1-…;Parent=…;Sampled=…`): its Root, when it is shaped like one.
 */
export function traceIdOf(context: Partial<Context>): string | undefined {
  const fromContext = (context as { xRayTraceId?: unknown }).xRayTraceId;
  const header = typeof fromContext === 'string' && fromContext !== '' ? fromContext : process.env._X_AMZN_TRACE_ID;
  if (!header) return undefined;
  const root = /(?:^|;)\s*Root=([^;]+)/.exec(header)?.[1] ?? header;
  return TRACE_ID.test(root.trim()) ? root.trim() : undefined;
}

/** Outside Lambda (a bare local call) there is no deadline to read; assume API Gateway's 30 s. */
const LOCAL_BUDGET_MS = 30_000;

/** Options of invocationContext. */
export interface InvocationContextOptions {
  op: Operation;
  /** The same margin middy's `timeoutEarlyInMillis` keeps back from the Lambda deadline. */
  marginMs: number;
}

/** Puts `context.invocation` in place: request id, trace id, a logger bound to it, the deadline, an empty audit record and measures. */
export function invocationContext({ op, marginMs }: InvocationContextOptions): middy.MiddlewareObj<unknown, unknown, Error, BrokerContext> {
  return {
    before: (request) => {
      const { context } = request;
      const startedAt = Date.now();
      const requestId = context.awsRequestId || 'local';
      const remaining = typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : LOCAL_BUDGET_MS;
      const traceId = traceIdOf(context);
      context.invocation = {
        requestId,
        operation: op.name,
        ...(traceId !== undefined && { traceId }),
        startedAt,
        deadline: startedAt + remaining - marginMs,
        logger: createLogger({ requestId, operation: op.name }),
        audit: {},
        metrics: createMeasures(),
      };
    },
  };
}

/**
 * Puts an HTTP request's caller on `context.invocation.caller`, read once from the event's
 * authorizer, so the audit record and the caller policy see the same caller.
 */
export function invocationCaller(): middy.MiddlewareObj<{ requestContext?: unknown }, unknown, Error, BrokerContext> {
  return {
    before: (request) => {
      request.context.invocation.caller = callerOf(request.event.requestContext);
    },
  };
}
