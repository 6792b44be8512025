import { DynamoDBClient, ThrottlingException } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as cams } from '../../functions/cams-get-upload-authorization.js';
import { handler as ims } from '../../functions/ims-provision-external-application.js';
import { handler as ufile } from '../../functions/ufile-describe-token.js';
import { ERROR_STATUS } from '../../lib/core/errors.js';
import { METRIC_UNITS } from '../../lib/core/metrics.js';
import { loadOperations } from '../../lib/operations/index.js';
import type { LambdaHandler } from '../../lib/spec/operation.js';
import { eventBridgeEvent, httpApiEvent, lambdaContext, sqsBatch, sqsRecord } from '../../sim/lambda-events.js';
import { SIMULATOR_DEFAULT_KEYS } from '../../sim/vendor-simulator.js';
import { KEY_PARAMETERS, useBrokerEnv } from '../support/broker-env.js';
import { emfProblems, metricsOf } from '../support/emf.js';
import { invokeHttp } from '../support/invoke-http.js';
import { captureLogs, stringsIn } from '../support/log-capture.js';

/**
 * The metrics of the broker as CloudWatch would extract them from its log lines (EMF): one
 * audit line per HTTP request, one line per SQS message, per EventBridge event and per
 * rotation, each valid EMF with the metric names and dimensions the dashboard and alarms
 * (infra/) use, and never a secret or a body value in a dimension or a value.
 */

const POLICY = '/cloud-token-broker/test/policy';
const CAMS = '/v1/aliyun/cams/upload-authorization';
const CAMS_ACTION = 'GetChatappUploadAuthorization';
const ALLOWED = 'arn:aws:sts::123456789012:assumed-role/uploader/session-1';
const REFUSED = 'arn:aws:sts::123456789012:assumed-role/stranger/session-1';
/** Body values that must never reach a metric: they are also checked against every metric line. */
const CANARY = 'canary-space-4711';

const operations = await loadOperations();
const operationNames = new Set(operations.map((op) => op.name));
const CODES = new Set(['OK', ...Object.keys(ERROR_STATUS)]);

const broker = useBrokerEnv({ env: { POLICY_PARAMETER: POLICY } });
beforeEach(() => {
  broker.ssm.put(POLICY, {
    version: 1,
    rules: [{ id: 'uploaders', callers: [{ principal: 'arn:aws:sts::123456789012:assumed-role/uploader/*' }], operations: ['*'] }],
  });
  broker.ssm.put(KEY_PARAMETERS.aliyun, SIMULATOR_DEFAULT_KEYS.aliyun);
});

const as = (principal: string, custSpaceId = CANARY) =>
  httpApiEvent(CAMS, { custSpaceId }, { authorizer: { iam: { userArn: principal, accountId: '123456789012' } } });

/** Every line written while `run` runs, and the lines carrying metrics. */
async function lines<T>(run: () => Promise<T>) {
  const logs = captureLogs();
  try {
    const result = await run();
    const records = logs.records();
    return { result, records, withMetrics: records.filter((r) => '_aws' in r), text: logs.lines.join('\n') };
  } finally {
    logs.restore();
  }
}

/** The one audit line of an HTTP request, checked as EMF. */
async function auditOf(event: unknown, context = lambdaContext()) {
  const { result, records, withMetrics, text } = await lines(() => invokeHttp(cams, event, context));
  const audits = records.filter((r) => r.type === 'audit');
  expect(audits).toHaveLength(1);
  // The audit line is the request's only line with metrics.
  expect(withMetrics).toEqual(audits);
  return { result, audit: audits[0]!, metrics: metricsOf(audits[0]!), text };
}

/** No dimension holds anything but an operation's name or an outcome code, and no body value or secret is in the EMF part of a line. */
function expectNothingSecret(record: Record<string, unknown>, secrets: string[]) {
  const { values, dimensionValues } = metricsOf(record);
  for (const [name, value] of Object.entries(dimensionValues)) {
    if (name === 'operation') expect(operationNames.has(value), value).toBe(true);
    else if (name === 'code') expect(CODES.has(value), value).toBe(true);
    else throw new Error(`unexpected dimension ${name}`);
  }
  for (const value of Object.values(values)) expect(typeof value === 'number' || Array.isArray(value)).toBe(true);
  const emf = JSON.stringify({ _aws: record._aws, values, dimensionValues });
  for (const secret of [CANARY, ...secrets]) expect(emf).not.toContain(secret);
}

