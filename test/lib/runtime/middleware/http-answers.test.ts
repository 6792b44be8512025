import middy from '@middy/core';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../../../../lib/core/errors.js';
import { camsGetUploadAuthorization } from '../../../../lib/operations/cams-get-upload-authorization.js';
import { httpAnswers } from '../../../../lib/runtime/middleware/http-answers.js';
import { type BrokerContext, invocationContext } from '../../../../lib/runtime/middleware/invocation-context.js';
import { httpApiEvent, lambdaContext } from '../../../../sim/lambda-events.js';

const SECURITY_HEADERS = {
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'X-Content-Type-Options': 'nosniff',
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
};

/** httpAnswers framing whatever `core` returns or throws. */
function stack(core: () => Promise<unknown>, before?: middy.MiddlewareObj) {
  const handler = middy<unknown, unknown, Error, BrokerContext>({ timeoutEarlyInMillis: 0 });
  if (before) handler.use(before as middy.MiddlewareObj<unknown, unknown, Error, BrokerContext>);
  return handler
    .use(invocationContext({ op: camsGetUploadAuthorization, marginMs: 0 }))
    .use(httpAnswers())
    .handler(core);
}

async function answer(core: () => Promise<unknown>, before?: middy.MiddlewareObj) {
  const context = lambdaContext() as BrokerContext;
  const result = (await stack(core, before)(httpApiEvent('/v1/test', {}), context)) as APIGatewayProxyResult;
  return { result, json: JSON.parse(result.body) as Record<string, any>, requestId: context.awsRequestId };
}

describe('httpAnswers', () => {
  it('frames a result as a 200 JSON answer with the security headers and the request id', async () => {
    const { result, json, requestId } = await answer(async () => ({
      operation: 'cams:GetChatappUploadAuthorization',
      vendorRequestId: 'vr-1',
      expiresAt: '2030-01-01T00:00:00.000Z',
      data: { accessKeyId: 'id' },
    }));
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(false);
    expect(result.headers).toEqual({ ...SECURITY_HEADERS, 'X-Request-Id': requestId });
    expect(json).toEqual({
      operation: 'cams:GetChatappUploadAuthorization',
      requestId,
      vendorRequestId: 'vr-1',
      expiresAt: '2030-01-01T00:00:00.000Z',
      data: { accessKeyId: 'id' },
    });
  });

  it.each([
    ['InvalidRequest', 400],
    ['Forbidden', 403],
    ['VendorNotFound', 404],
    ['PayloadTooLarge', 413],
    ['VendorRejected', 422],
    ['VendorError', 502],
    ['KeysUnavailable', 503],
    ['Timeout', 504],
  ] as const)('answers a %s error with status %i, the error body and the same headers', async (code, status) => {
    const { result, json, requestId } = await answer(async () => {
      throw new BrokerError(code, `Message for ${code}.`);
    });
    expect(result.statusCode).toBe(status);
    expect(result.headers).toEqual({ ...SECURITY_HEADERS, 'X-Request-Id': requestId });
    expect(json).toEqual({ error: { code, message: `Message for ${code}.`, requestId } });
  });

  it('sets Retry-After from retryAfterSeconds, and carries the vendor code and request id', async () => {
    const { result, json } = await answer(async () => {
      throw new BrokerError('Throttled', 'Slow down.', { retryAfterSeconds: 7, vendorCode: 'Throttling.User', vendorRequestId: 'vr-9' });
    });
    expect(result.statusCode).toBe(429);
    expect(result.headers).toMatchObject({ ...SECURITY_HEADERS, 'Retry-After': '7' });
    expect(json.error).toMatchObject({ code: 'Throttled', vendorCode: 'Throttling.User', vendorRequestId: 'vr-9' });
    expect(json.error.retryAfterSeconds).toBeUndefined();
  });

  it('sends no Retry-After when the error has no retryAfterSeconds', async () => {
    const { result } = await answer(async () => {
      throw new BrokerError('VendorUnavailable', 'Down.');
    });
    expect(result.statusCode).toBe(503);
    expect(result.headers).not.toHaveProperty('Retry-After');
  });

  it('lists details for InvalidRequest only', async () => {
    const details = [{ path: 'custSpaceId', message: 'expected string' }];
    const invalid = await answer(async () => {
      throw new BrokerError('InvalidRequest', 'Bad body.', { details });
    });
    expect(invalid.json.error.details).toEqual(details);
    const vendor = await answer(async () => {
      throw new BrokerError('VendorError', 'Bad answer.', { details: [{ path: 'Data.AccessKeyId', message: 'expected string' }] });
    });
    expect(vendor.json.error).not.toHaveProperty('details');
  });

  it.each([
    ['an Error', () => new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2')],
    ['a TypeError', () => new TypeError("Cannot read properties of undefined (reading 'accessKeySecret')")],
    ['a thrown string', () => 'internal detail hunter2'],
  ])('answers %s as a 500 that says nothing of internals', async (_name, make) => {
    const { result, json, requestId } = await answer(async () => {
      throw make();
    });
    expect(result.statusCode).toBe(500);
    expect(result.headers).toEqual({ ...SECURITY_HEADERS, 'X-Request-Id': requestId });
    expect(json).toEqual({ error: { code: 'InternalError', message: expect.any(String), requestId } });
    for (const leak of ['hunter2', '10.0.0.5', 'ECONNREFUSED', 'accessKeySecret', 'TypeError', 'at ', '.ts']) {
      expect(result.body).not.toContain(leak);
    }
  });

  it('still answers, with the Lambda request id, when the failure comes before the invocation is set up', async () => {
    const { result, json, requestId } = await answer(async () => ({ operation: 'never', data: null }), {
      before: () => {
        throw new Error('early failure');
      },
    });
    expect(result.statusCode).toBe(500);
    expect(json.error).toMatchObject({ code: 'InternalError', requestId });
    expect(result.headers).toMatchObject({ 'Cache-Control': 'no-store', 'X-Request-Id': requestId });
  });
});
