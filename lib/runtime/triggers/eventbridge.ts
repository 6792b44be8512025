import type { EventBridgeEvent } from 'aws-lambda';
import { toBrokerError } from '../../core/errors.js';
import { plainId } from '../../core/logger.js';
import { countFault, metricMembers } from '../../core/metrics.js';
import type { EventBridgeTrigger, LambdaHandler, Operation } from '../../spec/operation.js';
import { runForEvent } from '../run-operation.js';
import { triggerStack, withInvocation } from './stack.js';

/** An EventBridge event whose detail is a request body. */
export type BrokerEventBridgeEvent = EventBridgeEvent<string, unknown>;

/** True for an EventBridge event (it has `detail-type` and `detail`). */
export function isEventBridgeEvent(event: unknown): event is BrokerEventBridgeEvent {
  return event !== null && typeof event === 'object' && 'detail-type' in event && 'detail' in event;
}

/**
 * The EventBridge trigger: `detail` is the body; the result is returned, a failure logged and
 * thrown so Lambda retries it. Either way one line, with the event's metrics.
 */
export function eventBridge(): EventBridgeTrigger {
  return {
    kind: 'eventbridge',
    accepts: isEventBridgeEvent,
    handler: (op: Operation) =>
      triggerStack<BrokerEventBridgeEvent>(op).handler(
        withInvocation(async (event: BrokerEventBridgeEvent, invocation) => {
          const { metrics } = invocation;
          // The event's id is its sender's text: shown only when it looks like an id.
          const eventId = plainId(event.id) ?? '(invalid)';
          try {
            const result = await runForEvent(op, event.detail, invocation);
            metrics.count('EventsProcessed');
            invocation.logger.info(
              'event processed',
              { eventId, vendorRequestId: result.vendorRequestId },
              metricMembers(op.name, metrics),
            );
            return result;
          } catch (thrown) {
            const error = toBrokerError(thrown);
            metrics.count('EventsFailed');
            countFault(metrics, error);
            invocation.logger.error(
              'event failed',
              {
                eventId,
                code: error.code,
                reason: error.message,
                vendorCode: error.vendorCode,
                ...(error.details !== undefined && { detailCount: error.details.length }),
              },
              metricMembers(op.name, metrics),
            );
            throw error;
          }
        }),
      ) as unknown as LambdaHandler,
  };
}