const keySecrets = [SIMULATOR_DEFAULT_KEYS.aliyun.accessKeySecret, SIMULATOR_DEFAULT_KEYS.ucloud.privateKey];

describe('metrics of HTTP requests, on the audit line', () => {
  it('a served request: OK, from the vendor, one call and attempt with its latency, a fresh credential; then from memory and from the table', async () => {
    const first = await auditOf(as(ALLOWED));
    expect(first.result.statusCode).toBe(200);
    const secrets = [...keySecrets, ...stringsIn(first.result.json.data).filter((s) => s.length >= 8)];
    expect(first.audit.code).toBe('OK');
    expect(first.metrics.namespaces).toEqual(['CloudTokenBroker']);
    expect(first.metrics.dimensions.Requests).toEqual([['operation'], ['operation', 'code']]);
    expect(first.metrics.dimensionValues).toEqual({ operation: 'cams:GetChatappUploadAuthorization', code: 'OK' });
    expect(first.metrics.values).toMatchObject({
      Requests: 1,
      ServedFromMemory: 0,
      ServedFromTable: 0,
      ServedFromVendor: 1,
      VendorCalls: 1,
      VendorAttempts: 1,
      VendorLatency: expect.any(Number),
      // CAMS has a rate limit: its one attempt waited for a slot (maybe 0 ms).
      RateLimitWait: expect.any(Number),
      CredentialLifetimeLeft: expect.any(Number),
      CredentialSecondsLeft: expect.any(Number),
    });
    expect(first.metrics.values.CredentialLifetimeLeft).toBeGreaterThan(99);
    // The simulator's CAMS credentials live an hour.
    expect(first.metrics.values.CredentialSecondsLeft).toBeGreaterThan(3500);
    for (const name of ['VendorThrottled', 'VendorFailed', 'PolicyDenials', 'SsmFaults', 'TableFaults'])
      expect(first.metrics.values).not.toHaveProperty(name);
    // The request, vendor request and trace ids, together.
    expect(first.audit).toMatchObject({ requestId: first.result.json.requestId, vendorRequestId: first.result.json.vendorRequestId });
    expectNothingSecret(first.audit, secrets);

    const second = await auditOf(as(ALLOWED));
    expect(second.metrics.values).toEqual({
      Requests: 1,
      ServedFromMemory: 1,
      ServedFromTable: 0,
      ServedFromVendor: 0,
      CredentialLifetimeLeft: expect.any(Number),
      CredentialSecondsLeft: expect.any(Number),
    });
    broker.coldStart();
    const third = await auditOf(as(ALLOWED));
    expect(third.metrics.values).toMatchObject({ ServedFromTable: 1, ServedFromVendor: 0 });
    expect(third.metrics.values).not.toHaveProperty('VendorCalls');
    expect(broker.sim.callsTo(CAMS_ACTION)).toHaveLength(1);
    for (const { audit } of [second, third]) expectNothingSecret(audit, secrets);
  });

  it('a denied request: Forbidden, a policy denial, no vendor call', async () => {
    const { result, audit, metrics } = await auditOf(as(REFUSED));
    expect(result.statusCode).toBe(403);
    expect(audit.code).toBe('Forbidden');
    expect(metrics.values).toEqual({ Requests: 1, PolicyDenials: 1 });
    expect(metrics.dimensionValues).toEqual({ operation: 'cams:GetChatappUploadAuthorization', code: 'Forbidden' });
    expectNothingSecret(audit, keySecrets);
  });

  it('a throttled request: Throttled, every attempt throttled', async () => {
    broker.sim.script({ action: CAMS_ACTION, times: 10, fault: { kind: 'aliyunError', status: 400, code: 'Throttling.User' } });
    const { result, audit, metrics } = await auditOf(as(ALLOWED), lambdaContext(30_000));
    expect(result.statusCode).toBe(429);
    expect(audit.code).toBe('Throttled');
    expect(metrics.values).toMatchObject({ Requests: 1, VendorCalls: 1, VendorAttempts: 4, VendorThrottled: 4 });
    expect(metrics.values.VendorLatency).toHaveLength(4);
    expect(metrics.values).not.toHaveProperty('ServedFromVendor');
    expect(metrics.values).not.toHaveProperty('VendorFailed');
    expectNothingSecret(audit, keySecrets);
  });

  it('a failed request: VendorUnavailable, every attempt failed', async () => {
    broker.sim.script({ action: CAMS_ACTION, times: 10, fault: { kind: 'aliyunError', status: 500, code: 'InternalError' } });
    const { result, audit, metrics } = await auditOf(as(ALLOWED), lambdaContext(30_000));
    expect(result.statusCode).toBe(503);
    expect(metrics.dimensionValues).toEqual({ operation: 'cams:GetChatappUploadAuthorization', code: 'VendorUnavailable' });
    expect(metrics.values).toMatchObject({ Requests: 1, VendorCalls: 1, VendorAttempts: 4, VendorFailed: 4 });
    expect(metrics.values).not.toHaveProperty('VendorThrottled');
    expectNothingSecret(audit, keySecrets);
  });

  it('keys that cannot be read: KeysUnavailable, an SSM fault', async () => {
    broker.ssm.delete(KEY_PARAMETERS.aliyun);
    const { result, metrics } = await auditOf(as(ALLOWED));
    expect(result.statusCode).toBe(503);
    expect(metrics.dimensionValues.code).toBe('KeysUnavailable');
    expect(metrics.values).toMatchObject({ Requests: 1, SsmFaults: 1 });
  });

  it('an invalid body: InvalidRequest, counted, and its values nowhere in the line', async () => {
    const event = httpApiEvent(CAMS, { custSpaceId: `${CANARY}*`, [CANARY]: CANARY });
    const { result, audit, metrics, text } = await auditOf(event);
    expect(result.statusCode).toBe(400);
    expect(metrics.values).toEqual({ Requests: 1 });
    expect(audit.code).toBe('InvalidRequest');
    expect(text).not.toContain(CANARY);
  });
});

