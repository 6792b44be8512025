import middy from '@middy/core';
import { readConfig } from '../../core/config.js';
import { BrokerError } from '../../core/errors.js';
import type { Operation } from '../../spec/operation.js';
import { type BrokerContext, type Invocation, invocationContext } from '../middleware/invocation-context.js';

/** Used when the configuration cannot be read; the first step that needs it then answers ConfigurationError. */
const FALLBACK_MARGIN_MS = 300;

function deadlineMargin(): number {
  try {
    return readConfig().DEADLINE_MARGIN_MS;
  } catch {
    return FALLBACK_MARGIN_MS;
  }
}

/** A trigger's core: what is left once its middlewares have run. */
export type Core<E, R> = (event: E, invocation: Invocation) => Promise<R>;

/** Options of triggerStack. */
export interface TriggerStackOptions {
  /**
   * Whether middy answers Timeout for the whole invocation at the deadline (the default).
   * A trigger that bounds each item of a batch by the deadline itself turns it off, so that
   * items that succeeded are not reported as failed along with the one that ran out of time.
   */
  timeoutEarly?: boolean;
}

/**
 * The base every trigger's stack starts from: middy aborts the invocation DEADLINE_MARGIN_MS
 * before Lambda's deadline (its signal reaches the vendor call through the invocation) and
 * `context.invocation` is in place. Built on a function's first event, not at import.
 */
export function triggerStack<E>(op: Operation, { timeoutEarly = true }: TriggerStackOptions = {}) {
  const marginMs = deadlineMargin();
  return middy<E, unknown, Error, BrokerContext>({
    // 0 turns middy's early timeout off.
    timeoutEarlyInMillis: timeoutEarly ? marginMs : 0,
    timeoutEarlyResponse: () => {
      throw new BrokerError('Timeout', 'The function deadline passed before an answer was ready.');
    },
  }).use(invocationContext({ op, marginMs }));
}

/** Adapts a core to middy's handler signature, handing it the invocation with middy's abort signal. */
export function withInvocation<E, R>(core: Core<E, R>) {
  return (event: E, context: BrokerContext, { signal }: { signal: AbortSignal }) => core(event, { ...context.invocation, signal });
}
