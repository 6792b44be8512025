import type middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createLogger, type Logger } from '../logger.js';
import type { Operation } from '../operation.js';

/** What the audit record of an HTTP request says beyond its outcome; filled in as the request goes. */
export interface AuditFacts {
  caller?: Record<string, string>;
  bodyHash?: string;
  decision?: { allowed: boolean; rule?: string };
  source?: 'memory' | 'table' | 'vendor';
  expiresAt?: string;
}

/** What one Lambda invocation hands the machinery: who it is, its logger, and its deadline. */
export interface Invocation {
  requestId: string;
  logger: Logger;
  /** Epoch ms at which middy aborts the invocation (`signal`): no vendor attempt starts that cannot end before it. */
  deadline: number;
  /** middy's abort signal: fires at `deadline`. */
  signal?: AbortSignal;
  startedAt: number;
  audit: AuditFacts;
}

/** The Lambda context once invocationContext has run. */
export type BrokerContext = Context & { invocation: Invocation };

/** Outside Lambda (a bare local call) there is no deadline to read; assume API Gateway's 30 s. */
const LOCAL_BUDGET_MS = 30_000;

/** Options of invocationContext. */
export interface InvocationContextOptions {
  op: Operation;
  /** The same margin middy's `timeoutEarlyInMillis` keeps back from the Lambda deadline. */
  marginMs: number;
}

/** Puts `context.invocation` in place: request id, a logger bound to it, the deadline, an empty audit record. */
export function invocationContext({ op, marginMs }: InvocationContextOptions): middy.MiddlewareObj<unknown, unknown, Error, BrokerContext> {
  return {
    before: (request) => {
      const { context } = request;
      const startedAt = Date.now();
      const requestId = context.awsRequestId || 'local';
      const remaining = typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : LOCAL_BUDGET_MS;
      context.invocation = {
        requestId,
        startedAt,
        deadline: startedAt + remaining - marginMs,
        logger: createLogger({ requestId, operation: op.name }),
        audit: {},
      };
    },
  };
}
