// For each operation with an sqs trigger, events to the function with nothing lost:
//   EventBridge rule → <Fn>Queue → Lambda (partial batch responses, infra/functions.cjs)
//   → <Fn>DeadLetterQueue (alarmed in infra/alarms.cjs): the function sends a message refused for
//     good there itself (lib/runtime/triggers/dead-letter.ts), SQS moves one there after maxReceiveCount failed receives.
// <Fn> is the PascalCase functionName, <fn> the camelCase one. The rule matches the events of the
// stage params <fn>EventSource and <fn>EventDetailType (no default: they say which events feed the
// queue, so serverless.yml sets them in params.default) on the stage's own event bus, never the
// account's `default` bus: the bus's resource policy lets only the principals of the stage param
// `eventPublishers` put events on it (none by default), and each queue's policy denies
// sqs:SendMessage to anything but its rule. The messages are EventBridge envelopes; the function
// takes `detail` as the request body.
// An event the rule cannot deliver to the queue (the queue's policy or encryption refuses it, the
// queue is gone, or the retries ran out) goes to <Fn>EventDeadLetterQueue rather than being
// dropped: only that rule may send there, and infra/alarms.cjs alarms on its first message.
// On a production stage (stage param `retain`) both dead-letter queues outlive the stack.
'use strict';

const { arn, hasTrigger, ids, operations, params, retained, retainPolicy, stageParams } = require('./registry.cjs');

/**
 * A queue policy letting the rule `rule`, and nothing else, send to `queue`; nobody over plain
 * HTTP. Any principal of the account allowed sqs:SendMessage by its own policy is refused too.
 */
function onlyTheRuleSends(queue, rule) {
  const queueArn = { 'Fn::GetAtt': [queue, 'Arn'] };
  const ruleArn = { 'Fn::GetAtt': [rule, 'Arn'] };
  return {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: {
      Queues: [{ Ref: queue }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'RuleSends',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: queueArn,
            Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
          },
          {
            Sid: 'OnlyTheRuleSends',
            Effect: 'Deny',
            Principal: '*',
            Action: 'sqs:SendMessage',
            Resource: queueArn,
            Condition: { ArnNotEquals: { 'aws:SourceArn': ruleArn } },
          },
          {
            Sid: 'DenyInsecureTransport',
            Effect: 'Deny',
            Principal: '*',
            Action: 'sqs:*',
            Resource: queueArn,
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      },
    },
  };
}

/** SQS allows at most 80 characters in a queue name. */
const MAX_QUEUE_NAME = 80;

