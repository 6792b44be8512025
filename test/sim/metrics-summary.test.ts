import { describe, expect, it } from 'vitest';
import { createMeasures, metricFields, servedFrom, vendorAttempt } from '../../lib/core/metrics.js';
import { createMetricsSummary } from '../../sim/metrics-summary.js';

/** A metric line as a function prints it: the log line's own fields and its EMF. */
function line(operation: string, fill: (m: ReturnType<typeof createMeasures>) => void, code?: string): string {
  const measures = createMeasures();
  fill(measures);
  return JSON.stringify({
    type: 'audit',
    requestId: 'r-1',
    operation,
    ...metricFields(operation, measures, code === undefined ? {} : { code }),
  });
}

describe('the metrics summary of npm start', () => {
  it('sums the EMF lines it is fed, ignoring every other line', () => {
    const summary = createMetricsSummary();
    const fed = [
      'POST /v1/aliyun/cams/upload-authorization (λ: cams-get-upload-authorization)',
      line(
        'cams:X',
        (m) => {
          m.count('Requests');
          servedFrom(m, 'vendor');
          vendorAttempt(m, { outcome: { kind: 'ok' } }, 40);
        },
        'OK',
      ),
      line(
        'cams:X',
        (m) => {
          m.count('Requests');
          servedFrom(m, 'memory');
        },
        'OK',
      ),
      line(
        'cams:X',
        (m) => {
          m.count('Requests');
          vendorAttempt(m, { outcome: { kind: 'throttled' } }, 10);
          vendorAttempt(m, { outcome: { kind: 'throttled' } }, 20);
        },
        'Throttled',
      ),
      line('ims:Y', (m) => m.count('MessagesProcessed')),
      '{"level":"info","message":"no metrics here"}',
      '{"_aws": not json',
      '(λ: cams-get-upload-authorization) RequestId: r-1  Duration: 9.52 ms  Billed Duration: 10 ms',
    ].map((l) => summary.add(l));
    expect(fed).toEqual([false, true, true, true, true, false, false, false]);
    expect(summary.records).toBe(4);
    expect(summary.total('Requests')).toBe(3);
    expect(summary.total('VendorAttempts')).toBe(3);
    expect(summary.total('MessagesProcessed')).toBe(1);
    const text = summary.render();
    expect(text).toContain('metrics of this run, from 4 EMF lines');
    expect(text).toContain('  cams:X: 3 requests (OK 2, Throttled 1)');
    expect(text).toMatch(/ServedFromMemory 1, ServedFromVendor 1/);
    expect(text).toContain('VendorThrottled 2');
    expect(text).toContain('VendorLatency min 10 / p50 20 / p99 40 ms (3)');
    expect(text).toContain('  ims:Y: 0 requests');
    expect(text).toContain('MessagesProcessed 1');
    // Zero counts are left out.
    expect(text).not.toContain('ServedFromTable');
    for (const row of text.split('\n')) expect(row.length).toBeLessThanOrEqual(112);
  });

  it('says so when nothing was measured yet', () => {
    expect(createMetricsSummary().render()).toMatch(/none yet/);
  });
});
