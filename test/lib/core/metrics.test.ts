import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/core/logger.js';
import {
  countFault,
  createMeasures,
  credentialsServed,
  DEFAULT_NAMESPACE,
  MAX_SAMPLES,
  METRIC_UNITS,
  metricFields,
  metricMembers,
  servedFrom,
  vendorAttempt,
} from '../../../lib/core/metrics.js';
import { emfProblems, metricsOf } from '../../support/emf.js';
import { captureLogs } from '../../support/log-capture.js';

const OP = 'cams:GetChatappUploadAuthorization';

afterEach(() => {
  delete process.env.METRICS_NAMESPACE;
  delete process.env.LOG_LEVEL;
});

describe('metricFields', () => {
  it('writes nothing when nothing was measured', () => {
    expect(metricFields(OP, createMeasures())).toEqual({});
  });

  it('makes valid EMF: Requests by operation and by operation and code, everything else by operation', () => {
    const measures = createMeasures();
    measures.count('Requests');
    measures.count('VendorCalls');
    vendorAttempt(measures, { outcome: { kind: 'throttled' } }, 12.345);
    vendorAttempt(measures, { outcome: { kind: 'ok' } }, 3);
    const fields = metricFields(OP, measures, { code: 'OK' });
    expect(emfProblems(fields)).toEqual([]);
    const { namespaces, values, dimensions, dimensionValues } = metricsOf(fields);
    expect(namespaces).toEqual([DEFAULT_NAMESPACE]);
    expect(values).toEqual({ Requests: 1, VendorCalls: 1, VendorAttempts: 2, VendorThrottled: 1, VendorLatency: [12.3, 3] });
    expect(dimensions.Requests).toEqual([['operation'], ['operation', 'code']]);
    expect(dimensions.VendorLatency).toEqual([['operation']]);
    expect(dimensionValues).toEqual({ operation: OP, code: 'OK' });
  });

  it('has no code dimension without a code, and writes a single sample as a number', () => {
    const measures = createMeasures();
    measures.count('MessagesProcessed');
    measures.sample('VendorLatency', 7);
    const fields = metricFields(OP, measures);
    expect(fields).not.toHaveProperty('code');
    expect(fields.VendorLatency).toBe(7);
    expect(metricsOf(fields).dimensions).toEqual({ MessagesProcessed: [['operation']], VendorLatency: [['operation']] });
  });

  it('keeps zero counts (a hit ratio needs them) and at most 100 samples a metric', () => {
    const measures = createMeasures();
    servedFrom(measures, 'table');
    for (let i = 0; i < MAX_SAMPLES + 20; i++) measures.sample('VendorLatency', i);
    measures.sample('VendorLatency', Number.NaN);
    const fields = metricFields(OP, measures);
    expect(fields).toMatchObject({ ServedFromMemory: 0, ServedFromTable: 1, ServedFromVendor: 0 });
    expect(fields.VendorLatency).toHaveLength(MAX_SAMPLES);
    expect(emfProblems(fields)).toEqual([]);
  });

  it('takes its namespace from METRICS_NAMESPACE, and the default when the configuration is broken', () => {
    const measures = createMeasures();
    measures.count('Requests');
    process.env.METRICS_NAMESPACE = 'CloudTokenBroker/prod';
    expect(metricsOf(metricFields(OP, measures)).namespaces).toEqual(['CloudTokenBroker/prod']);
    process.env.METRICS_NAMESPACE = 'AWS/Lambda';
    expect(metricsOf(metricFields(OP, measures)).namespaces).toEqual([DEFAULT_NAMESPACE]);
  });

  it('names only metrics of METRIC_UNITS, with their units', () => {
    const measures = createMeasures();
    for (const name of Object.keys(METRIC_UNITS) as (keyof typeof METRIC_UNITS)[]) {
      if (METRIC_UNITS[name] === 'Count') measures.count(name as never);
      else measures.sample(name as never, 1);
    }
    const fields = metricFields(OP, measures, { code: 'OK' });
    expect(emfProblems(fields)).toEqual([]);
    const declared = (fields._aws as { CloudWatchMetrics: { Metrics: { Name: string; Unit: string }[] }[] }).CloudWatchMetrics.flatMap(
      (d) => d.Metrics,
    );
    expect(Object.fromEntries(declared.map((m) => [m.Name, m.Unit]))).toEqual(METRIC_UNITS);
  });
});

