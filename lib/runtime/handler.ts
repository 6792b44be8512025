import type { Context } from 'aws-lambda';
import { BrokerError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import type { LambdaHandler, Operation, Trigger } from '../spec/operation.js';

/**
 * The exported Lambda handler of a function: it hands each event to the one trigger of the
 * operation that accepts it, whose middy stack (built on first use) does the rest. An event
 * of a kind the operation does not declare fails the invocation before any key is read.
 */
export function createHandler(op: Operation): LambdaHandler {
  const stacks = new Map<Trigger, LambdaHandler>();
  const kinds = op.triggers.map((t) => t.kind).join(', ');
  return async (event: unknown, context: Context) => {
    const trigger = op.triggers.find((t) => t.accepts(event));
    if (!trigger) {
      createLogger({ requestId: context?.awsRequestId ?? 'unknown', operation: op.name }).error(
        'event refused: not a trigger of this function',
        {
          accepts: kinds,
        },
      );
      throw new BrokerError('InvalidRequest', `${op.functionName} accepts only these events: ${kinds}.`);
    }
    let stack = stacks.get(trigger);
    if (!stack) {
      stack = trigger.handler(op);
      stacks.set(trigger, stack);
    }
    return stack(event, context);
  };
}
