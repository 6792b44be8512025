import type { SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BrokerError } from '../../../lib/core/errors.js';
import { camsGetUploadAuthorization } from '../../../lib/operations/cams-get-upload-authorization.js';
import { imsProvisionExternalApplication } from '../../../lib/operations/ims-provision-external-application.js';
import { createHandler } from '../../../lib/runtime/handler.js';
import { isEventBridgeEvent } from '../../../lib/runtime/triggers/eventbridge.js';
import { isHttpEvent } from '../../../lib/runtime/triggers/http.js';
import { isRotationEvent, RotationFailed } from '../../../lib/runtime/triggers/schedule.js';
import { isSqsEvent } from '../../../lib/runtime/triggers/sqs.js';
import { defineOperation, type LambdaHandler, type Operation, type Trigger } from '../../../lib/spec/operation.js';
import { eventBridgeEvent, httpApiEvent, lambdaContext, restApiEvent, sqsBatch, sqsRecord } from '../../../sim/lambda-events.js';
import { useBrokerEnv } from '../../support/broker-env.js';
import { captureLogs } from '../../support/log-capture.js';

const sqsEvent = (...bodies: unknown[]): SQSEvent => sqsBatch(...bodies.map((body, i) => sqsRecord(`m-${i}`, JSON.stringify(body))));

afterEach(() => vi.restoreAllMocks());

describe('createHandler: routing (stand-in stacks)', () => {
  /** A trigger with the real event test, whose stack only says which trigger it is. */
  function standIn<K extends Trigger['kind']>(kind: K, accepts: (event: unknown) => boolean) {
    const stack = vi.fn<LambdaHandler>(async (event) => ({ via: kind, event }));
    const handler = vi.fn((_op: Operation) => stack);
    return {
      trigger: { kind, accepts, handler, ...(kind === 'schedule' && { rate: 'rate(5 minutes)' }) } as unknown as Trigger,
      stack,
      handler,
    };
  }

  function routed() {
    const triggers = {
      http: standIn('http', isHttpEvent),
      schedule: standIn('schedule', isRotationEvent),
      sqs: standIn('sqs', isSqsEvent),
      eventbridge: standIn('eventbridge', isEventBridgeEvent),
    };
    const op = defineOperation({
      ...imsProvisionExternalApplication,
      triggers: [triggers.http.trigger, triggers.schedule.trigger, triggers.sqs.trigger, triggers.eventbridge.trigger],
    });
    return { op, triggers, handler: createHandler(op) };
  }

  it('hands each kind of event to its own trigger', async () => {
    const { handler, triggers } = routed();
    const events = {
      http: httpApiEvent('/v1/test', {}),
      schedule: { rotate: [] },
      sqs: sqsEvent({ appId: '1' }),
      eventbridge: eventBridgeEvent({ appId: '1' }),
    };
    for (const [kind, event] of Object.entries(events)) {
      expect(await handler(event, lambdaContext())).toEqual({ via: kind, event });
    }
    expect(await handler(restApiEvent('/v1/test', {}), lambdaContext())).toMatchObject({ via: 'http' });
    for (const { stack } of Object.values(triggers)) expect(stack).toHaveBeenCalled();
    expect(triggers.http.stack).toHaveBeenCalledTimes(2);
  });

  it("builds a trigger's stack on its first event only, and never for a trigger no event reached", async () => {
    const { handler, triggers, op } = routed();
    for (const { handler: build } of Object.values(triggers)) expect(build).not.toHaveBeenCalled();
    for (let i = 0; i < 3; i++) {
      await handler(httpApiEvent('/v1/test', {}), lambdaContext());
      await handler(sqsEvent({ appId: `${i}` }), lambdaContext());
    }
    expect(triggers.http.handler).toHaveBeenCalledTimes(1);
    expect(triggers.http.handler).toHaveBeenCalledWith(op);
    expect(triggers.sqs.handler).toHaveBeenCalledTimes(1);
    expect(triggers.http.stack).toHaveBeenCalledTimes(3);
    expect(triggers.sqs.stack).toHaveBeenCalledTimes(3);
    expect(triggers.schedule.handler).not.toHaveBeenCalled();
    expect(triggers.eventbridge.handler).not.toHaveBeenCalled();
  });

  it('keeps the stacks of two handlers of one operation apart', async () => {
    const { op, triggers } = routed();
    const one = createHandler(op);
    const two = createHandler(op);
    await one(httpApiEvent('/v1/test', {}), lambdaContext());
    await two(httpApiEvent('/v1/test', {}), lambdaContext());
    expect(triggers.http.handler).toHaveBeenCalledTimes(2);
  });

  it('passes the Lambda context through untouched', async () => {
    const { handler, triggers } = routed();
    const context = lambdaContext();
    await handler(httpApiEvent('/v1/test', {}), context);
    expect(triggers.http.stack.mock.calls[0]![1]).toBe(context);
  });
});

