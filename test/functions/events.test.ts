import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handler as cams } from '../../functions/cams-get-upload-authorization.js';
import { handler as ims } from '../../functions/ims-provision-external-application.js';
import { eventBridgeEvent, lambdaContext, sqsRecord } from '../../sim/lambda-events.js';
import { DEAD_LETTER_QUEUE, useBrokerEnv } from '../support/broker-env.js';
import { captureLogs } from '../support/log-capture.js';

const ACTION = 'ProvisionExternalApplication';

const broker = useBrokerEnv();

describe('SQS provisioning', () => {
  it('reports the messages a retry may help, dead-letters the refused ones, logs each once, and loses none', async () => {
    // Records are tried at once, so each fault is scripted for its own app: m-throttled
    // takes all four throttled attempts, m-rejected the rejection.
    broker.sim.script(
      { action: ACTION, params: { AppId: '100' }, times: 4, fault: { kind: 'aliyunError', status: 400, code: 'Throttling.User' } },
      { action: ACTION, params: { AppId: '101' }, fault: { kind: 'aliyunError', status: 400, code: 'InvalidParameter.AppId' } },
    );
    const event: SQSEvent = {
      Records: [
        sqsRecord('m-throttled', JSON.stringify({ appId: '100' })),
        sqsRecord('m-rejected', JSON.stringify({ appId: '101' })),
        sqsRecord('m-good', JSON.stringify({ appId: '102', scopes: ['openid'] })),
        sqsRecord('m-invalid', JSON.stringify({ appId: 102 })),
        sqsRecord('m-not-json', '{"appId":'),
        sqsRecord('m-envelope', JSON.stringify(eventBridgeEvent({ appId: '103' }))),
        sqsRecord('m-again', JSON.stringify({ appId: '102' })),
      ],
    };
    const logs = captureLogs();
    let result: unknown;
    try {
      result = await ims(event, lambdaContext(60_000));
    } finally {
      logs.restore();
    }
    // Only the throttled one comes back from SQS; the refused ones are in the dead-letter queue, as they were sent.
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-throttled' }] });
    const bodies = Object.fromEntries(event.Records.map((r) => [r.messageId, r.body]));
    expect(
      broker.sqs
        .messages(DEAD_LETTER_QUEUE)
        .map((m) => [m.attributes.sourceMessageId?.StringValue, m.attributes.errorCode?.StringValue, m.body])
        .sort(),
    ).toEqual([
      ['m-invalid', 'InvalidRequest', bodies['m-invalid']],
      ['m-not-json', 'InvalidRequest', bodies['m-not-json']],
      ['m-rejected', 'VendorRejected', bodies['m-rejected']],
    ]);
    const failures = logs.records().filter((r) => r.message === 'message failed');
    expect(failures.map((r) => [r.messageId, r.code, r.goesTo]).sort()).toEqual([
      ['m-invalid', 'InvalidRequest', 'dead-letter queue'],
      ['m-not-json', 'InvalidRequest', 'dead-letter queue'],
      ['m-rejected', 'VendorRejected', 'dead-letter queue'],
      ['m-throttled', 'Throttled', 'redelivery'],
    ]);
    const processed = logs.records().filter((r) => r.message === 'message processed');
    expect(processed.map((r) => r.messageId).sort()).toEqual(['m-again', 'm-envelope', 'm-good']);
    // m-good and m-again provision app 102 at the same time: the vendor installs it once.
    expect(processed.filter((r) => r.alreadyProvisioned).map((r) => r.messageId)).toHaveLength(1);
    // Every message is accounted for: failed or processed, once.
    expect(failures.length + processed.length).toBe(event.Records.length);
    expect(
      broker.sim
        .callsTo(ACTION)
        .map((c) => c.params.AppId)
        .sort(),
    ).toEqual(['100', '100', '100', '100', '101', '102', '102', '103']);
  });
});

