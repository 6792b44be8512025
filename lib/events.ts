import type { EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { callerForAudit, callerOf } from './caller.js';
import { BrokerError, toBrokerError } from './errors.js';
import { type HttpEvent, httpMethod, isHttpEvent, jsonBody } from './http.js';
import type { Invocation } from './invocation.js';
import type { Operation } from './operation.js';
import { authorize } from './policy.js';
import { type OperationResult, runOperation, validateBody } from './run-operation.js';
import { bodyKey, cachedCredentials, type RotationReport, rotateOne } from './token-cache.js';

/**
 * Every handler recognises the shape it was given (docs/contracts.md, "Events other than HTTP")
 * and routes it here; anything else is refused with a clear error.
 */
export async function routeEvent(op: Operation, event: unknown, invocation: Invocation): Promise<unknown> {
  if (isHttpEvent(event)) return handleHttp(op, event, invocation);
  if (isRotationEvent(event)) return handleRotation(op, event, invocation);
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
  return runOperation(op, valid, invocation);
}

/**
 * HTTPS callers: validated, checked against the caller policy before any key is read,
 * then served from the token cache where the operation returns credentials.
 */
async function handleHttp(op: Operation, event: HttpEvent, invocation: Invocation): Promise<OperationResult> {
  const { audit } = invocation;
  const caller = callerOf(event);
  audit.caller = callerForAudit(caller);
  if (httpMethod(event) !== 'POST') {
    throw new BrokerError('InvalidRequest', 'Use POST: every answer carries secrets, which must stay out of URLs.');
  }
  const body = validateBody(op, jsonBody(event));
  const hash = bodyKey(body);
  audit.bodyHash = hash;
  // Denied until the policy says otherwise, so a refusal is recorded as one.
  audit.decision = { allowed: false };
  audit.decision = await authorize(op.name, caller, body, invocation.logger);
  // Set before the call so a failed vendor call is still recorded as one.
  audit.source = 'vendor';
  if (op.expiresAt === undefined) return runOperation(op, body, invocation);
  const { result, source } = await cachedCredentials(op, body, invocation, hash);
  audit.source = source;
  if (result.expiresAt !== undefined) audit.expiresAt = result.expiresAt;
  return result;
}

interface RotationEvent {
  rotate: unknown[];
}

function isRotationEvent(event: unknown): event is RotationEvent {
  return event !== null && typeof event === 'object' && Array.isArray((event as { rotate?: unknown }).rotate);
}

export class RotationFailed extends Error {
  override readonly name = 'RotationFailed';
  constructor(readonly report: RotationReport) {
    super(
      `${report.failed.length} of ${report.failed.length + report.rotated + report.fresh} token rotations failed: ${report.failed.map((f) => `${f.key} ${f.code}`).join(', ')}`,
    );
  }
}

/**
 * A scheduled `{"rotate": [body, ...]}`: refreshes each body's stored credentials unless
 * half their lifetime is left. Throws when any failed, so the invocation counts as an
 * error and can alarm.
 */
async function handleRotation(op: Operation, event: RotationEvent, invocation: Invocation): Promise<RotationReport> {
  if (op.expiresAt === undefined) {
    throw new BrokerError('InvalidRequest', `${op.name} returns no credentials; there is nothing to rotate.`);
  }
  const report: RotationReport = { rotated: 0, fresh: 0, failed: [] };
  for (const [index, raw] of event.rotate.entries()) {
    const key = raw !== null && typeof raw === 'object' ? bodyKey(raw as Record<string, unknown>) : `#${index}`;
    try {
      const outcome = await rotateOne(op, validateBody(op, raw), invocation);
      report[outcome] += 1;
    } catch (thrown) {
      const error = toBrokerError(thrown);
      report.failed.push({
        key,
        code: error.code,
        message: error.message,
        ...(error.vendorCode !== undefined && { vendorCode: error.vendorCode }),
      });
      // The report names the failure; the log line keeps its cause (an SSM error, say) for the operator.
      invocation.logger.error('rotation of one body failed', {
        key,
        code: error.code,
        vendorCode: error.vendorCode,
        details: error.details,
        cause: error.cause,
      });
    }
  }
  invocation.logger[report.failed.length ? 'error' : 'info']('rotation finished', { ...report });
  if (report.failed.length) throw new RotationFailed(report);
  return report;
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
    invocation.logger.error('event failed', {
      eventId: event.id,
      code: error.code,
      reason: error.message,
      vendorCode: error.vendorCode,
      details: error.details,
    });
    throw error;
  }
}
