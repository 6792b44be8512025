/**
 * A small model of an SQS queue driving a Lambda function with partial batch responses, as
 * the provisioning queue is deployed (docs/contracts.md, "SQS (provisioning queue)"):
 * receiving a message hides it for the visibility timeout and counts the receive; a message
 * the function reports failed (or every message of a failed invocation) comes back once its
 * visibility timeout is over; one received `maxReceiveCount` times that comes back again goes
 * to the dead-letter list instead. A message the function reports handled is deleted, unless
 * the function sent it to its own dead-letter queue during that invocation (the fake SQS's
 * queue `deadLetterQueue`, found by the `sourceMessageId` attribute): then it is on the
 * dead-letter list too, sent there by the function. Up to `pollers` invocations run at once,
 * each with up to `batchSize` messages.
 *
 * Visibility runs on a clock of the model's own that jumps ahead when nothing is in flight
 * and nothing is visible, so waiting out visibility timeouts costs no wall time; the
 * function's own deadlines run on the real clock. Bounded by `maxWallMs`.
 */
import type { SQSRecord } from 'aws-lambda';
import type { FakeSqs, FakeSqsMessage } from '../../../sim/fake-sqs.js';

export interface QueueMessage {
  messageId: string;
  body: string;
  state: 'queued' | 'in flight' | 'deleted' | 'dead';
  receiveCount: number;
  /** Model time at which it may be received again. */
  visibleAt: number;
  /** Each receive: the invocation's start and end (epoch ms, real clock) and whether it failed. */
  receives: { start: number; end: number; failed: boolean }[];
  /** Who put a dead message on the dead-letter list: SQS after maxReceiveCount, or the function itself. */
  deadLetteredBy?: 'queue' | 'function';
  /** What the function sent to its dead-letter queue for this message, every time it did. */
  sentByFunction: FakeSqsMessage[];
}

export interface Invocation {
  start: number;
  end: number;
  messages: number;
  failed: number;
  /** The invocation itself failed (an error instead of a batch response). */
  error?: string;
}

export interface SqsModelOptions {
  visibilityMs: number;
  maxReceiveCount: number;
  batchSize: number;
  pollers: number;
  maxWallMs: number;
  /** The function's own dead-letter queue in the fake SQS, if it has one. */
  deadLetterQueue?: { sqs: FakeSqs; name: string };
}

export type InvokeBatch = (event: { Records: SQSRecord[] }) => Promise<{ result?: any; error?: { name: string; message: string } }>;

export class SqsModel {
  readonly messages = new Map<string, QueueMessage>();
  readonly deadLetters: QueueMessage[] = [];
  readonly invocations: Invocation[] = [];
  private skipped = 0;

  constructor(private readonly options: SqsModelOptions) {}

  /** Model time: the real clock plus every jump. */
  now(): number {
    return Date.now() + this.skipped;
  }

  send(messageId: string, body: string): void {
    this.messages.set(messageId, { messageId, body, state: 'queued', receiveCount: 0, visibleAt: 0, receives: [], sentByFunction: [] });
  }

  /** Up to `max` visible messages, each received once more; those past maxReceiveCount go to the dead letters instead. */
  receive(max: number): QueueMessage[] {
    const now = this.now();
    const batch: QueueMessage[] = [];
    for (const message of this.messages.values()) {
      if (batch.length >= max) break;
      if (message.state !== 'queued' || message.visibleAt > now) continue;
      if (message.receiveCount >= this.options.maxReceiveCount) {
        message.state = 'dead';
        message.deadLetteredBy = 'queue';
        this.deadLetters.push(message);
        continue;
      }
      message.receiveCount += 1;
      message.visibleAt = now + this.options.visibilityMs;
      message.state = 'in flight';
      batch.push(message);
    }
    return batch;
  }

  private record(message: QueueMessage): SQSRecord {
    return {
      messageId: message.messageId,
      receiptHandle: `rh-${message.messageId}-${message.receiveCount}`,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: '0',
        SenderId: 'hostile',
        ApproximateFirstReceiveTimestamp: '0',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:cloud-token-broker-hostile-ims-provision-external-application',
      awsRegion: 'eu-west-1',
    };
  }

  private async run(batch: QueueMessage[], invoke: InvokeBatch): Promise<void> {
    const start = Date.now();
    let failedIds: Set<string>;
    let error: string | undefined;
    try {
      const answer = await invoke({ Records: batch.map((m) => this.record(m)) });
      if (answer.error) {
        error = `${answer.error.name}: ${answer.error.message}`;
        failedIds = new Set(batch.map((m) => m.messageId));
      } else {
        const failures: { itemIdentifier: string }[] = answer.result?.batchItemFailures ?? [];
        failedIds = new Set(failures.map((f) => f.itemIdentifier));
      }
    } catch (thrown) {
      // No answer at all (the runtime lost it): as a failed invocation, every message comes back.
      error = String(thrown);
      failedIds = new Set(batch.map((m) => m.messageId));
    }
    const end = Date.now();
    const sent = this.sentToDeadLetterQueue(start, end);
    for (const message of batch) {
      const failed = failedIds.has(message.messageId);
      message.receives.push({ start, end, failed });
      const dead = sent.filter((m) => m.attributes.sourceMessageId?.StringValue === message.messageId);
      message.sentByFunction.push(...dead);
      if (failed) message.state = 'queued';
      else if (dead.length > 0) {
        message.state = 'dead';
        message.deadLetteredBy = 'function';
        this.deadLetters.push(message);
      } else message.state = 'deleted';
    }
    this.invocations.push({ start, end, messages: batch.length, failed: failedIds.size, ...(error !== undefined && { error }) });
  }

  /** What the function sent to its dead-letter queue between `start` and `end` (one invocation). */
  private sentToDeadLetterQueue(start: number, end: number): FakeSqsMessage[] {
    const queue = this.options.deadLetterQueue;
    if (!queue) return [];
    return queue.sqs.messages(queue.name).filter((m) => m.sentAt >= start && m.sentAt <= end);
  }

  /** Delivers until every message is deleted or dead, or `maxWallMs` passes. */
  async drain(invoke: InvokeBatch): Promise<{ wallMs: number; finished: boolean }> {
    const started = Date.now();
    const inFlight = new Set<Promise<void>>();
    for (;;) {
      if (Date.now() - started > this.options.maxWallMs) break;
      while (inFlight.size < this.options.pollers) {
        const batch = this.receive(this.options.batchSize);
        if (batch.length === 0) break;
        const running: Promise<void> = this.run(batch, invoke).finally(() => inFlight.delete(running));
        inFlight.add(running);
      }
      if (inFlight.size > 0) {
        await Promise.race(inFlight);
        continue;
      }
      const waiting = [...this.messages.values()].filter((m) => m.state === 'queued');
      if (waiting.length === 0) break;
      // Nothing in flight and nothing visible: jump to the next message's visibility.
      const next = Math.min(...waiting.map((m) => m.visibleAt));
      this.skipped += Math.max(0, next - this.now());
    }
    await Promise.all(inFlight);
    const finished = [...this.messages.values()].every((m) => m.state === 'deleted' || m.state === 'dead');
    return { wallMs: Date.now() - started, finished };
  }
}
