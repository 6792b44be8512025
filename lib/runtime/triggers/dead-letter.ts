/**
 * The SQS function's own dead-letter queue (DEAD_LETTER_QUEUE): a message a retry cannot help
 * (lib/core/errors.ts, isPermanentFailure) is sent there at once, its body unchanged and its reason
 * in message attributes (docs/contracts.md, "SQS (provisioning queue)"), instead of reaching the
 * vendor again on each of its deliveries until SQS moves it there itself.
 *
 * The SQS trigger loads this module with a dynamic import on the first such message, so the
 * SQS client is never evaluated on a cold start that has no use for it.
 * @module
 */
import { GetQueueUrlCommand, type MessageAttributeValue, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { awsClientConfig } from '../../aws/client-config.js';

/** Why a message was dead-lettered: what its message attributes carry. Never a secret: error messages are written for callers. */
export interface DeadLetterReason {
  /** The error code (lib/core/errors.ts), e.g. `VendorRejected`. */
  code: string;
  /** The error's message, as an error answer would give it: it names fields, never an event's values. */
  message: string;
  vendorCode?: string;
  vendorRequestId?: string;
  /** Field paths and problems of an InvalidRequest (never a value). */
  details?: { path: string; message: string }[];
  /** The message's id in the queue it came from. */
  sourceMessageId: string;
  /** Its ApproximateReceiveCount when it failed, if SQS gave one. */
  receiveCount?: string;
  /** `<product>:<Action>`. */
  operation: string;
  /** The Lambda request id of the invocation that refused it: its log lines carry it. */
  requestId: string;
}

let client: SQSClient | undefined;
/** Queue URLs by name, one lookup per instance; a failed lookup is forgotten, so the next message asks again. */
const queueUrls = new Map<string, Promise<string>>();

/** One SQS client per instance, made on first use; region and credentials as every client of the broker (lib/aws/client-config.ts). */
function sqsClient(): SQSClient {
  client ??= new SQSClient(awsClientConfig());
  return client;
}

/**
 * The queue's URL, from SQS (GetQueueUrl) rather than built from the region and account: the SDK
 * resolves the endpoint for the partition (amazonaws.com, amazonaws.com.cn) and for a local
 * AWS_ENDPOINT_URL_SQS, so no URL format is spelled here, and the call is made once per
 * instance, only when a message is refused, never on the serving path.
 */
function queueUrl(name: string, signal: AbortSignal | undefined): Promise<string> {
  let url = queueUrls.get(name);
  if (url === undefined) {
    url = sqsClient()
      .send(new GetQueueUrlCommand({ QueueName: name }), { abortSignal: signal })
      .then(({ QueueUrl }) => {
        if (!QueueUrl) throw new Error(`SQS returned no URL for ${name}`);
        return QueueUrl;
      });
    url.catch(() => queueUrls.delete(name));
    queueUrls.set(name, url);
  }
  return url;
}

const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/**
 * The reason as message attributes (SQS allows 10, this makes at most 9; empty values are not
 * allowed, so absent ones are left out). Messages and details name fields, never values
 * (lib/core/schema.ts); the vendor's code and request id are the vendor's text, which SQS may refuse
 * (sendToDeadLetterQueue then sends the minimal reason).
 */
export function reasonAttributes(reason: DeadLetterReason): Record<string, MessageAttributeValue> {
  const { receiveCount } = reason;
  return {
    errorCode: text(reason.code),
    errorMessage: text(reason.message),
    ...(reason.vendorCode && { vendorCode: text(reason.vendorCode) }),
    ...(reason.vendorRequestId && { vendorRequestId: text(reason.vendorRequestId) }),
    ...(reason.details !== undefined && reason.details.length > 0 && { errorDetails: text(JSON.stringify(reason.details)) }),
    sourceMessageId: text(reason.sourceMessageId),
    ...(receiveCount !== undefined && /^\d+$/.test(receiveCount) && { receiveCount: { DataType: 'Number', StringValue: receiveCount } }),
    operation: text(reason.operation),
    requestId: text(reason.requestId),
  };
}

/** SQS's answers that say the message itself was refused (an attribute's characters, a name, the size): its content, not the moment. */
const REFUSED_CONTENT = new Set([
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'InvalidMessageContents',
  'InvalidAttributeName',
  'InvalidAttributeValue',
]);

/** An id that may ride along as it is: SQS message ids and Lambda request ids are UUID-like. */
const PLAIN_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The reason cut down to what the broker itself wrote (code, operation, request id, a fixed
 * message naming what SQS refused): what is sent when SQS refuses the whole reason. Nothing
 * from the event or the vendor, so SQS takes it whatever they held.
 */
export function minimalReasonAttributes(reason: DeadLetterReason, refusedBy: string): Record<string, MessageAttributeValue> {
  const refused = /^\w{1,64}$/.test(refusedBy) ? refusedBy : 'an error';
  return {
    errorCode: text(reason.code),
    errorMessage: text(`The full reason was refused by SQS (${refused}); the function's "message failed" line with this requestId has it.`),
    ...(PLAIN_ID.test(reason.sourceMessageId) && { sourceMessageId: text(reason.sourceMessageId) }),
    operation: text(reason.operation),
    requestId: text(reason.requestId),
    reasonAttributes: text('minimal'),
  };
}

/** Where a message went: the dead-letter message's id, and whether its reason went whole or cut down. */
export interface DeadLettered {
  messageId: string;
  /** `minimal` when SQS refused the full reason and the message went with minimalReasonAttributes. */
  attributes: 'full' | 'minimal';
}

/**
 * Sends `body` to the queue named `queueName` with the reason attached; resolves once SQS has
 * stored it, and rejects with SQS's error otherwise. When SQS refuses the message for what it
 * holds (an attribute's characters, the size), it is sent once more with the minimal reason,
 * so a reason SQS cannot take never sends the message back for redelivery; only a refusal of
 * that rejects. `signal` (the invocation's deadline) cuts the calls short.
 */
export async function sendToDeadLetterQueue(
  queueName: string,
  body: string,
  reason: DeadLetterReason,
  signal?: AbortSignal,
): Promise<DeadLettered> {
  const QueueUrl = await queueUrl(queueName, signal);
  const send = async (MessageAttributes: Record<string, MessageAttributeValue>) => {
    const sent = await sqsClient().send(new SendMessageCommand({ QueueUrl, MessageBody: body, MessageAttributes }), {
      abortSignal: signal,
    });
    if (!sent.MessageId) throw new Error('SQS returned no message id');
    return sent.MessageId;
  };
  try {
    return { messageId: await send(reasonAttributes(reason)), attributes: 'full' };
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || !REFUSED_CONTENT.has(name)) throw error;
    return { messageId: await send(minimalReasonAttributes(reason, name)), attributes: 'minimal' };
  }
}

/** Forgets the client and the queue URLs (tests; a cold start does the same). */
export function resetDeadLetterQueue(): void {
  queueUrls.clear();
  client?.destroy();
  client = undefined;
}