describe('metrics of the shared table', () => {
  it('a table that fails: each failed call counted (TableFaults), the request served by the vendor', async () => {
    const ddb = mockClient(DynamoDBClient);
    ddb.onAnyCommand().rejects(new ThrottlingException({ message: 'Throughput exceeds the current capacity', $metadata: {} }));
    try {
      const { result, metrics } = await auditOf(as(ALLOWED));
      expect(result.statusCode).toBe(200);
      expect(metrics.values).toMatchObject({ Requests: 1, ServedFromVendor: 1, TableFaults: 1 });
    } finally {
      ddb.restore();
    }
  });

  it("a request waiting on another instance's lease: LeaseWait, served from the table", async () => {
    /** A new instance: the function's modules evaluated afresh, sharing only the table. */
    const instance = async (): Promise<LambdaHandler> => {
      vi.resetModules();
      return (await import('../../functions/cams-get-upload-authorization.js')).handler;
    };
    const [a, b] = [await instance(), await instance()];
    broker.sim.script({ action: CAMS_ACTION, fault: { kind: 'delay', ms: 400 } });
    const { records } = await lines(() => Promise.all([invokeHttp(a, as(ALLOWED)), invokeHttp(b, as(ALLOWED))]));
    const audits = records.filter((r) => r.type === 'audit').map(metricsOf);
    expect(audits).toHaveLength(2);
    expect(broker.sim.callsTo(CAMS_ACTION)).toHaveLength(1);
    const waited = audits.filter((m) => m.values.LeaseWait !== undefined);
    expect(waited).toHaveLength(1);
    expect(waited[0]!.values).toMatchObject({ ServedFromTable: 1 });
    expect(Math.max(...[waited[0]!.values.LeaseWait!].flat())).toBeGreaterThan(100);
  });
});

