// CloudWatch alarms, per operation of the registry: Lambda's own (each function's Errors and
// Throttles), the two dead-letter queues of each queued operation (infra/queues.cjs: the function's,
// and the EventBridge rule's for events it could not deliver to the queue), and the broker's
// own metrics (EMF on its log lines, lib/core/metrics.ts, namespace custom.metricsNamespace):
//   - vendor throttling sustained: throttled vendor attempts plus requests the rate limiter refused,
//     at least 5 in each of 3 consecutive 5-minute periods;
//   - vendor errors: at least 5 failed vendor attempts (5xx, timeouts, network, unreadable answers,
//     refused keys or permission) in 5 minutes;
//   - keys or policy unavailable: any request, message or rotated body that failed because a master
//     key or the caller policy could not be read from SSM (or is malformed), in 5 minutes;
//   - credentials near expiry (operations that return credentials): any credentials handed out with
//     less than a quarter of their lifetime left, in 5 minutes (the serving rule keeps a quarter, so
//     this is a guard on it and on the clock);
//   - rotation failures and lateness (operations with a schedule): any failed body in 5 minutes; no
//     rotation run for twice the schedule's rate (only for an enabled `rate(...)` schedule).
// And per master-key rotation (lib/rotation/index.ts; metrics with the rotation function's name as
// `operation`): the function's Errors (a crash or timeout); a rotation failed (MasterKeyRotationFailed,
// any in 5 minutes); a rotation stuck (MasterKeyRotationStuck: an intent older than
// ROTATION_STUCK_SECONDS); no run for twice its schedule's rate (MasterKeyRotationRuns, while the
// schedule is enabled: the key-age alarm needs runs); a key the broker does not know (MasterKeyUnknown: the rotation stopped,
// changing nothing); the key older than the maximum age plus two days (MasterKeyAge, seconds, from the
// stage param masterKeyMaxAgeDays: a due rotation promotes within a run, so two days is a rotation
// that does not happen).
// Every description names its runbook entry: docs/runbook.md#<anchor>.
//
// Vendor accounts (docs/contracts.md, "Accounts"): the alarms above count every account of the
// operation (its metrics by `operation` alone). Each account the stage lists besides `default`
// (<vendor>Accounts) has its own vendor throttling, vendor errors and keys-unavailable alarms,
// on the metrics by `operation` and `Account`, so one account's quota or key is told apart.
//
// Alarms cost about $0.10 each per month. They notify the SNS topic in the stage param
// alarmTopicArn when it is set; otherwise they have no actions (state in the console only). The
// param is read here, so the template holds either the topic or no action at all, and no condition.
//
// What counts as a function error: a crash or timeout, a scheduled rotation with any failed body
// (it throws on purpose) and a failed directly-invoked EventBridge event. HTTP error answers
// (4xx/5xx) are successful invocations, and SQS messages that fail are reported as batch item
// failures and end up in the dead-letter queue, which has its own alarm.
'use strict';

const {
  hasTrigger,
  ids,
  operations,
  params,
  pascal,
  rateSeconds,
  rotations,
  stageNames,
  stageParams,
  triggersOf,
  vendorAccounts,
} = require('./registry.cjs');

const RUNBOOK = 'docs/runbook.md';

const FUNCTION_METRICS = [
  ['Errors', 'invocations failed (crash, timeout, rotation failure)', 'function-errors'],
  ['Throttles', 'invocations throttled (concurrency limit)', 'function-throttles'],
];

/** Fires on the first occurrence in 5 minutes. */
const ON_ANY = {
  Period: 300,
  EvaluationPeriods: 1,
  Threshold: 1,
  ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  TreatMissingData: 'notBreaching',
};

/** The longest window an alarm may look at: Period × EvaluationPeriods at most a day. */
const MAX_WINDOW_S = 86_400;

/** One of the broker's own metrics with `dimensions`: what a single-metric alarm watches. */
function ownMetric(Namespace, dimensions, MetricName, Statistic) {
  return { Namespace, MetricName, Dimensions: dimensions, Statistic };
}

/**
 * The vendor-throttling alarm's metric math over `dimensions` (an operation, or an operation in
 * one account): throttled vendor attempts plus requests the rate limit refused, at least 5 in
 * each of 3 periods of 5 minutes.
 */
