import type { EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { BrokerError, toBrokerError } from './errors.js';
import { httpMethod, isHttpEvent, jsonBody } from './http.js';
import type { Invocation } from './invocation.js';
import type { Operation } from './operation.js';
import { type OperationResult, runOperation, validateBody } from './run-operation.js';

/**
 * Every handler recognises the shape it was given (DESIGN.md, "Events other than HTTP")
 * and routes it here; anything else is refused with a clear error.
 */
export async function routeEvent(op: Operation, event: unknown, invocation: Invocation): Promise<unknown> {
  if (isHttpEvent(event)) return handleHttp(op, event, invocation);
  if (isSqsEvent(event)) return handleSqs(op, event, invocation);
  if (isEventBridgeEvent(event)) return handleEventBridge(op, event, invocation);
  throw new BrokerError(
    'InvalidRequest',
    'Unrecognised event: expected an API Gateway request, a {"rotate": [...]} schedule input, an SQS batch or an EventBridge event.',
  );
}

/** Validates a body and runs the operation for it: the one path every event source shares. */
async function handleBody(op: Operation, body: unknown, invocation: Invocation): Promise<OperationResult> {
  const valid = validateBody(op, body);
  return runOperation(op, valid, { deadline: invocation.deadline, logger: invocation.logger });
}

function handleHttp(op: Operation, event: Parameters<typeof jsonBody>[0], invocation: Invocation): Promise<OperationResult> {
  if (httpMethod(event) !== 'POST') {
    throw new BrokerError('InvalidRequest', 'Use POST: every answer carries secrets, which must stay out of URLs.');
  }
  return handleBody(op, jsonBody(event), invocation);
}

function isSqsEvent(event: unknown): event is SQSEvent {
  const records = (event as { Records?: unknown })?.Records;
  return Array.isArray(records) && records.length > 0 && records.every((r) => (r as { eventSource?: unknown })?.eventSource === 'aws:sqs');
}

type BrokerEventBridgeEvent = EventBridgeEvent<string, unknown>;

function isEventBridgeEvent(event: unknown): event is BrokerEventBridgeEvent {
  return event !== null && typeof event === 'object' && 'detail-type' in event && 'detail' in event;
}

/** An SQS body is a request body, or an EventBridge envelope (rule → queue) whose detail is one. */
function sqsMessageBody(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BrokerError('InvalidRequest', 'The message body is not valid JSON.');
  }
  return isEventBridgeEvent(parsed) ? parsed.detail : parsed;
}

/**
 * Messages are handled one by one; only those that failed are reported, so SQS retries
 * just them and, after maxReceiveCount, moves them to the dead-letter queue.
 */
async function handleSqs(op: Operation, event: SQSEvent, invocation: Invocation): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const logger = invocation.logger.child({ messageId: record.messageId });
    try {
      const result = await handleBody(op, sqsMessageBody(record.body), { ...invocation, logger });
      logger.info('message processed', { vendorRequestId: result.vendorRequestId, alreadyProvisioned: result.alreadyProvisioned ?? false });
    } catch (thrown) {
      const error = toBrokerError(thrown);
      logger.error('message failed', {
        code: error.code,
        reason: error.message,
        vendorCode: error.vendorCode,
        details: error.details,
        receiveCount: record.attributes?.ApproximateReceiveCount,
      });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

/** A directly delivered EventBridge event: `detail` is the body; a failure is thrown so Lambda retries it. */
async function handleEventBridge(op: Operation, event: BrokerEventBridgeEvent, invocation: Invocation): Promise<OperationResult> {
  try {
    return await handleBody(op, event.detail, invocation);
  } catch (thrown) {
    const error = toBrokerError(thrown);
    invocation.logger.error('event failed', { eventId: event.id, code: error.code, reason: error.message, vendorCode: error.vendorCode, details: error.details });
    throw error;
  }
}
