// One CloudWatch dashboard for the stage, `<service>-<stage>`, generated from the registry: an
// overview row, then rows for each operation (requests by outcome code, answers by source,
// vendor latency p50/p99, vendor attempts, throttling and failures, waits, credentials' lifetime
// left, faults and denials, and its rotation or its queue and dead-letter queue), a row per
// master-key rotation (lib/rotation/index.ts: its runs, failures, stops and the key's age), then the
// latest refusals and failures from the audit lines (Logs Insights).
//
// The graphs read the broker's own metrics (EMF on its log lines, lib/core/metrics.ts, namespace
// custom.metricsNamespace, dimension `operation`, and `code` for Requests) and AWS/Lambda and
// AWS/SQS. Names are the stage's literal names (infra/registry.cjs stageNames); the body is one
// Fn::Sub whose only variable is ${AWS::Region}. A dashboard costs $3 a month beyond the account's
// first three.
'use strict';

const { hasTrigger, ids, operations, rotations, stageNames } = require('./registry.cjs');

const REGION = '${AWS::Region}';
const PERIOD = 300;
const WIDTH = 24;
const HEIGHT = 6;

module.exports = async ({ resolveVariable }) => {
  const names = await stageNames(resolveVariable);
  const ops = await operations();
  const widgets = [];
  let y = 0;

  /** A row of widgets side by side, filling the dashboard's width. */
  const row = (list, height = HEIGHT) => {
    const width = Math.floor(WIDTH / list.length);
    for (const [i, widget] of list.entries()) widgets.push({ ...widget, x: i * width, y, width, height });
    y += height;
  };
  const text = (markdown) => ({ type: 'text', properties: { markdown } });
  /** A time series of `metrics` (CloudWatch's metric arrays and expressions). */
  const graph = (title, metrics, extra = {}) => ({
    type: 'metric',
    properties: { title, region: REGION, view: 'timeSeries', period: PERIOD, stat: 'Sum', metrics, ...extra },
  });
  /** One of the broker's metrics of `op`. */
  const own = (op, metric, options = {}) => [names.namespace, metric, 'operation', op.name, options];
  const lambda = (op, metric, options = {}) => ['AWS/Lambda', metric, 'FunctionName', names.function(op), options];
  const sqs = (queue, metric, options = {}) => ['AWS/SQS', metric, 'QueueName', queue, options];

  row(
    [
      text(
        [
          `# ${names.service} ${names.stage}`,
          `The broker's own metrics are in the namespace \`${names.namespace}\` (EMF on its log lines), by \`operation\`;`,
          '`Requests` also by `code` (`OK` or the error code). Each alarm names its entry in docs/runbook.md of the',
          'repository: what it means, how to confirm it here and in the logs, and what to do.',
        ].join('\n'),
      ),
    ],
    2,
  );
  row([
    graph(
      'Requests by operation',
      ops.map((op) => own(op, 'Requests', { label: op.name })),
      { stacked: true },
    ),
    graph('Lambda errors and throttles', [
      ...ops.map((op) => lambda(op, 'Errors', { label: `${op.functionName} errors` })),
      ...ops.map((op) => lambda(op, 'Throttles', { label: `${op.functionName} throttles` })),
    ]),
    graph(
      'Faults: SSM (keys, policy) and the token table',
      ops.flatMap((op) => [
        own(op, 'SsmFaults', { label: `${op.functionName} SSM` }),
        own(op, 'TableFaults', { label: `${op.functionName} table` }),
      ]),
    ),
  ]);

  for (const op of ops) {
    const credentials = op.expiresAt !== undefined;
    row([text(`## ${op.name}\nfunction \`${names.function(op)}\`, route \`POST ${op.route}\``)], 1);
    row([
      graph(
        'Requests by outcome code',
        [
          {
            expression: `SEARCH('{${names.namespace},code,operation} MetricName="Requests" operation="${op.name}"', 'Sum', ${PERIOD})`,
            id: 'codes',
          },
        ],
        { stacked: true },
      ),
      graph(
        'Answers by source',
        [
          own(op, 'ServedFromMemory', { label: 'memory' }),
          own(op, 'ServedFromTable', { label: 'table' }),
          own(op, 'ServedFromVendor', { label: 'vendor' }),
        ],
        { stacked: true },
      ),
      graph('Vendor latency (ms)', [
        own(op, 'VendorLatency', { stat: 'p50', label: 'p50' }),
        own(op, 'VendorLatency', { stat: 'p99', label: 'p99' }),
      ]),
      graph('Vendor attempts, throttling, failures', [
        own(op, 'VendorCalls', { label: 'calls' }),
        own(op, 'VendorAttempts', { label: 'attempts' }),
        own(op, 'VendorThrottled', { label: 'throttled' }),
        own(op, 'VendorFailed', { label: 'failed' }),
        ...(op.ratePerSecond !== undefined ? [own(op, 'RateLimited', { label: 'refused by the rate limit (429)' })] : []),
      ]),
    ]);
    const second = [];
    if (credentials) {
      second.push(
        graph(
          'Credentials handed out: lifetime left (%)',
          [
            own(op, 'CredentialLifetimeLeft', { stat: 'Minimum', label: 'minimum' }),
            own(op, 'CredentialLifetimeLeft', { stat: 'Average', label: 'average' }),
          ],
          { yAxis: { left: { min: 0, max: 100 } }, annotations: { horizontal: [{ label: 'alarm below', value: 25 }] } },
        ),
      );
    }
    second.push(
      graph('Waits (ms, p99)', [
        ...(op.ratePerSecond !== undefined ? [own(op, 'RateLimitWait', { stat: 'p99', label: 'rate slot' })] : []),
        ...(credentials ? [own(op, 'LeaseWait', { stat: 'p99', label: "another instance's lease" })] : []),
        lambda(op, 'Duration', { stat: 'p99', label: 'function duration' }),
      ]),
      graph('Denials and faults', [
        own(op, 'PolicyDenials', { label: 'caller policy denials' }),
        own(op, 'SsmFaults', { label: 'SSM faults' }),
        own(op, 'TableFaults', { label: 'table faults' }),
        lambda(op, 'Errors', { label: 'function errors' }),
        lambda(op, 'Throttles', { label: 'function throttles' }),
      ]),
    );
    if (hasTrigger(op, 'schedule')) {
      second.push(
        graph('Scheduled rotation', [
          own(op, 'RotationRuns', { label: 'runs' }),
          own(op, 'RotationRotated', { label: 'rotated' }),
          own(op, 'RotationFresh', { label: 'fresh' }),
          own(op, 'RotationFailed', { label: 'failed' }),
        ]),
      );
    }
    if (hasTrigger(op, 'sqs')) {
      second.push(
        graph('Queue: messages', [
          own(op, 'MessagesProcessed', { label: 'processed' }),
          own(op, 'MessagesFailed', { label: 'failed' }),
          own(op, 'EventsProcessed', { label: 'events processed' }),
          own(op, 'EventsFailed', { label: 'events failed' }),
        ]),
        graph(
          'Queue and dead-letter depth',
          [
            sqs(names.queue(op), 'ApproximateNumberOfMessagesVisible', { label: 'queue' }),
            sqs(names.deadLetterQueue(op), 'ApproximateNumberOfMessagesVisible', { label: 'dead-letter queue' }),
            sqs(names.queue(op), 'ApproximateAgeOfOldestMessage', { label: 'oldest in queue (s)', yAxis: 'right' }),
          ],
          { stat: 'Maximum' },
        ),
      );
    }
    row(second);
  }

  for (const rotation of await rotations()) {
    // The rotation functions write their metrics with their own name as `operation`.
    const mine = (metric, options = {}) => [names.namespace, metric, 'operation', rotation.functionName, options];
    row([text(`## ${rotation.title} master key\nfunction \`${names.function(rotation)}\` (docs/operating.md, "Master-key rotation")`)], 1);
    row([
      graph('Rotation runs', [
        mine('MasterKeyRotationRuns', { label: 'runs' }),
        mine('MasterKeyRotated', { label: 'rotations finished' }),
        mine('MasterKeyRotationFailed', { label: 'failed runs' }),
        mine('MasterKeyRotationStuck', { label: 'stuck' }),
        mine('MasterKeyUnknown', { label: 'stopped: unknown key' }),
        lambda(rotation, 'Errors', { label: 'Lambda errors' }),
      ]),
      graph('Master key age (seconds; the alarm: masterKeyMaxAgeDays + 2 days)', [mine('MasterKeyAge', { label: 'age' })], {
        stat: 'Maximum',
        period: 3600,
      }),
    ]);
  }

  row(
    [
      {
        type: 'log',
        properties: {
          title: 'Latest refusals and failures (audit lines)',
          region: REGION,
          view: 'table',
          query: [
            ops.map((op) => `SOURCE '${names.logGroup(op)}'`).join(' | '),
            "filter type = 'audit' and outcome.status >= 400",
            'fields @timestamp, operation, code, outcome.vendorCode, requestId, vendorRequestId, traceId',
            'sort @timestamp desc',
            'limit 50',
          ].join(' | '),
        },
      },
    ],
    8,
  );

  return {
    Resources: {
      [ids.dashboard]: {
        Type: 'AWS::CloudWatch::Dashboard',
        Properties: {
          DashboardName: `${names.service}-${names.stage}`,
          DashboardBody: { 'Fn::Sub': JSON.stringify({ widgets }) },
        },
      },
    },
  };
};
