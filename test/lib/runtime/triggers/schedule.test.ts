import { describe, expect, it } from 'vitest';
import { camsGetUploadAuthorization } from '../../../../lib/operations/cams-get-upload-authorization.js';
import { imsProvisionExternalApplication } from '../../../../lib/operations/ims-provision-external-application.js';
import type { RotationReport } from '../../../../lib/runtime/credentials.js';
import { isRotationEvent, RotationFailed, schedule } from '../../../../lib/runtime/triggers/schedule.js';
import { lambdaContext } from '../../../../sim/lambda-events.js';
import { useBrokerEnv } from '../../../support/broker-env.js';
import { captureLogs } from '../../../support/log-capture.js';

const op = camsGetUploadAuthorization;
const ACTION = 'GetChatappUploadAuthorization';

const broker = useBrokerEnv();

/** `{ custSpaceId: { a: { a: … } } }`, `depth` objects deep, built without recursion. */
function nestedObject(depth: number): Record<string, unknown> {
  let inner: Record<string, unknown> = { a: 'bottom' };
  for (let i = 1; i < depth; i++) inner = { a: inner };
  return { custSpaceId: inner };
}

/** `[[[ … 'bottom' … ]]]`, `depth` arrays deep: the whole body. */
function nestedArray(depth: number): unknown[] {
  let inner: unknown[] = ['bottom'];
  for (let i = 1; i < depth; i++) inner = [inner];
  return inner;
}

/** The schedule trigger's stack for CAMS, run on `rotate` with its log lines captured. */
async function rotate(bodies: unknown[], remainingMs = 30_000) {
  const handler = schedule({ rate: 'rate(5 minutes)' }).handler(op);
  const logs = captureLogs();
  try {
    const outcome = await handler({ rotate: bodies }, lambdaContext(remainingMs)).then(
      (report) => ({ report, thrown: undefined }),
      (thrown: unknown) => ({ report: undefined, thrown }),
    );
    return { ...outcome, records: logs.records(), lines: logs.lines };
  } finally {
    logs.restore();
  }
}

describe('schedule()', () => {
  it('keeps its rate and refuses anything but rate() or cron()', () => {
    expect(schedule({ rate: 'rate(5 minutes)' })).toMatchObject({ kind: 'schedule', rate: 'rate(5 minutes)' });
    expect(schedule({ rate: 'cron(0 * * * ? *)' }).rate).toBe('cron(0 * * * ? *)');
    expect(() => schedule({ rate: 'every 5 minutes' })).toThrow(TypeError);
  });

  it('accepts { rotate: [...] } only', () => {
    expect(isRotationEvent({ rotate: [] })).toBe(true);
    expect(isRotationEvent({ rotate: 'all' })).toBe(false);
    expect(isRotationEvent({})).toBe(false);
    expect(isRotationEvent(null)).toBe(false);
  });
});