module.exports = async ({ resolveVariable }) => {
  const param = stageParams(resolveVariable);
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  const Resources = {};
  const Outputs = {};
  const queued = (await operations()).filter((o) => hasTrigger(o, 'sqs'));
  if (queued.length === 0) return { Resources, Outputs };
  const retain = retainPolicy(await retained(resolveVariable));

  const publishers = await param('eventPublishers', { fallback: [], as: 'json' });
  if (!Array.isArray(publishers) || !publishers.every((p) => typeof p === 'string' && /^arn:aws[\w-]*:(iam|sts)::\d{12}:/.test(p))) {
    throw new Error('stage param eventPublishers: expected a list of IAM principal ARNs (roles, users)');
  }
  const busName = `${service}-${stage}-events`;
  const busArn = arn('events', `event-bus/${busName}`);
  Resources[ids.eventBus] = {
    Type: 'AWS::Events::EventBus',
    Properties: {
      Name: busName,
      Policy: {
        Version: '2012-10-17',
        Statement: [
          ...(publishers.length > 0
            ? [{ Sid: 'NamedPublishersPut', Effect: 'Allow', Principal: { AWS: publishers }, Action: 'events:PutEvents', Resource: busArn }]
            : []),
          // Identity policies of the account could otherwise grant events:PutEvents on this bus.
          {
            Sid: 'NobodyElsePuts',
            Effect: 'Deny',
            Principal: '*',
            Action: 'events:PutEvents',
            Resource: busArn,
            ...(publishers.length > 0 && { Condition: { ArnNotLike: { 'aws:PrincipalArn': publishers } } }),
          },
        ],
      },
    },
  };
  Outputs[`${ids.eventBus}Name`] = { Description: 'The event bus that feeds the queues (put events here)', Value: { Ref: ids.eventBus } };

  for (const op of queued) {
    const queue = ids.queue(op);
    const deadLetterQueue = ids.deadLetterQueue(op);
    const eventDeadLetterQueue = ids.eventDeadLetterQueue(op);
    const rule = ids.queueRule(op);
    const queueName = `${service}-${stage}-${op.functionName}`;
    for (const name of [`${queueName}-dlq`, `${queueName}-events-dlq`]) {
      if (name.length > MAX_QUEUE_NAME) throw new Error(`queue name ${name} is longer than ${MAX_QUEUE_NAME} characters`);
    }
    const detailType = await param(params.eventDetailType(op));

    Resources[queue] = {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: queueName,
        // AWS: at least 6 × the function's timeout (10 s) for a Lambda event source, so a message
        // is not handed out again while an invocation (and its retries) may still hold it.
        VisibilityTimeout: 60,
        MessageRetentionPeriod: 345600, // 4 days
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterQueue, 'Arn'] },
          maxReceiveCount: await param(params.maxReceiveCount(op), { fallback: 5, as: 'number' }),
        },
      },
    };

    Resources[deadLetterQueue] = {
      Type: 'AWS::SQS::Queue',
      ...retain,
      Properties: {
        QueueName: `${queueName}-dlq`,
        // Longer than the source queue's: a message keeps its original enqueue time when moved.
        MessageRetentionPeriod: 1209600, // 14 days, the maximum
        SqsManagedSseEnabled: true,
      },
    };

    // The body of a message here is the event the rule failed to deliver, so a redrive into the
    // queue (start-message-move-task) hands the function what the rule would have.
    Resources[eventDeadLetterQueue] = {
      Type: 'AWS::SQS::Queue',
      ...retain,
      Properties: {
        QueueName: `${queueName}-events-dlq`,
        MessageRetentionPeriod: 1209600, // 14 days, the maximum
        // SQS's own keys: EventBridge can send to them without a key policy (an AWS managed KMS key would refuse it).
        SqsManagedSseEnabled: true,
      },
    };

    Resources[rule] = {
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: `${detailType} → ${op.name} through its queue (${stage})`,
        EventBusName: { Ref: ids.eventBus },
        State: 'ENABLED',
        EventPattern: {
          source: [await param(params.eventSource(op))],
          'detail-type': [detailType],
        },
        Targets: [
          {
            Id: `${op.functionName}-queue`,
            Arn: { 'Fn::GetAtt': [queue, 'Arn'] },
            // EventBridge's own maximum: a day of retries with backoff for throttling and outages; what
            // it does not retry (a refused send, a missing queue) goes to the dead-letter queue at once.
            RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [eventDeadLetterQueue, 'Arn'] } },
          },
        ],
      },
    };

    // Only this rule may send to the queue, or to its own dead-letter queue; and nobody over plain HTTP.
    Resources[ids.queuePolicy(op)] = onlyTheRuleSends(queue, rule);
    Resources[ids.eventDeadLetterQueuePolicy(op)] = onlyTheRuleSends(eventDeadLetterQueue, rule);

    Outputs[`${queue}Url`] = { Description: `URL of the ${op.functionName} queue (fed by ${rule})`, Value: { Ref: queue } };
    Outputs[`${queue}Arn`] = {
      Description: `ARN of the ${op.functionName} queue (aws sqs start-message-move-task --destination-arn ...)`,
      Value: { 'Fn::GetAtt': [queue, 'Arn'] },
    };
    Outputs[`${deadLetterQueue}Url`] = {
      Description: `URL of the ${op.functionName} dead-letter queue (aws sqs receive-message --queue-url ...)`,
      Value: { Ref: deadLetterQueue },
    };
    Outputs[`${deadLetterQueue}Arn`] = {
      Description: `ARN of the ${op.functionName} dead-letter queue (aws sqs start-message-move-task --source-arn ...)`,
      Value: { 'Fn::GetAtt': [deadLetterQueue, 'Arn'] },
    };
    Outputs[`${eventDeadLetterQueue}Url`] = {
      Description: `URL of the dead-letter queue of events the rule could not deliver to the ${op.functionName} queue`,
      Value: { Ref: eventDeadLetterQueue },
    };
    Outputs[`${eventDeadLetterQueue}Arn`] = {
      Description: `ARN of the ${op.functionName} events dead-letter queue (aws sqs start-message-move-task --source-arn ... --destination-arn <queue>)`,
      Value: { 'Fn::GetAtt': [eventDeadLetterQueue, 'Arn'] },
    };
    Outputs[`${rule}Arn`] = {
      Description: `ARN of the EventBridge rule that feeds the ${op.functionName} queue`,
      Value: { 'Fn::GetAtt': [rule, 'Arn'] },
    };
  }
  return { Resources, Outputs };
};