function throttling(Namespace, dimensions, Label) {
  const sum = (Id, MetricName) => ({
    Id,
    MetricStat: { Metric: { Namespace, MetricName, Dimensions: dimensions }, Period: 300, Stat: 'Sum' },
    ReturnData: false,
  });
  return {
    Metrics: [
      sum('throttled', 'VendorThrottled'),
      sum('limited', 'RateLimited'),
      { Id: 'throttling', Expression: 'FILL(throttled, 0) + FILL(limited, 0)', Label, ReturnData: true },
    ],
    EvaluationPeriods: 3,
    DatapointsToAlarm: 3,
    Threshold: 5,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
  };
}

module.exports = async ({ resolveVariable }) => {
  const param = stageParams(resolveVariable);
  const topic = (await param('alarmTopicArn', { fallback: '' })).trim();
  if (topic !== '' && !/^arn:[\w-]+:sns:[\w-]+:\d{12}:[\w.-]+$/.test(topic))
    throw new Error(`stage param alarmTopicArn is not an SNS topic ARN: ${topic}`);
  const actions = topic === '' ? {} : { AlarmActions: [topic], OKActions: [topic] };
  const names = await stageNames(resolveVariable);

  const Resources = {};
  const alarm = (id, op, what, anchor, properties) => {
    Resources[id] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmDescription: `\${self:service} \${sls:stage} ${op.functionName}: ${what}. Runbook: ${RUNBOOK}#${anchor}`,
        ...properties,
        ...actions,
      },
    };
  };

  for (const op of await operations()) {
    const fn = pascal(op.functionName);
    for (const [metric, what, anchor] of FUNCTION_METRICS) {
      alarm(`${fn}${metric}Alarm`, op, what, anchor, {
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.lambda(op) } }],
        Statistic: 'Sum',
        ...ON_ANY,
      });
    }
    if (hasTrigger(op, 'sqs')) {
      alarm(`${ids.deadLetterQueue(op)}Alarm`, op, 'messages in the dead-letter queue', 'dead-letter-messages', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.deadLetterQueue(op), 'QueueName'] } }],
        Statistic: 'Maximum',
        ...ON_ANY,
      });
      // Events the EventBridge rule could not put on the queue (infra/queues.cjs): they never reached the function.
      alarm(
        `${ids.eventDeadLetterQueue(op)}Alarm`,
        op,
        'events the EventBridge rule could not deliver to the queue',
        'event-dead-letter-messages',
        {
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.eventDeadLetterQueue(op), 'QueueName'] } }],
          Statistic: 'Maximum',
          ...ON_ANY,
        },
      );
    }

    // The broker's own metrics, by operation.
    const dimensions = [{ Name: 'operation', Value: op.name }];
    const own = (MetricName, Statistic) => ownMetric(names.namespace, dimensions, MetricName, Statistic);

    alarm(
      `${fn}VendorThrottlingAlarm`,
      op,
      'the vendor throttles the broker, or its rate limit refuses requests, for 15 minutes (at least 5 in each of 3 periods of 5 minutes)',
      'vendor-throttling',
      throttling(names.namespace, dimensions, 'throttled vendor attempts + requests refused by the rate limit'),
    );
    alarm(
      `${fn}VendorErrorsAlarm`,
      op,
      'at least 5 failed vendor attempts in 5 minutes (5xx, timeouts, network, unreadable answers, refused key or permission)',
      'vendor-errors',
      { ...own('VendorFailed', 'Sum'), ...ON_ANY, Threshold: 5 },
    );
    alarm(
      `${fn}KeysOrPolicyUnavailableAlarm`,
      op,
      'a master key or the caller policy could not be read from SSM, or is malformed',
      'keys-or-policy-unavailable',
      { ...own('SsmFaults', 'Sum'), ...ON_ANY },
    );
    for (const account of await vendorAccounts(resolveVariable, op.vendor)) {
      if (account === 'default') continue;
      const byAccount = [...dimensions, { Name: 'Account', Value: account }];
      const id = `${fn}Account${pascal(account)}`;
      alarm(
        `${id}VendorThrottlingAlarm`,
        op,
        `account ${account}: the vendor throttles the broker, or its rate limit refuses requests, for 15 minutes`,
        'vendor-throttling',
        throttling(names.namespace, byAccount, `account ${account}: throttled + refused`),
      );
      alarm(`${id}VendorErrorsAlarm`, op, `account ${account}: at least 5 failed vendor attempts in 5 minutes`, 'vendor-errors', {
        ...ownMetric(names.namespace, byAccount, 'VendorFailed', 'Sum'),
        ...ON_ANY,
        Threshold: 5,
      });
      alarm(
        `${id}KeysUnavailableAlarm`,
        op,
        `account ${account}: its master key could not be read from SSM, or is malformed`,
        'keys-or-policy-unavailable',
        { ...ownMetric(names.namespace, byAccount, 'SsmFaults', 'Sum'), ...ON_ANY },
      );
    }
    if (op.expiresAt !== undefined) {
      alarm(
        `${fn}CredentialsNearExpiryAlarm`,
        op,
        'credentials handed out with less than a quarter of their lifetime left',
        'credentials-near-expiry',
        { ...own('CredentialLifetimeLeft', 'Minimum'), ...ON_ANY, Threshold: 25, ComparisonOperator: 'LessThanThreshold' },
      );
    }
    if (hasTrigger(op, 'schedule')) {
      alarm(`${fn}RotationFailuresAlarm`, op, 'a scheduled rotation failed for at least one body', 'rotation-failures', {
        ...own('RotationFailed', 'Sum'),
        ...ON_ANY,
      });
      const [schedule] = triggersOf(op, 'schedule');
      const enabled = await param(params.rotationEnabled(op), { fallback: true, as: 'boolean' });
      const rate = rateSeconds(await param(params.rotationRate(op), { fallback: schedule.rate }));
      if (enabled && rate !== undefined) {
        // Two rates without a run: one late run is jitter, two is a schedule that stopped.
        const period = Math.min(MAX_WINDOW_S, Math.max(300, Math.ceil((2 * rate) / 60) * 60));
        alarm(`${fn}RotationLateAlarm`, op, `no scheduled rotation has run for ${period / 60} minutes`, 'rotation-late', {
          ...own('RotationRuns', 'Sum'),
          Period: period,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'LessThanThreshold',
          // No run at all is the very thing to notice.
          TreatMissingData: 'breaching',
        });
      }
    }
  }
  const maxAgeDays = await param('masterKeyMaxAgeDays', { fallback: 90, as: 'number' });
  for (const rotation of await rotations()) {
    const fn = pascal(rotation.functionName);
    const own = (MetricName, Statistic) =>
      ownMetric(names.namespace, [{ Name: 'operation', Value: rotation.functionName }], MetricName, Statistic);
    alarm(`${fn}ErrorsAlarm`, rotation, 'invocations failed (crash, timeout, rotation failure)', 'function-errors', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.lambda(rotation) } }],
      Statistic: 'Sum',
      ...ON_ANY,
    });
    alarm(`${fn}FailedAlarm`, rotation, 'a master-key rotation run failed', 'master-key-rotation-failed', {
      ...own('MasterKeyRotationFailed', 'Sum'),
      ...ON_ANY,
    });
    alarm(`${fn}StuckAlarm`, rotation, 'a master-key rotation started long ago has not finished', 'master-key-rotation-stuck', {
      ...own('MasterKeyRotationStuck', 'Sum'),
      ...ON_ANY,
    });
    alarm(`${fn}UnknownKeyAlarm`, rotation, 'the vendor user has a key the broker does not know: rotation stopped', 'master-key-unknown', {
      ...own('MasterKeyUnknown', 'Sum'),
      ...ON_ANY,
    });
    const enabled = await param(params.masterKeyEnabled(rotation), { fallback: true, as: 'boolean' });
    const rate = rateSeconds(await param(params.masterKeyRate(rotation), { fallback: 'rate(1 hour)' }));
    if (enabled && rate !== undefined) {
      // The key-age alarm needs runs to publish an age: a schedule that stopped is noticed here.
      const period = Math.min(MAX_WINDOW_S, Math.max(300, Math.ceil((2 * rate) / 60) * 60));
      alarm(`${fn}LateAlarm`, rotation, `no master-key rotation run for ${period / 60} minutes`, 'master-key-rotation-late', {
        ...own('MasterKeyRotationRuns', 'Sum'),
        Period: period,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
    }
    alarm(`${fn}KeyAgeAlarm`, rotation, `the master key is older than ${maxAgeDays + 2} days`, 'master-key-too-old', {
      ...own('MasterKeyAge', 'Maximum'),
      Period: 3600,
      EvaluationPeriods: 1,
      Threshold: (maxAgeDays + 2) * 86_400,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  }
  return { Resources };
};