describe('what is counted', () => {
  it('vendor attempts: throttled, failed (the vendor or the operator), or neither (the caller)', () => {
    const measures = createMeasures();
    for (const kind of ['ok', 'throttled', 'transient', 'malformed', 'key', 'accessDenied', 'rejected', 'notFound'])
      vendorAttempt(measures, { outcome: { kind } }, 1);
    for (const failure of ['timeout', 'network', 'deadline']) vendorAttempt(measures, { failure }, 1);
    expect(measures.values()).toMatchObject({ VendorAttempts: 11, VendorThrottled: 1, VendorFailed: 7 });
    vendorAttempt(undefined, { failure: 'network' }, 1);
  });

  it('credentials served: share as a percentage, seconds left', () => {
    const measures = createMeasures();
    credentialsServed(measures, 0.8, new Date(1_000_000 + 90_000).toISOString(), 1_000_000);
    credentialsServed(measures, 1.2, new Date(0).toISOString(), 1_000_000);
    expect(measures.values()).toEqual({ CredentialLifetimeLeft: [80, 100], CredentialSecondsLeft: [90, 0] });
  });

  it('SSM faults: keys or the policy unreadable or malformed, not a key the vendor refused', () => {
    const measures = createMeasures();
    countFault(measures, { code: 'KeysUnavailable' });
    countFault(measures, { code: 'PolicyUnavailable' });
    countFault(measures, { code: 'KeysUnavailable', vendorCode: 'InvalidAccessKeyId.NotFound' });
    countFault(measures, { code: 'VendorUnavailable' });
    countFault(measures, undefined);
    expect(measures.values()).toEqual({ SsmFaults: 2 });
  });
});

describe('the logger and metric lines', () => {
  it('writes a line carrying metrics whatever LOG_LEVEL says, but not when silent', () => {
    const measures = createMeasures();
    measures.count('MessagesProcessed');
    const logs = captureLogs();
    try {
      createLogger({ operation: OP }, 40).info('message processed', { messageId: 'm-1' }, metricMembers(OP, measures));
      createLogger({}, 40).info('dropped at level error');
      createLogger({}, 100).info('silent', {}, metricMembers(OP, measures));
    } finally {
      logs.restore();
    }
    expect(logs.records().map((r) => r.message)).toEqual(['message processed']);
    const [record] = logs.records();
    expect(emfProblems(record!)).toEqual([]);
    expect(record).toMatchObject({ messageId: 'm-1', operation: OP, MessagesProcessed: 1 });
  });

  it('appends the metrics to the line as one JSON object, adding the operation only when the line lacks it', () => {
    const measures = createMeasures();
    measures.count('Requests');
    const logs = captureLogs();
    try {
      createLogger({}).audit({ requestId: 'r-1' }, metricMembers(OP, measures, { code: 'OK' }));
      createLogger({ operation: OP }).audit({ requestId: 'r-2' }, metricMembers(OP, measures, { code: 'OK' }));
      createLogger({ operation: OP }).audit({ requestId: 'r-3' }, metricMembers(OP, createMeasures()));
    } finally {
      logs.restore();
    }
    for (const line of logs.lines) expect(line.match(/"operation":/g)).toHaveLength(1);
    const [first, second, third] = logs.records();
    for (const record of [first!, second!]) {
      expect(emfProblems(record)).toEqual([]);
      expect(record).toMatchObject({ type: 'audit', operation: OP, code: 'OK', Requests: 1 });
    }
    // Nothing measured: no metrics, and the line as it was.
    expect(third).toEqual({ type: 'audit', time: expect.any(String), operation: OP, requestId: 'r-3' });
    expect(metricMembers(OP, createMeasures())).toBeUndefined();
  });
});
