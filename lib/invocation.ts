import type { Context } from 'aws-lambda';
import { readConfig } from './config.js';
import { createLogger, type Logger } from './logger.js';
import type { Operation } from './operation.js';

/** What the audit record of an HTTP request says beyond its outcome; filled in as the request goes. */
export interface AuditFacts {
  caller?: Record<string, string>;
  bodyHash?: string;
  decision?: { allowed: boolean; rule?: string };
  source?: 'memory' | 'store' | 'vendor';
  expiresAt?: string;
}

/** What one Lambda invocation hands the machinery: who it is, its logger, and its deadline. */
export interface Invocation {
  requestId: string;
  logger: Logger;
  /** Epoch ms by which an answer must be ready: the Lambda deadline less DEADLINE_MARGIN_MS. */
  deadline: number;
  startedAt: number;
  audit: AuditFacts;
}

/** Outside Lambda (a bare local call) there is no deadline to read; assume API Gateway's 30 s. */
const LOCAL_BUDGET_MS = 30_000;

export function invocationOf(op: Operation, context: Context): Invocation {
  const startedAt = Date.now();
  const requestId = context.awsRequestId || 'local';
  const remaining = typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : LOCAL_BUDGET_MS;
  let margin = 300;
  try {
    margin = readConfig().DEADLINE_MARGIN_MS;
  } catch {
    // A bad configuration is reported by the first step that needs it, with the right error.
  }
  return {
    requestId,
    startedAt,
    deadline: startedAt + remaining - margin,
    logger: createLogger({ requestId, operation: op.name }),
    audit: {},
  };
}
