import type { Context } from 'aws-lambda';
import type { Operation } from '../spec/operation.js';

/** A Lambda handler as the runtime calls it. */
export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/**
 * One kind of event a function is wired to. A spec lists its triggers; the deploy template
 * reads `kind` (and a schedule's `rate`), the handler asks each trigger whether an event is
 * its own and hands it to that trigger's middy stack.
 */
interface TriggerBase<K extends string> {
  kind: K;
  /** Whether `event` is of this trigger's shape. */
  accepts(event: unknown): boolean;
  /** The middy stack that handles this trigger's events for `op`. */
  handler(op: Operation): LambdaHandler;
}

/** API Gateway (HTTP API payload 2.0, or REST API payload 1.0): the caller policy applies. */
export type HttpTrigger = TriggerBase<'http'>;

/** An EventBridge schedule whose input is `{"rotate": [<body>, ...]}`. */
export interface ScheduleTrigger extends TriggerBase<'schedule'> {
  /** The schedule's default rate, e.g. `rate(5 minutes)`; a stage parameter may override it. */
  rate: string;
}

/** An SQS queue fed by the stage's event bus: one request body per message. */
export type SqsTrigger = TriggerBase<'sqs'>;

/** An EventBridge event delivered straight to the function: `detail` is the body. */
export type EventBridgeTrigger = TriggerBase<'eventbridge'>;

/** Any trigger an operation can declare. */
export type Trigger = HttpTrigger | ScheduleTrigger | SqsTrigger | EventBridgeTrigger;
/** The kinds of trigger: http, schedule, sqs, eventbridge. */
export type TriggerKind = Trigger['kind'];