describe('createHandler: real stacks', () => {
  const broker = useBrokerEnv();

  /** Spies on the operation's own triggers, so the test sees which stacks get built. */
  function spied(op: Operation) {
    const builds = Object.fromEntries(op.triggers.map((t) => [t.kind, vi.spyOn(t, 'handler')]));
    return { handler: createHandler(op), builds };
  }

  it('answers HTTP events through the HTTP stack', async () => {
    const { handler, builds } = spied(imsProvisionExternalApplication);
    const answer = (await handler(httpApiEvent('/v1/aliyun/ims/external-applications', { appId: '300' }), lambdaContext())) as {
      statusCode: number;
      headers: Record<string, string>;
      body: string;
    };
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['Cache-Control']).toBe('no-store');
    expect(JSON.parse(answer.body)).toMatchObject({ operation: 'ims:ProvisionExternalApplication', data: { foreignAppId: '300' } });
    expect(builds.http).toHaveBeenCalledTimes(1);
    expect(builds.sqs).not.toHaveBeenCalled();
  });

  it('answers SQS events through the SQS stack, with a partial batch response', async () => {
    const { handler, builds } = spied(imsProvisionExternalApplication);
    broker.sim.script({
      action: 'ProvisionExternalApplication',
      params: { AppId: '302' },
      times: 4,
      fault: { kind: 'aliyunError', status: 503, code: 'ServiceUnavailable' },
    });
    expect(await handler(sqsEvent({ appId: '301' }, { appId: '302' }), lambdaContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm-1' }],
    });
    expect(broker.sim.callsTo('ProvisionExternalApplication').filter((c) => c.params.AppId === '301')).toHaveLength(1);
    expect(builds.sqs).toHaveBeenCalledTimes(1);
    expect(builds.http).not.toHaveBeenCalled();
  });

  it('answers EventBridge events through the EventBridge stack, returning the bare result', async () => {
    const { handler, builds } = spied(imsProvisionExternalApplication);
    const result = await handler(eventBridgeEvent({ appId: '303' }), lambdaContext());
    expect(result).toMatchObject({ operation: 'ims:ProvisionExternalApplication', data: { foreignAppId: '303' } });
    expect(result).not.toHaveProperty('statusCode');
    expect(builds.eventbridge).toHaveBeenCalledTimes(1);
  });

  it('answers rotation events through the schedule stack', async () => {
    const { handler, builds } = spied(camsGetUploadAuthorization);
    // An invalid body fails before the token store or the vendor, so only the schedule stack can have said this.
    const thrown = await handler({ rotate: [{}] }, lambdaContext()).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(RotationFailed);
    expect((thrown as RotationFailed).report.failed).toEqual([expect.objectContaining({ key: '#0', code: 'InvalidRequest' })]);
    expect(builds.schedule).toHaveBeenCalledTimes(1);
    expect(builds.http).not.toHaveBeenCalled();
  });

  it('builds each stack once however many events come', async () => {
    const { handler, builds } = spied(imsProvisionExternalApplication);
    for (let i = 0; i < 3; i++) {
      await handler(httpApiEvent('/v1/aliyun/ims/external-applications', { appId: `31${i}` }), lambdaContext());
      await handler(sqsEvent({ appId: `32${i}` }), lambdaContext());
      await handler(eventBridgeEvent({ appId: `33${i}` }), lambdaContext());
    }
    expect(broker.sim.callsTo('ProvisionExternalApplication')).toHaveLength(9);
    expect(builds.http).toHaveBeenCalledTimes(1);
    expect(builds.sqs).toHaveBeenCalledTimes(1);
    expect(builds.eventbridge).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['an SQS batch', camsGetUploadAuthorization, sqsEvent({ custSpaceId: 'a' }), 'http, schedule'],
    ['an EventBridge event', camsGetUploadAuthorization, eventBridgeEvent({ custSpaceId: 'a' }), 'http, schedule'],
    ['a rotation', imsProvisionExternalApplication, { rotate: [{ appId: '1' }] }, 'http, sqs, eventbridge'],
    ['an S3 notification', imsProvisionExternalApplication, { Records: [{ eventSource: 'aws:s3' }] }, 'http, sqs, eventbridge'],
    ['nothing', imsProvisionExternalApplication, undefined, 'http, sqs, eventbridge'],
  ])('refuses %s it was not wired for before reading a key or calling the vendor', async (_name, op, event, kinds) => {
    const { handler, builds } = spied(op);
    broker.ssm.clearRequests();
    const logs = captureLogs();
    let thrown: unknown;
    try {
      thrown = await handler(event, lambdaContext()).catch((e: unknown) => e);
    } finally {
      logs.restore();
    }
    expect(thrown).toBeInstanceOf(BrokerError);
    expect(thrown).toMatchObject({ code: 'InvalidRequest', message: `${op.functionName} accepts only these events: ${kinds}.` });
    expect(broker.sim.calls).toHaveLength(0);
    expect(broker.ssm.requests).toHaveLength(0);
    for (const build of Object.values(builds)) expect(build).not.toHaveBeenCalled();
    expect(logs.records()).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'event refused: not a trigger of this function',
        operation: op.name,
        accepts: kinds,
      }),
    ]);
  });
});
