import middy from '@middy/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BrokerError } from '../../../../lib/core/errors.js';
import { type HttpEvent, httpJsonBody } from '../../../../lib/runtime/middleware/http-json-body.js';
import type { BrokerContext } from '../../../../lib/runtime/middleware/invocation-context.js';
import { httpApiEvent, lambdaContext, restApiEvent } from '../../../../sim/lambda-events.js';

const MAX = 16 * 1024;
const ROUTE = '/v1/test';

/** httpJsonBody alone in front of a handler that returns what it parsed. */
const stack = (maxBytes = MAX) =>
  middy<HttpEvent, unknown, Error, BrokerContext>({ timeoutEarlyInMillis: 0 })
    .use(httpJsonBody({ maxBytes }))
    .handler(async (event) => event.parsedBody);

const run = (event: unknown) => stack()(event as HttpEvent, lambdaContext() as BrokerContext);
const refusal = (event: unknown) =>
  run(event).then(
    (parsed) => {
      throw new Error(`expected a refusal, got ${JSON.stringify(parsed)}`);
    },
    (error: unknown) => error as BrokerError,
  );

afterEach(() => vi.restoreAllMocks());

describe('httpJsonBody', () => {
  it('refuses a maxBytes that is not a positive integer', () => {
    expect(() => httpJsonBody({ maxBytes: 0 })).toThrow(TypeError);
    expect(() => httpJsonBody({ maxBytes: 1.5 })).toThrow(TypeError);
  });

  it('parses a JSON body into event.parsedBody', async () => {
    expect(await run(httpApiEvent(ROUTE, { custSpaceId: 'a', n: [1, 2] }))).toEqual({ custSpaceId: 'a', n: [1, 2] });
    expect(await run(restApiEvent(ROUTE, { custSpaceId: 'b' }))).toEqual({ custSpaceId: 'b' });
  });

  describe('POST only', () => {
    it.each(['GET', 'PUT', 'DELETE', 'PATCH'])('refuses %s on both payload versions', async (method) => {
      for (const event of [httpApiEvent(ROUTE, { a: 1 }, { method }), restApiEvent(ROUTE, { a: 1 }, { method })]) {
        const error = await refusal(event);
        expect(error).toMatchObject({ code: 'InvalidRequest', status: 400 });
        expect(error.message).toMatch(/POST/);
      }
    });
  });

  describe('size cap', () => {
    it('answers 413 over 16 KiB before JSON.parse sees the body', async () => {
      const parse = vi.spyOn(JSON, 'parse');
      const body = `{${'x'.repeat(MAX)}`; // not JSON: parsing it would answer 400
      const error = await refusal(httpApiEvent(ROUTE, undefined, { rawBody: body }));
      expect(error).toMatchObject({ code: 'PayloadTooLarge', status: 413 });
      expect(parse.mock.calls.some(([text]) => text === body)).toBe(false);
    });

    it('checks the size before the content type', async () => {
      const error = await refusal(httpApiEvent(ROUTE, undefined, { rawBody: 'x'.repeat(MAX + 1), contentType: 'text/plain' }));
      expect(error.code).toBe('PayloadTooLarge');
    });

    it('accepts exactly 16 KiB and refuses one byte more', async () => {
      const exactly = (size: number) => JSON.stringify({ pad: 'p'.repeat(size - '{"pad":""}'.length) });
      expect(Buffer.byteLength(exactly(MAX))).toBe(MAX);
      expect(await run(httpApiEvent(ROUTE, undefined, { rawBody: exactly(MAX) }))).toMatchObject({ pad: expect.any(String) });
      expect((await refusal(httpApiEvent(ROUTE, undefined, { rawBody: exactly(MAX + 1) }))).code).toBe('PayloadTooLarge');
    });

    it('counts bytes, not characters', async () => {
      // 5,462 euro signs: 5,472 characters, 16,396 bytes.
      const body = JSON.stringify({ pad: '€'.repeat(5_462) });
      expect(body.length).toBeLessThan(MAX);
      expect((await refusal(httpApiEvent(ROUTE, undefined, { rawBody: body }))).code).toBe('PayloadTooLarge');
    });
  });

  describe('base64 bodies', () => {
    it('decodes and parses a base64 body', async () => {
      expect(await run(httpApiEvent(ROUTE, { custSpaceId: 'b64' }, { base64: true }))).toEqual({ custSpaceId: 'b64' });
      expect(await run(restApiEvent(ROUTE, { custSpaceId: 'b64' }, { base64: true }))).toEqual({ custSpaceId: 'b64' });
    });

    it('answers 413 for a base64 body that decodes to more than 16 KiB, before decoding it', async () => {
      const from = vi.spyOn(Buffer, 'from');
      const event = httpApiEvent(ROUTE, undefined, { rawBody: `"${'x'.repeat(MAX)}"`, base64: true });
      from.mockClear();
      const error = await refusal(event);
      expect(error.code).toBe('PayloadTooLarge');
      expect(from.mock.calls.some((args) => (args as unknown[])[1] === 'base64')).toBe(false);
    });

    it.each([MAX - 2, MAX - 1, MAX])(
      'accepts a base64 body that decodes to %i bytes, as it accepts the same body sent plain',
      async (size) => {
        // Sizes that are not a multiple of 3 end in base64 padding, which decodes to nothing.
        const body = JSON.stringify({ pad: 'p'.repeat(size - '{"pad":""}'.length) });
        expect(Buffer.byteLength(body)).toBe(size);
        expect(await run(httpApiEvent(ROUTE, undefined, { rawBody: body }))).toMatchObject({ pad: expect.any(String) });
        expect(await run(httpApiEvent(ROUTE, undefined, { rawBody: body, base64: true }))).toMatchObject({ pad: expect.any(String) });
      },
    );

    it('refuses a base64 body that decodes to one byte over 16 KiB', async () => {
      const body = JSON.stringify({ pad: 'p'.repeat(MAX + 1 - '{"pad":""}'.length) });
      expect((await refusal(httpApiEvent(ROUTE, undefined, { rawBody: body, base64: true }))).code).toBe('PayloadTooLarge');
    });
  });

  describe('content types', () => {
    it.each([
      'application/json',
      'application/json; charset=utf-8',
      'Application/JSON',
      'application/json;charset=UTF-8',
      'application/vnd.api+json',
      'application/merge-patch+json',
    ])('accepts %s', async (contentType) => {
      expect(await run(httpApiEvent(ROUTE, { a: 1 }, { contentType }))).toEqual({ a: 1 });
    });

    it.each([
      ['text/plain', 'text/plain'],
      ['form encoding', 'application/x-www-form-urlencoded'],
      ['a look-alike', 'application/jsonp'],
      ['no content type', null],
    ])('refuses %s, naming the header', async (_name, contentType) => {
      const error = await refusal(httpApiEvent(ROUTE, { a: 1 }, { contentType }));
      expect(error).toMatchObject({
        code: 'InvalidRequest',
        details: [{ path: '(headers).content-type', message: 'expected application/json' }],
      });
    });

    it("finds the header in any case (REST APIs keep the caller's)", async () => {
      const event = restApiEvent(ROUTE, { a: 1 });
      expect(Object.keys(event.headers)).toContain('Content-Type');
      expect(await run(event)).toEqual({ a: 1 });
      const shouting = { ...event, headers: { 'CONTENT-TYPE': 'application/json' } };
      expect(await run(shouting)).toEqual({ a: 1 });
    });
  });

  describe('empty and invalid bodies', () => {
    it.each([
      ['absent', httpApiEvent(ROUTE, undefined, { contentType: null })],
      ['empty', httpApiEvent(ROUTE, undefined, { rawBody: '', contentType: null })],
      ['blank', httpApiEvent(ROUTE, undefined, { rawBody: ' \n\t ', contentType: null })],
      ['empty base64', httpApiEvent(ROUTE, undefined, { rawBody: '', base64: true })],
      ['null on a REST event', restApiEvent(ROUTE, undefined)],
    ])('reads an %s body as {}', async (_name, event) => {
      expect(await run(event)).toEqual({});
    });

    it('refuses invalid JSON without quoting it', async () => {
      const error = await refusal(httpApiEvent(ROUTE, undefined, { rawBody: '{"custSpaceId": "canary-value"' }));
      expect(error).toMatchObject({ code: 'InvalidRequest', details: [{ path: '(body)', message: 'invalid JSON' }] });
      expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain('canary');
    });
  });
});
