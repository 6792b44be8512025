/**
 * The SQS function's own dead-letter queue (DEAD_LETTER_QUEUE): a message a retry cannot help
 * (lib/errors.ts, isPermanentFailure) is sent there at once, its body unchanged and its reason
 * in message attributes (docs/contracts.md, "SQS (provisioning queue)"), instead of reaching the
 * vendor again on each of its deliveries until SQS moves it there itself.
 *
 * The SQS trigger loads this module with a dynamic import on the first such message, so the
 * SQS client is never evaluated on a cold start that has no use for it.
 * @module
 */
import { GetQueueUrlCommand, type MessageAttributeValue, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { awsClientConfig } from './aws-client-config.js';

/** Why a message was dead-lettered: what its message attributes carry. Never a secret: error messages are written for callers. */
export interface DeadLetterReason {
  /** The error code (lib/errors.ts), e.g. `VendorRejected`. */
  code: string;
  /** The error's message, as an error answer would give it. */
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

/** One SQS client per instance, made on first use; region and credentials as every client of the broker (lib/aws-client-config.ts). */
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

/** The reason as message attributes (SQS allows 10, this makes at most 9; empty values are not allowed, so absent ones are left out). */
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

/**
 * Sends `body` to the queue named `queueName` with the reason attached; resolves to the new
 * message's id once SQS has stored it, and rejects with SQS's error otherwise. `signal` (the
 * invocation's deadline) cuts the calls short.
 */
export async function sendToDeadLetterQueue(
  queueName: string,
  body: string,
  reason: DeadLetterReason,
  signal?: AbortSignal,
): Promise<string> {
  const QueueUrl = await queueUrl(queueName, signal);
  const sent = await sqsClient().send(
    new SendMessageCommand({ QueueUrl, MessageBody: body, MessageAttributes: reasonAttributes(reason) }),
    { abortSignal: signal },
  );
  if (!sent.MessageId) throw new Error('SQS returned no message id');
  return sent.MessageId;
}

/** Forgets the client and the queue URLs (tests; a cold start does the same). */
export function resetDeadLetterQueue(): void {
  queueUrls.clear();
  client?.destroy();
  client = undefined;
}
