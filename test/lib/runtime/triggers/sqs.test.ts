import { GetQueueUrlCommand, KmsAccessDenied, RequestThrottled, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { imsProvisionExternalApplication } from '../../../../lib/operations/ims-provision-external-application.js';
import { isSqsEvent, MAX_MESSAGE_BYTES, sqs } from '../../../../lib/runtime/triggers/sqs.js';
import type { FakeSqsAttribute } from '../../../../sim/fake-sqs.js';
import { lambdaContext, sqsBatch, sqsRecord } from '../../../../sim/lambda-events.js';
import { SIMULATOR_DEFAULT_KEYS } from '../../../../sim/vendor-simulator.js';
import { DEAD_LETTER_QUEUE, useBrokerEnv } from '../../../support/broker-env.js';
import { captureLogs } from '../../../support/log-capture.js';

const op = imsProvisionExternalApplication;
const ACTION = 'ProvisionExternalApplication';

const broker = useBrokerEnv();
afterEach(() => vi.restoreAllMocks());

/** What the dead-letter queue holds: each message's body and its attributes as plain values. */
function deadLetters() {
  const value = (a: FakeSqsAttribute) => a.StringValue ?? a.BinaryValue;
  return broker.sqs
    .messages(DEAD_LETTER_QUEUE)
    .map((m) => ({ body: m.body, attributes: Object.fromEntries(Object.entries(m.attributes).map(([name, a]) => [name, value(a)])) }));
}

/** The "message failed" lines, by message id. */
/** The message ids of the "message processed" lines, sorted. */
function processedIds(records: Record<string, any>[]): string[] {
  return records
    .filter((r) => r.message === 'message processed')
    .map((r) => r.messageId)
    .sort();
}

function failedLines(records: Record<string, any>[]): Record<string, Record<string, any>> {
  return Object.fromEntries(records.filter((r) => r.message === 'message failed').map((r) => [r.messageId, r]));
}

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
    expect(processedIds(records)).toEqual(['m-1', 'm-2']);
  });

  it('sends a record refused for good to the dead-letter queue with its reason, and does not report it', async () => {
    broker.sim.script({ action: ACTION, params: { AppId: '411' }, fault: { kind: 'aliyunError', status: 403, code: 'NoPermission' } });
    const body = '{"appId":"411"}';
    const record = { ...sqsRecord('m-denied', body), attributes: { ...sqsRecord('m', '').attributes, ApproximateReceiveCount: '2' } };
    const { result, records } = await run(sqsBatch(record));
    expect(result).toEqual({ batchItemFailures: [] });
    const [letter, ...more] = deadLetters();
    expect(more).toEqual([]);
    // The same body, and why, in attributes; the vendor's request id comes from the simulator's answer.
    expect(letter).toEqual({
      body,
      attributes: {
        errorCode: 'VendorAccessDenied',
        errorMessage: 'The vendor refused the broker permission for this operation.',
        vendorCode: 'NoPermission',
        vendorRequestId: expect.any(String),
        sourceMessageId: 'm-denied',
        receiveCount: '2',
        operation: 'ims:ProvisionExternalApplication',
        requestId: failedLines(records)['m-denied']!.requestId,
      },
    });
    expect(letter!.attributes.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(broker.sqs.messages(DEAD_LETTER_QUEUE)[0]!.attributes.receiveCount!.DataType).toBe('Number');
    // One line says where it went, naming the dead-letter message.
    expect(failedLines(records)['m-denied']).toMatchObject({
      level: 'error',
      code: 'VendorAccessDenied',
      vendorCode: 'NoPermission',
      receiveCount: '2',
      goesTo: 'dead-letter queue',
      deadLetterMessageId: broker.sqs.messages(DEAD_LETTER_QUEUE)[0]!.messageId,
    });
    // Asked once: the refusal was final within the delivery, and there is no next delivery.
    expect(broker.sim.callsTo(ACTION)).toHaveLength(1);
    // No secret rides along: neither the master key nor its id.
    const stored = JSON.stringify(broker.sqs.messages(DEAD_LETTER_QUEUE));
    for (const secret of [SIMULATOR_DEFAULT_KEYS.aliyun.accessKeySecret, SIMULATOR_DEFAULT_KEYS.aliyun.accessKeyId]) {
      expect(stored).not.toContain(secret);
    }
  });

  it('dead-letters invalid, oversized and unparsable messages unchanged, an invalid one with the fields at fault', async () => {
    const tooBig = JSON.stringify({ appId: '412', pad: 'x'.repeat(MAX_MESSAGE_BYTES) });
    const { result, records } = await run(
      sqsBatch(
        sqsRecord('m-not-json', '{"appId":'),
        sqsRecord('m-too-big', tooBig),
        sqsRecord('m-invalid', '{"appId":412,"secretish":"v4lue"}'),
      ),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    const byId = Object.fromEntries(deadLetters().map((l) => [l.attributes.sourceMessageId, l]));
    expect(Object.keys(byId).sort()).toEqual(['m-invalid', 'm-not-json', 'm-too-big']);
    expect(byId['m-not-json']).toMatchObject({ body: '{"appId":', attributes: { errorCode: 'InvalidRequest' } });
    expect(byId['m-too-big']!.body).toBe(tooBig);
    expect(byId['m-too-big']!.attributes.errorCode).toBe('PayloadTooLarge');
    expect(byId['m-invalid']!.attributes.errorCode).toBe('InvalidRequest');
    // The fields at fault, never their values.
    const details = JSON.parse(byId['m-invalid']!.attributes.errorDetails as string) as { path: string }[];
    expect(details.map((d) => d.path).sort()).toEqual(['appId', 'secretish']);
    expect(byId['m-invalid']!.attributes.errorDetails).not.toContain('v4lue');
    expect(Object.values(failedLines(records)).map((l) => l.goesTo)).toEqual([
      'dead-letter queue',
      'dead-letter queue',
      'dead-letter queue',
    ]);
    expect(broker.sim.calls).toHaveLength(0);
  });

  it('reports a record a retry may help (vendor throttling, 5xx), and keeps it out of the dead-letter queue', async () => {
    broker.sim.script(
      { action: ACTION, params: { AppId: '420' }, times: 4, fault: { kind: 'aliyunError', status: 400, code: 'Throttling.User' } },
      { action: ACTION, params: { AppId: '421' }, times: 4, fault: { kind: 'aliyunError', status: 503, code: 'ServiceUnavailable' } },
    );
    const { result, records } = await run(
      sqsBatch(sqsRecord('m-throttled', '{"appId":"420"}'), sqsRecord('m-5xx', '{"appId":"421"}')),
      30_000,
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-throttled' }, { itemIdentifier: 'm-5xx' }] });
    expect(deadLetters()).toEqual([]);
    const lines = failedLines(records);
    expect(lines['m-throttled']).toMatchObject({ code: 'Throttled', goesTo: 'redelivery' });
    expect(lines['m-5xx']).toMatchObject({ code: 'VendorUnavailable', goesTo: 'redelivery' });
    expect(lines['m-5xx']!.deadLetterFailure).toBeUndefined();
    expect(broker.sqs.requests).toEqual([]);
  });

  it('sorts a mixed batch: the good ones processed, the refused ones dead-lettered, the rest reported', async () => {
    broker.sim.script(
      { action: ACTION, params: { AppId: '431' }, fault: { kind: 'aliyunError', status: 400, code: 'InvalidParameter.AppId' } },
      { action: ACTION, params: { AppId: '432' }, times: 4, fault: { kind: 'aliyunError', status: 503, code: 'ServiceUnavailable' } },
    );
    const { result, records } = await run(
      sqsBatch(
        sqsRecord('m-good', '{"appId":"430"}'),
        sqsRecord('m-rejected', '{"appId":"431"}'),
        sqsRecord('m-unavailable', '{"appId":"432"}'),
        sqsRecord('m-forbidden', '{"appId":"433","scopes":["openid","profile"]}'),
        sqsRecord('m-good-too', '{"appId":"434"}'),
      ),
      30_000,
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-unavailable' }] });
    expect(
      deadLetters()
        .map((l) => [l.attributes.sourceMessageId, l.attributes.errorCode, l.attributes.vendorCode])
        .sort(),
    ).toEqual([
      ['m-forbidden', 'Forbidden', undefined],
      ['m-rejected', 'VendorRejected', 'InvalidParameter.AppId'],
    ]);
    expect(processedIds(records)).toEqual(['m-good', 'm-good-too']);
    // Every record has its one line: processed, or failed with where it went.
    expect(records.filter((r) => r.messageId !== undefined && /^message (processed|failed)$/.test(String(r.message)))).toHaveLength(5);
    expect(broker.sim.callsTo(ACTION).filter((c) => c.params.AppId === '431')).toHaveLength(1);
    expect(broker.sim.callsTo(ACTION).filter((c) => c.params.AppId === '433')).toHaveLength(0);
  });

  it('reports a refused record when no dead-letter queue is configured, or the one configured does not exist', async () => {
    for (const [queue, failure] of [
      ['', 'DEAD_LETTER_QUEUE is not set'],
      ['cloud-token-broker-test-no-such-queue', 'QueueDoesNotExist'],
    ] as const) {
      process.env.DEAD_LETTER_QUEUE = queue;
      try {
        const { result, records } = await run(sqsBatch(sqsRecord('m-invalid', '{"appId":1}')));
        expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-invalid' }] });
        expect(failedLines(records)['m-invalid']).toMatchObject({
          code: 'InvalidRequest',
          goesTo: 'redelivery',
          deadLetterFailure: failure,
        });
      } finally {
        process.env.DEAD_LETTER_QUEUE = DEAD_LETTER_QUEUE;
      }
    }
    expect(broker.sqs.messages(DEAD_LETTER_QUEUE)).toEqual([]);
  });

  describe('refused values stay out of logs and dead-letter attributes (the field is named, never the value)', () => {
    /** Every attribute value of every dead-letter message, and every log line, as one text each. */
    const everywhere = (records: Record<string, any>[]) => [
      ...records.map((r) => JSON.stringify(r)),
      ...broker.sqs.messages(DEAD_LETTER_QUEUE).map((m) => JSON.stringify(m.attributes)),
    ];

    it('a scope EVENT_ALLOWED_SCOPES does not list: Forbidden naming scopes.1, never the scope', async () => {
      const { result, records } = await run(sqsBatch(sqsRecord('m-scope', '{"appId":"450","scopes":["openid","profile-Zq7mark"]}')));
      expect(result).toEqual({ batchItemFailures: [] });
      const [letter] = deadLetters();
      expect(letter!.attributes.errorCode).toBe('Forbidden');
      expect(JSON.parse(letter!.attributes.errorDetails as string)).toEqual([
        { path: 'scopes.1', message: 'not listed in EVENT_ALLOWED_SCOPES' },
      ]);
      expect(failedLines(records)['m-scope']).toMatchObject({ code: 'Forbidden', goesTo: 'dead-letter queue' });
      for (const text of everywhere(records)) expect(text).not.toContain('Zq7mark');
      // The body itself goes to the dead-letter queue unchanged: it is the message, not a reason.
      expect(letter!.body).toContain('Zq7mark');
    });

    it('a scope with a control character: InvalidRequest, dead-lettered with its path, the value nowhere', async () => {
      const body = JSON.stringify({ appId: '451', scopes: ['openid', 'bell\u0007Zq7mark'] });
      const { result, records } = await run(sqsBatch(sqsRecord('m-control', body)));
      expect(result).toEqual({ batchItemFailures: [] });
      const [letter, ...more] = deadLetters();
      expect(more).toEqual([]);
      expect(letter!.attributes.errorCode).toBe('InvalidRequest');
      expect(JSON.parse(letter!.attributes.errorDetails as string)).toEqual([
        { path: 'scopes.1', message: 'must match the documented pattern' },
      ]);
      expect(failedLines(records)['m-control']).toMatchObject({ code: 'InvalidRequest', goesTo: 'dead-letter queue' });
      for (const text of everywhere(records)) expect(text).not.toContain('Zq7mark');
      expect(broker.sim.calls).toHaveLength(0);
    });

    it('an unknown key that is not a field name is shown as (unnamed)', async () => {
      const body = JSON.stringify({ appId: '452', 'AKID\u0001Zq7mark secret': 1, pad_ok: 2 });
      const { records } = await run(sqsBatch(sqsRecord('m-key', body)));
      const [letter] = deadLetters();
      expect(JSON.parse(letter!.attributes.errorDetails as string)).toEqual([
        { path: '(unnamed)', message: 'unknown field' },
        { path: 'pad_ok', message: 'unknown field' },
      ]);
      for (const text of everywhere(records)) expect(text).not.toContain('Zq7mark');
    });

    it('a reason SQS refuses (a vendor code with a control character) still dead-letters, with the minimal reason', async () => {
      broker.sim.script({ action: ACTION, params: { AppId: '453' }, fault: { kind: 'aliyunError', status: 400, code: 'Bad\u0007Code' } });
      const { result, records } = await run(sqsBatch(sqsRecord('m-odd-vendor', '{"appId":"453"}')));
      // Not back to SQS for five more deliveries: dead-lettered now, with what the broker itself wrote.
      expect(result).toEqual({ batchItemFailures: [] });
      const [letter, ...more] = deadLetters();
      expect(more).toEqual([]);
      expect(letter).toEqual({
        body: '{"appId":"453"}',
        attributes: {
          errorCode: 'VendorRejected',
          errorMessage: expect.stringMatching(/^The full reason was refused by SQS \(InvalidParameterValue\)/),
          sourceMessageId: 'm-odd-vendor',
          operation: 'ims:ProvisionExternalApplication',
          requestId: failedLines(records)['m-odd-vendor']!.requestId,
          reasonAttributes: 'minimal',
        },
      });
      expect(failedLines(records)['m-odd-vendor']).toMatchObject({
        code: 'VendorRejected',
        goesTo: 'dead-letter queue',
        deadLetterMessageId: broker.sqs.messages(DEAD_LETTER_QUEUE)[0]!.messageId,
        deadLetterReason: 'minimal',
      });
      // The first send was refused by the fake SQS as SQS refuses it; the second went through.
      expect(broker.sqs.requests.filter((r) => r.target === 'SendMessage')).toHaveLength(2);
      expect(broker.sim.callsTo(ACTION)).toHaveLength(1);
    });

    it('a message id that is not an id: the log shows (invalid), the minimal reason leaves it out, the batch reports it by its id', async () => {
      broker.sim.script({ action: ACTION, params: { AppId: '454' }, fault: { kind: 'aliyunError', status: 403, code: 'NoPermission' } });
      const id = 'm\u0007Zq7mark';
      const { result, records } = await run(sqsBatch(sqsRecord(id, '{"appId":"454"}')));
      expect(result).toEqual({ batchItemFailures: [] });
      expect(failedLines(records)['(invalid)']).toMatchObject({ code: 'VendorAccessDenied', deadLetterReason: 'minimal' });
      expect(deadLetters()[0]!.attributes.sourceMessageId).toBeUndefined();
      for (const text of everywhere(records)) expect(text).not.toContain('Zq7mark');
    });
  });

  describe('when SQS does not take the message (aws-sdk-client-mock: what the fake cannot be made to refuse)', () => {
    const queueUrl = () => `${broker.sqs.url}/123456789012/${DEAD_LETTER_QUEUE}`;

    it.each([
      ['the queue key refused (KmsAccessDenied)', new KmsAccessDenied({ message: 'KMS access denied', $metadata: {} }), 'KmsAccessDenied'],
      [
        'throttled after the SDK retries (RequestThrottled)',
        new RequestThrottled({ message: 'Rate exceeded', $metadata: {} }),
        'RequestThrottled',
      ],
      ['a network failure', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'ECONNRESET'],
    ])('%s: reports the record, so SQS keeps it', async (_case, error, failure) => {
      const sqsMock = mockClient(SQSClient);
      try {
        sqsMock.on(GetQueueUrlCommand).resolves({ QueueUrl: queueUrl() });
        sqsMock.on(SendMessageCommand).rejects(error);
        const { result, records } = await run(sqsBatch(sqsRecord('m-good', '{"appId":"440"}'), sqsRecord('m-invalid', '{"appId":1}')));
        expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-invalid' }] });
        expect(failedLines(records)['m-invalid']).toMatchObject({
          code: 'InvalidRequest',
          goesTo: 'redelivery',
          deadLetterFailure: failure,
        });
        expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(1);
        expect(sqsMock.commandCalls(SendMessageCommand)[0]!.args[0].input).toMatchObject({
          QueueUrl: queueUrl(),
          MessageBody: '{"appId":1}',
        });
      } finally {
        sqsMock.restore();
      }
    });

    it('a send that hangs: the batch still answers before the deadline, with the record reported', async () => {
      const sqsMock = mockClient(SQSClient);
      try {
        sqsMock.on(GetQueueUrlCommand).resolves({ QueueUrl: queueUrl() });
        sqsMock.on(SendMessageCommand).callsFake(() => new Promise(() => undefined));
        const { result, records, leftMs } = await run(sqsBatch(sqsRecord('m-invalid', '{"appId":1}')), 1_500);
        expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-invalid' }] });
        expect(failedLines(records)['m-invalid']).toMatchObject({ goesTo: 'redelivery', deadLetterFailure: 'Timeout' });
        expect(leftMs).toBeGreaterThan(0);
      } finally {
        sqsMock.restore();
      }
    });
  });

  it('fails only the record whose vendor call hangs until the deadline; the others succeed', async () => {
    broker.sim.script({ action: ACTION, params: { AppId: 'hang-1' }, times: 10, fault: { kind: 'hang' } });
    const { result, records, tookMs, leftMs } = await run(
      sqsBatch(sqsRecord('m-1', '{"appId":"420"}'), sqsRecord('m-hang', '{"appId":"hang-1"}'), sqsRecord('m-2', '{"appId":"421"}')),
      1_500,
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-hang' }] });
    expect(records.filter((r) => r.message === 'message failed').map((r) => [r.messageId, r.code])).toEqual([['m-hang', 'Timeout']]);
    expect(processedIds(records)).toEqual(['m-1', 'm-2']);
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
