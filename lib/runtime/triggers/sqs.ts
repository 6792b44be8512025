import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { readConfig } from '../../core/config.js';
import { BrokerError, isPermanentFailure, toBrokerError } from '../../core/errors.js';
import { plainId } from '../../core/logger.js';
import { countFault, createMeasures, metricMembers } from '../../core/metrics.js';
import type { LambdaHandler, Operation, SqsTrigger } from '../../spec/operation.js';
import type { Invocation } from '../middleware/invocation-context.js';
import { runForEvent } from '../run-operation.js';
import type { DeadLetterReason } from './dead-letter.js';
import { isEventBridgeEvent } from './eventbridge.js';
import { triggerStack, withInvocation } from './stack.js';

/** A message larger than this (an EventBridge envelope around a body) fails without being parsed. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/** True for an SQS batch: every record from `aws:sqs`. */
export function isSqsEvent(event: unknown): event is SQSEvent {
  const records = (event as { Records?: unknown })?.Records;
  return Array.isArray(records) && records.length > 0 && records.every((r) => (r as { eventSource?: unknown })?.eventSource === 'aws:sqs');
}

/** An SQS body is a request body, or an EventBridge envelope (rule → queue) whose detail is one. */
function messageBody(text: string): unknown {
  if (Buffer.byteLength(text, 'utf8') > MAX_MESSAGE_BYTES) {
    throw new BrokerError('PayloadTooLarge', `The message body is larger than ${MAX_MESSAGE_BYTES} bytes.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BrokerError('InvalidRequest', 'The message body is not valid JSON.');
  }
  return isEventBridgeEvent(parsed) ? parsed.detail : parsed;
}

/**
 * `work`, or Timeout as soon as `signal` aborts: a step that does not heed the signal (an SSM
 * read, say) cannot hold up the batch's answer. The work itself is left to end on its own.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new BrokerError('Timeout', 'The function deadline passed before the message was processed.'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Where a failed message goes: its function's dead-letter queue (sent there by the trigger), or back to SQS for redelivery. */
type FailedMessageFate =
  | { goesTo: 'dead-letter queue'; deadLetterMessageId: string; deadLetterReason?: 'minimal' }
  | { goesTo: 'redelivery'; deadLetterFailure?: string };

/** What a failure is called in a log line: the SDK's exception name, or the error's code. */
function causeName(error: unknown): string {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  const named = typeof code === 'string' && code ? code : name;
  // A name from code or the SDK; anything else is not written out.
  return typeof named === 'string' && /^\w{1,64}$/.test(named) ? named : 'Error';
}

/**
 * A failure a retry cannot help goes to the dead-letter queue now, with its reason, so the
 * vendor is not asked again on each delivery; any other failure, and one the queue does not
 * take (no queue configured, SQS refusing, the deadline), is left to SQS: redelivered, and
 * moved to the dead-letter queue by SQS after maxReceiveCount. Nothing is lost either way.
 */
async function fateOf(op: Operation, record: SQSRecord, error: BrokerError, invocation: Invocation): Promise<FailedMessageFate> {
  if (!isPermanentFailure(error)) return { goesTo: 'redelivery' };
  try {
    const queue = readConfig().DEAD_LETTER_QUEUE;
    if (queue === undefined) return { goesTo: 'redelivery', deadLetterFailure: 'DEAD_LETTER_QUEUE is not set' };
    const reason: DeadLetterReason = {
      code: error.code,
      message: error.message,
      ...(error.vendorCode !== undefined && { vendorCode: error.vendorCode }),
      ...(error.vendorRequestId !== undefined && { vendorRequestId: error.vendorRequestId }),
      ...(error.details !== undefined && { details: error.details }),
      sourceMessageId: record.messageId,
      ...(record.attributes?.ApproximateReceiveCount !== undefined && { receiveCount: record.attributes.ApproximateReceiveCount }),
      operation: op.name,
      requestId: invocation.requestId,
    };
    // Loaded on the first refused message: the SQS client stays off the cold start.
    const { sendToDeadLetterQueue } = await import('./dead-letter.js');
    // Bounded here too: the batch answers at the deadline even if SQS does not heed the signal.
    const { signal } = invocation;
    const sent = await untilAborted(sendToDeadLetterQueue(queue, record.body, reason, signal), signal);
    return {
      goesTo: 'dead-letter queue',
      deadLetterMessageId: sent.messageId,
      ...(sent.attributes === 'minimal' && { deadLetterReason: 'minimal' as const }),
    };
  } catch (thrown) {
    return { goesTo: 'redelivery', deadLetterFailure: causeName(thrown) };
  }
}

function digitsOnly(value: unknown): string | undefined {
  return typeof value === 'string' && /^\d{1,9}$/.test(value) ? value : undefined;
}

/**
 * One message, logged once either way with its own metrics and, on failure, where it went; a
 * failure that is left to redelivery rejects, so the batch reports it.
 */
async function processRecord(op: Operation, record: SQSRecord, invocation: Invocation): Promise<void> {
  // The message id is the event's text: shown only when it looks like an id (SQS's are UUIDs).
  const logger = invocation.logger.child({ messageId: plainId(record.messageId) ?? '(invalid)' });
  // Records run at once: each measures on its own, and its line writes what it measured.
  const metrics = createMeasures();
  try {
    const result = await untilAborted(runForEvent(op, messageBody(record.body), { ...invocation, logger, metrics }), invocation.signal);
    metrics.count('MessagesProcessed');
    logger.info(
      'message processed',
      { vendorRequestId: result.vendorRequestId, alreadyProvisioned: result.alreadyProvisioned ?? false },
      metricMembers(op.name, metrics),
    );
  } catch (thrown) {
    const error = toBrokerError(thrown);
    metrics.count('MessagesFailed');
    countFault(metrics, error);
    const fate = await fateOf(op, record, error, invocation);
    logger.error(
      'message failed',
      {
        code: error.code,
        reason: error.message,
        vendorCode: error.vendorCode,
        ...(error.details !== undefined && { detailCount: error.details.length }),
        receiveCount: digitsOnly(record.attributes?.ApproximateReceiveCount),
        ...fate,
      },
      metricMembers(op.name, metrics),
    );
    if (fate.goesTo === 'redelivery') throw error;
  }
}

/**
 * Every record at once, each bounded by the invocation's deadline: when it passes, the
 * records still running fail with Timeout and the others keep their outcome.
 */
async function processBatch(op: Operation, event: SQSEvent, invocation: Invocation): Promise<PromiseSettledResult<void>[]> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), Math.max(0, invocation.deadline - Date.now()));
  try {
    const bounded = { ...invocation, signal: deadline.signal };
    return await Promise.allSettled(event.Records.map((record) => processRecord(op, record, bounded)));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The SQS trigger: every record of a batch is tried at once, each bounded by the
 * invocation's deadline, so a slow one fails alone. A record refused for good is sent to the
 * dead-letter queue by the trigger and counts as handled; only the others that failed are
 * reported (`batchItemFailures`), so SQS retries just them and, after maxReceiveCount, moves
 * them to the dead-letter queue. middy's early timeout is off here: it would answer for the
 * whole batch, and so report the records that had succeeded as failed too.
 */
export function sqs(): SqsTrigger {
  return {
    kind: 'sqs',
    accepts: isSqsEvent,
    handler: (op) =>
      triggerStack<SQSEvent>(op, { timeoutEarly: false })
        // Each record's failure is already logged, as one JSON line with no secret.
        .use(sqsPartialBatchFailure({ logger: () => undefined }))
        .handler(withInvocation((event: SQSEvent, invocation) => processBatch(op, event, invocation))) as unknown as LambdaHandler,
  };
}