describe('event limits: events are not callers of the caller policy, their scopes are configured', () => {
  it('fails a message asking for a scope EVENT_ALLOWED_SCOPES does not list, before any vendor call', async () => {
    const logs = captureLogs();
    let result: unknown;
    try {
      result = await ims(
        { Records: [sqsRecord('m-wide', JSON.stringify({ appId: '300', scopes: ['openid', 'profile-Zq7mark'] }))] },
        lambdaContext(),
      );
    } finally {
      logs.restore();
    }
    // Refused for good: straight to the dead-letter queue, with the reason.
    expect(result).toEqual({ batchItemFailures: [] });
    // The reason names the field and the variable, never the scope asked for.
    expect(logs.records().find((r) => r.message === 'message failed')).toMatchObject({
      code: 'Forbidden',
      reason: 'An event may ask only for the scopes that EVENT_ALLOWED_SCOPES lists.',
      goesTo: 'dead-letter queue',
    });
    const [letter] = broker.sqs.messages(DEAD_LETTER_QUEUE);
    expect(letter!.attributes.errorCode?.StringValue).toBe('Forbidden');
    expect(JSON.parse(letter!.attributes.errorDetails!.StringValue!)).toEqual([
      { path: 'scopes.1', message: 'not listed in EVENT_ALLOWED_SCOPES' },
    ]);
    expect(JSON.stringify(letter!.attributes)).not.toContain('Zq7mark');
    expect(logs.lines.filter((line) => line.includes('Zq7mark'))).toEqual([]);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(0);
  });

  it('EventBridge: a refused scope or a control character in one fails the event naming the field, never the value', async () => {
    const logs = captureLogs();
    try {
      await expect(ims(eventBridgeEvent({ appId: '301', scopes: ['profile-Zq7mark'] }), lambdaContext())).rejects.toMatchObject({
        code: 'Forbidden',
        details: [{ path: 'scopes.0', message: 'not listed in EVENT_ALLOWED_SCOPES' }],
      });
      await expect(ims(eventBridgeEvent({ appId: '302', scopes: ['openid\nZq7mark'] }), lambdaContext())).rejects.toMatchObject({
        code: 'InvalidRequest',
        details: [{ path: 'scopes.0', message: 'must match the documented pattern' }],
      });
      // An event id that is not an id is not written out either.
      await expect(ims({ ...eventBridgeEvent({ appId: 1 }), id: 'ev\u0007Zq7mark' }, lambdaContext())).rejects.toMatchObject({
        code: 'InvalidRequest',
      });
    } finally {
      logs.restore();
    }
    const failed = logs.records().filter((r) => r.message === 'event failed');
    expect(failed.map((r) => [r.code, r.eventId === '(invalid)'])).toEqual([
      ['Forbidden', false],
      ['InvalidRequest', false],
      ['InvalidRequest', true],
    ]);
    expect(logs.lines.filter((line) => line.includes('Zq7mark'))).toEqual([]);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(0);
  });

  it('an application already there without some scopes asked for: dead-lettered with a count, never the scope names', async () => {
    process.env.EVENT_ALLOWED_SCOPES = 'openid, aliuid, Zq7mark-scope';
    const logs = captureLogs();
    let result: unknown;
    try {
      await ims(eventBridgeEvent({ appId: '310', scopes: ['openid'] }), lambdaContext());
      const body = JSON.stringify({ appId: '310', scopes: ['openid', 'Zq7mark-scope'] });
      result = await ims({ Records: [sqsRecord('m-differs', body)] }, lambdaContext());
    } finally {
      logs.restore();
      delete process.env.EVENT_ALLOWED_SCOPES;
    }
    expect(result).toEqual({ batchItemFailures: [] });
    expect(logs.records().find((r) => r.message === 'message failed')).toMatchObject({
      code: 'VendorRejected',
      vendorCode: 'AlreadyDoneDiffers',
      reason: 'Already done, but not as this request asks: the application is installed without 1 of the scopes asked for.',
    });
    const [letter] = broker.sqs.messages(DEAD_LETTER_QUEUE);
    expect(letter!.attributes.errorCode?.StringValue).toBe('VendorRejected');
    expect(JSON.stringify(letter!.attributes)).not.toContain('Zq7mark');
    expect(logs.lines.filter((line) => line.includes('Zq7mark'))).toEqual([]);
  });

  it('lets the scopes the configuration lists through', async () => {
    process.env.EVENT_ALLOWED_SCOPES = 'openid, profile';
    try {
      const result = await ims(eventBridgeEvent({ appId: '303', scopes: ['openid', 'profile'] }), lambdaContext());
      expect(result).toMatchObject({ data: { foreignAppId: '303' } });
    } finally {
      delete process.env.EVENT_ALLOWED_SCOPES;
    }
  });
});

describe('EventBridge direct delivery', () => {
  it('takes detail as the body and returns the result', async () => {
    const result = await ims(eventBridgeEvent({ appId: '200', scopes: ['openid', 'aliuid'] }), lambdaContext());
    expect(result).toMatchObject({ operation: 'ims:ProvisionExternalApplication', data: { foreignAppId: '200' } });
    expect(broker.sim.callsTo(ACTION)[0]?.params).toMatchObject({ AppId: '200', Scopes: 'openid;aliuid' });
  });

  it('throws on failure so Lambda retries the event', async () => {
    broker.sim.script({ action: ACTION, fault: { kind: 'aliyunError', status: 403, code: 'NoPermission' } });
    await expect(ims(eventBridgeEvent({ appId: '201' }), lambdaContext())).rejects.toMatchObject({ code: 'VendorAccessDenied' });
    await expect(ims(eventBridgeEvent({ nope: true }), lambdaContext())).rejects.toMatchObject({ code: 'InvalidRequest' });
  });
});

describe('event routing', () => {
  it.each([
    ['an empty object', {}],
    ['null', null],
    ['an S3 notification', { Records: [{ eventSource: 'aws:s3' }] }],
    ['a rotate input that is not a list', { rotate: 'all' }],
  ])('refuses %s with a clear error', async (_name, event) => {
    await expect(cams(event, lambdaContext())).rejects.toMatchObject({
      code: 'InvalidRequest',
      message: expect.stringMatching(/accepts only these events: http, schedule/),
    });
  });
});
