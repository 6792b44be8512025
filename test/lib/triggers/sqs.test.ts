import { SSMClient } from '@aws-sdk/client-ssm';
import type { SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { imsProvisionExternalApplication } from '../../../lib/operations/ims-provision-external-application.js';
import { isSqsEvent, MAX_MESSAGE_BYTES, sqs } from '../../../lib/triggers/sqs.js';
import { lambdaContext, sqsBatch, sqsRecord } from '../../../sim/lambda-events.js';
import { useBrokerEnv } from '../../support/broker-env.js';
import { captureLogs } from '../../support/log-capture.js';

const op = imsProvisionExternalApplication;
const ACTION = 'ProvisionExternalApplication';

const broker = useBrokerEnv();
afterEach(() => vi.restoreAllMocks());

/** The SQS trigger's stack for IMS, run on `event` with its log lines captured. */
async function run(event: SQSEvent, remainingMs = 10_000) {
  const handler = sqs().handler(op);
  const context = lambdaContext(remainingMs);
  const logs = captureLogs();
  const started = Date.now();
  try {
    const result = await handler(event, context);
    return { result, records: logs.records(), tookMs: Date.now() - started, leftMs: context.getRemainingTimeInMillis() };
  } finally {
    logs.restore();
  }
}

describe('isSqsEvent', () => {
  it('accepts a batch of SQS records only', () => {
    expect(isSqsEvent(sqsBatch(sqsRecord('m', '{}')))).toBe(true);
    expect(isSqsEvent({ Records: [] })).toBe(false);
    expect(isSqsEvent({ Records: [{ eventSource: 'aws:s3' }] })).toBe(false);
    expect(isSqsEvent({ Records: [sqsRecord('m', '{}'), { eventSource: 'aws:sns' }] })).toBe(false);
    expect(isSqsEvent(null)).toBe(false);
  });
});

describe('the SQS trigger', () => {
  it('answers { batchItemFailures: [] } when every record succeeds', async () => {
    const { result, records } = await run(sqsBatch(sqsRecord('m-1', '{"appId":"400"}'), sqsRecord('m-2', '{"appId":"401"}')));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(
      records
        .filter((r) => r.message === 'message processed')
        .map((r) => r.messageId)
        .sort(),
    ).toEqual(['m-1', 'm-2']);
  });

  it('names failed records by messageId, in batch order, and nothing else', async () => {
    broker.sim.script({ action: ACTION, params: { AppId: '411' }, fault: { kind: 'aliyunError', status: 403, code: 'NoPermission' } });
    const { result, records } = await run(
      sqsBatch(
        sqsRecord('m-good', '{"appId":"410"}'),
        sqsRecord('m-denied', '{"appId":"411"}'),
        sqsRecord('m-not-json', '{"appId":'),
        sqsRecord('m-too-big', JSON.stringify({ appId: '412', pad: 'x'.repeat(MAX_MESSAGE_BYTES) })),
        sqsRecord('m-invalid', '{"appId":412}'),
      ),
    );
    expect(result).toEqual({
      batchItemFailures: [
        { itemIdentifier: 'm-denied' },
        { itemIdentifier: 'm-not-json' },
        { itemIdentifier: 'm-too-big' },
        { itemIdentifier: 'm-invalid' },
      ],
    });
    expect(
      records
        .filter((r) => r.message === 'message failed')
        .map((r) => [r.messageId, r.code])
        .sort(),
    ).toEqual([
      ['m-denied', 'VendorAccessDenied'],
      ['m-invalid', 'InvalidRequest'],
      ['m-not-json', 'InvalidRequest'],
      ['m-too-big', 'PayloadTooLarge'],
    ]);
    expect(broker.sim.callsTo(ACTION).map((c) => c.params.AppId)).toEqual(expect.arrayContaining(['410', '411']));
    expect(broker.sim.callsTo(ACTION)).toHaveLength(2);
  });

  it('fails only the record whose vendor call hangs until the deadline; the others succeed', async () => {
    broker.sim.script({ action: ACTION, params: { AppId: 'hang-1' }, times: 10, fault: { kind: 'hang' } });
    const { result, records, tookMs, leftMs } = await run(
      sqsBatch(sqsRecord('m-1', '{"appId":"420"}'), sqsRecord('m-hang', '{"appId":"hang-1"}'), sqsRecord('m-2', '{"appId":"421"}')),
      1_500,
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-hang' }] });
    expect(records.filter((r) => r.message === 'message failed').map((r) => [r.messageId, r.code])).toEqual([['m-hang', 'Timeout']]);
    expect(
      records
        .filter((r) => r.message === 'message processed')
        .map((r) => r.messageId)
        .sort(),
    ).toEqual(['m-1', 'm-2']);
    // The hung attempt was the only one for its app: the deadline leaves no room for another.
    expect(broker.sim.callsTo(ACTION).filter((c) => c.params.AppId === 'hang-1')).toHaveLength(1);
    // Answered before Lambda's own deadline, after the deadline margin began.
    expect(leftMs).toBeGreaterThan(0);
    expect(tookMs).toBeGreaterThanOrEqual(1_000);
  });

  it('answers at the deadline even when a step that ignores the deadline signal (an SSM read) hangs', async () => {
    vi.spyOn(SSMClient.prototype, 'send').mockImplementation(() => new Promise(() => undefined));
    const { result, records, leftMs } = await run(
      sqsBatch(sqsRecord('m-1', '{"appId":"430"}'), sqsRecord('m-2', '{"appId":"431"}')),
      1_500,
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }] });
    expect(records.filter((r) => r.message === 'message failed').map((r) => r.code)).toEqual(['Timeout', 'Timeout']);
    expect(leftMs).toBeGreaterThan(0);
    expect(broker.sim.calls).toHaveLength(0);
  });
});
