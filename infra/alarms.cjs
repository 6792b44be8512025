// CloudWatch alarms: each function's Errors and Throttles, and messages in each dead-letter queue
// (infra/queues.cjs). Alarms cost about $0.10 each per month. They notify the SNS topic in the
// stage param alarmTopicArn when it is set; otherwise they have no actions (state in the console
// only). The param is read here, so the template holds either the topic or no action at all, and
// no condition.
//
// What counts as a function error: a crash or timeout, a scheduled rotation with any failed body
// (it throws on purpose) and a failed directly-invoked EventBridge event. HTTP error answers
// (4xx/5xx) are successful invocations, and SQS messages that fail are reported as batch item
// failures and end up in the dead-letter queue, which has its own alarm.
'use strict';

const { hasTrigger, ids, operations, pascal, stageParams } = require('./registry.cjs');

const FUNCTION_METRICS = [
  ['Errors', 'invocations failed (crash, timeout, rotation failure)'],
  ['Throttles', 'invocations throttled (concurrency limit)'],
];

/** Fires on the first occurrence in 5 minutes. */
const ON_ANY = {
  Period: 300,
  EvaluationPeriods: 1,
  Threshold: 1,
  ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  TreatMissingData: 'notBreaching',
};

module.exports = async ({ resolveVariable }) => {
  const topic = (await stageParams(resolveVariable)('alarmTopicArn', { fallback: '' })).trim();
  if (topic !== '' && !/^arn:[\w-]+:sns:[\w-]+:\d{12}:[\w.-]+$/.test(topic))
    throw new Error(`stage param alarmTopicArn is not an SNS topic ARN: ${topic}`);
  const actions = topic === '' ? {} : { AlarmActions: [topic], OKActions: [topic] };

  const Resources = {};
  for (const op of await operations()) {
    for (const [metric, what] of FUNCTION_METRICS) {
      Resources[`${pascal(op.functionName)}${metric}Alarm`] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmDescription: `\${self:service} \${sls:stage} ${op.functionName}: ${what}`,
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.lambda(op) } }],
          Statistic: 'Sum',
          ...ON_ANY,
          ...actions,
        },
      };
    }
    if (hasTrigger(op, 'sqs')) {
      Resources[`${ids.deadLetterQueue(op)}Alarm`] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmDescription: `\${self:service} \${sls:stage} ${op.functionName}: messages in the dead-letter queue (see the README, Deploy, to read and redrive them)`,
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.deadLetterQueue(op), 'QueueName'] } }],
          Statistic: 'Maximum',
          ...ON_ANY,
          ...actions,
        },
      };
    }
  }
  return { Resources };
};
