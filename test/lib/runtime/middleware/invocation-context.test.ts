import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { camsGetUploadAuthorization } from '../../../../lib/operations/cams-get-upload-authorization.js';
import {
  type BrokerContext,
  type Invocation,
  invocationContext,
  traceIdOf,
} from '../../../../lib/runtime/middleware/invocation-context.js';
import { lambdaContext } from '../../../../sim/lambda-events.js';
import { captureLogs } from '../../../support/log-capture.js';

const op = camsGetUploadAuthorization;

/** invocationContext alone; the handler hands back the invocation it was given. */
async function invocationFor(context: Partial<Context>, marginMs = 300) {
  const handler = middy<unknown, Invocation, Error, BrokerContext>({ timeoutEarlyInMillis: 0 })
    .use(invocationContext({ op, marginMs }))
    .handler(async (_event, ctx) => ctx.invocation);
  const before = Date.now();
  const invocation = await handler({}, context as BrokerContext);
  return { invocation, before, after: Date.now() };
}

describe('invocationContext', () => {
  it('sets the deadline to the time Lambda leaves less the margin', async () => {
    const { invocation, before, after } = await invocationFor({ ...lambdaContext(), getRemainingTimeInMillis: () => 5_000 }, 300);
    expect(invocation.startedAt).toBeGreaterThanOrEqual(before);
    expect(invocation.startedAt).toBeLessThanOrEqual(after);
    expect(invocation.deadline - invocation.startedAt).toBe(4_700);
  });

  it('follows a real countdown', async () => {
    const context = lambdaContext(8_000);
    const { invocation, before } = await invocationFor(context, 250);
    expect(invocation.deadline).toBeLessThanOrEqual(before + 8_000 - 250);
    expect(invocation.deadline).toBeGreaterThan(before + 8_000 - 250 - 50);
  });

  it('assumes 30 s and the request id "local" outside Lambda', async () => {
    const { invocation } = await invocationFor({}, 300);
    expect(invocation.requestId).toBe('local');
    expect(invocation.deadline - invocation.startedAt).toBe(30_000 - 300);
  });

  it('takes the Lambda request id and starts an empty audit record', async () => {
    const context = lambdaContext();
    const { invocation } = await invocationFor(context);
    expect(invocation.requestId).toBe(context.awsRequestId);
    expect(invocation.audit).toEqual({});
    expect(invocation.signal).toBeUndefined();
  });

  it('gives every invocation its own audit record', async () => {
    const first = (await invocationFor(lambdaContext())).invocation;
    first.audit.bodyHash = 'from-the-first';
    const second = (await invocationFor(lambdaContext())).invocation;
    expect(second.audit).toEqual({});
    expect(second.requestId).not.toBe(first.requestId);
  });

  it('takes the trace id from the context, else from _X_AMZN_TRACE_ID, and only when shaped like one', () => {
    const id = '1-5759e988-bd862e3fe1be46a994272793';
    const previous = process.env._X_AMZN_TRACE_ID;
    try {
      delete process.env._X_AMZN_TRACE_ID;
      expect(traceIdOf({})).toBeUndefined();
      process.env._X_AMZN_TRACE_ID = `Root=${id};Parent=53995c3f42cd8ad8;Sampled=0`;
      expect(traceIdOf({})).toBe(id);
      const other = '1-00000000-000000000000000000000001';
      expect(traceIdOf({ xRayTraceId: `Root=${other};Sampled=1` } as never)).toBe(other);
      expect(traceIdOf({ xRayTraceId: other } as never)).toBe(other);
      process.env._X_AMZN_TRACE_ID = 'Root=<script>;Sampled=1';
      expect(traceIdOf({})).toBeUndefined();
    } finally {
      if (previous === undefined) delete process.env._X_AMZN_TRACE_ID;
      else process.env._X_AMZN_TRACE_ID = previous;
    }
  });

  it('starts empty measures and names the operation', async () => {
    const { invocation } = await invocationFor(lambdaContext());
    expect(invocation.operation).toBe(op.name);
    expect(invocation.metrics.values()).toEqual({});
  });

  it('binds the logger to the request id and the operation', async () => {
    const context = lambdaContext();
    const logs = captureLogs();
    try {
      const { invocation } = await invocationFor(context);
      invocation.logger.info('hello');
      expect(logs.records()).toEqual([expect.objectContaining({ message: 'hello', requestId: context.awsRequestId, operation: op.name })]);
    } finally {
      logs.restore();
    }
  });
});