describe('metrics of events, on their own lines', () => {
  it('SQS: each message its line, with MessagesProcessed or MessagesFailed and its own vendor metrics', async () => {
    const { result, withMetrics } = await lines(() =>
      ims(sqsBatch(sqsRecord('m-good', JSON.stringify({ appId: '4711' })), sqsRecord('m-bad', '{"appId":')), lambdaContext(30_000)),
    );
    // m-bad cannot succeed: the trigger sent it to the dead-letter queue, so it is not reported.
    expect(result).toEqual({ batchItemFailures: [] });
    expect(withMetrics.map((r) => [r.messageId, r.message]).sort()).toEqual([
      ['m-bad', 'message failed'],
      ['m-good', 'message processed'],
    ]);
    const good = metricsOf(withMetrics.find((r) => r.messageId === 'm-good')!);
    const bad = metricsOf(withMetrics.find((r) => r.messageId === 'm-bad')!);
    expect(good.values).toMatchObject({ MessagesProcessed: 1, VendorCalls: 1, VendorAttempts: 1 });
    expect(bad.values).toEqual({ MessagesFailed: 1 });
    expect(good.dimensionValues).toEqual({ operation: 'ims:ProvisionExternalApplication' });
    for (const record of withMetrics) expectNothingSecret(record, keySecrets);
  });

  it('EventBridge: one line for the event, processed or failed', async () => {
    const ok = await lines(() => ims(eventBridgeEvent({ appId: '4712' }), lambdaContext()));
    expect(ok.withMetrics.map((r) => r.message)).toEqual(['event processed']);
    expect(metricsOf(ok.withMetrics[0]!).values).toMatchObject({ EventsProcessed: 1, VendorCalls: 1 });
    const failed = await lines(() => ims(eventBridgeEvent({ appId: 4712 }), lambdaContext()).catch(() => 'thrown'));
    expect(failed.result).toBe('thrown');
    expect(failed.withMetrics.map((r) => r.message)).toEqual(['event failed']);
    expect(metricsOf(failed.withMetrics[0]!).values).toEqual({ EventsFailed: 1 });
  });

  it('rotation: one line per run with rotated, fresh and failed, and the vendor metrics of the run', async () => {
    const rotate = { rotate: [{ region: 'cn-bj' }, { region: 'cn-sh2' }, { region: '*' }] };
    const first = await lines(() => ufile(rotate, lambdaContext(30_000)).catch(() => 'thrown'));
    expect(first.result).toBe('thrown');
    const lineOf = (records: Record<string, unknown>[]) => {
      expect(records.map((r) => r.message)).toEqual(['rotation finished']);
      return metricsOf(records[0]!);
    };
    expect(lineOf(first.withMetrics).values).toMatchObject({
      RotationRuns: 1,
      RotationRotated: 2,
      RotationFailed: 1,
      VendorCalls: 2,
      VendorAttempts: 2,
    });
    const second = await lines(() => ufile({ rotate: rotate.rotate.slice(0, 2) }, lambdaContext(30_000)));
    expect(lineOf(second.withMetrics).values).toEqual({ RotationRuns: 1, RotationFresh: 2 });
    // An empty list (the default) is still a run, and only that.
    const idle = await lines(() => ufile({ rotate: [] }, lambdaContext(30_000)));
    expect(lineOf(idle.withMetrics).values).toEqual({ RotationRuns: 1 });
    for (const record of [...first.withMetrics, ...second.withMetrics]) expectNothingSecret(record, keySecrets);
  });
});

describe('the metric names', () => {
  it('every metric a line carries is one lib/core/metrics.ts declares', async () => {
    const { withMetrics } = await lines(async () => {
      await invokeHttp(cams, as(ALLOWED));
      await invokeHttp(cams, as(REFUSED));
    });
    for (const record of withMetrics) {
      expect(emfProblems(record)).toEqual([]);
      for (const name of Object.keys(metricsOf(record).values)) expect(Object.keys(METRIC_UNITS)).toContain(name);
    }
  });
});