describe('the schedule trigger', () => {
  it('defers the bodies that no longer fit before the deadline instead of failing them, and the next run takes them', async () => {
    // One body may take a vendor call (0.5 s here) and a second besides: with 3 s left, bodies
    // start only in the first 1.2 s, at CAMS's share of 2 a second for the schedule.
    process.env.VENDOR_TIMEOUT_MS = '500';
    try {
      const bodies = Array.from({ length: 12 }, (_, i) => ({ custSpaceId: `deferred-${i}` }));
      const first = await rotate(bodies, 3_000);
      expect(first.thrown).toBeUndefined();
      const a = first.report as RotationReport;
      expect(a.failed).toEqual([]);
      expect(a.rotated).toBeGreaterThan(0);
      expect(a.deferred).toBeGreaterThan(0);
      expect(a.rotated + a.fresh + a.deferred!).toBe(bodies.length);
      const finished = first.records.find((r) => r.message === 'rotation finished')!;
      expect(finished).toMatchObject({ level: 'info', deferred: a.deferred, RotationDeferred: a.deferred });
      const second = (await rotate(bodies, 3_000)).report as RotationReport;
      expect(second.failed).toEqual([]);
      // The first run's bodies are fresh now, and the time goes to the ones it deferred.
      expect(second.fresh).toBeGreaterThanOrEqual(a.rotated);
      expect(second.rotated).toBeGreaterThan(0);
      expect(broker.sim.callsTo(ACTION)).toHaveLength(a.rotated + second.rotated);
    } finally {
      delete process.env.VENDOR_TIMEOUT_MS;
    }
  });

  it('rotates each body and returns the report', async () => {
    const { report, thrown } = await rotate([{ custSpaceId: 'sched-a' }, { custSpaceId: 'sched-b' }]);
    expect(thrown).toBeUndefined();
    expect(report).toEqual({ rotated: 2, fresh: 0, failed: [] });
    expect(broker.sim.callsTo(ACTION).map((c) => c.params.CustSpaceId)).toEqual(['sched-a', 'sched-b']);
  });

  it.each([
    ['an object in a field', 'obj', nestedObject(20_000)],
    ['arrays as the whole body', 'arr', nestedArray(20_000)],
  ])(
    'rotates the good bodies around an invalid one and one nested 20,000 levels deep (%s), then reports the bad ones by position',
    async (_shape, tag, deep) => {
      // Bodies of their own per case: the token store outlives a test.
      const good = [`sched-${tag}-1`, `sched-${tag}-2`];
      const bodies = [{ custSpaceId: 7 }, { custSpaceId: good[0] }, deep, { custSpaceId: good[1] }];
      const { report, thrown, records, lines } = await rotate(bodies);
      expect(report).toBeUndefined();
      expect(thrown).toBeInstanceOf(RotationFailed);
      const failed = thrown as RotationFailed;
      expect(failed.report).toEqual({
        rotated: 2,
        fresh: 0,
        failed: [
          { key: '#0', code: 'InvalidRequest', message: expect.any(String) },
          { key: '#2', code: 'InvalidRequest', message: expect.any(String) },
        ],
      });
      expect(failed.message).toBe('2 of 4 token rotations failed: #0 InvalidRequest, #2 InvalidRequest');
      // Both good bodies were fetched, the one after the deep body included.
      expect(broker.sim.callsTo(ACTION).map((c) => c.params.CustSpaceId)).toEqual(good);
      expect(records.filter((r) => r.message === 'rotation of one body failed').map((r) => [r.key, r.code, r.detailCount])).toEqual([
        ['#0', 'InvalidRequest', 1],
        ['#2', 'InvalidRequest', 1],
      ]);
      expect(records.find((r) => r.message === 'rotation finished')).toMatchObject({ level: 'error', rotated: 2, fresh: 0 });
      // No body value reaches the logs, the deep one's included.
      expect(lines.join('\n')).not.toContain('bottom');
    },
  );

  it('reports a vendor failure by the body hash and still rotates the rest', async () => {
    broker.sim.script({
      action: ACTION,
      params: { CustSpaceId: 'sched-denied' },
      fault: { kind: 'aliyunError', status: 403, code: 'NoPermission' },
    });
    const { thrown } = await rotate([{ custSpaceId: 'sched-denied' }, { custSpaceId: 'sched-after' }]);
    expect(thrown).toBeInstanceOf(RotationFailed);
    expect((thrown as RotationFailed).report).toEqual({
      rotated: 1,
      fresh: 0,
      failed: [
        {
          key: expect.stringMatching(/^[0-9a-f]{32}$/),
          code: 'VendorAccessDenied',
          message: expect.any(String),
          vendorCode: 'NoPermission',
        },
      ],
    });
    expect(broker.sim.callsTo(ACTION).map((c) => c.params.CustSpaceId)).toEqual(['sched-denied', 'sched-after']);
  });

  it('refuses to rotate for an operation that returns no credentials, before calling the vendor', async () => {
    const handler = schedule({ rate: 'rate(5 minutes)' }).handler(imsProvisionExternalApplication);
    await expect(handler({ rotate: [{ appId: '1' }] }, lambdaContext())).rejects.toMatchObject({ code: 'InvalidRequest' });
    expect(broker.sim.calls).toHaveLength(0);
  });
});
