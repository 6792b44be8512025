import { createServer, type IncomingHttpHeaders } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { BackoffPolicy } from '../../../lib/core/backoff.js';
import { BrokerError } from '../../../lib/core/errors.js';
import type { LogFields, Logger } from '../../../lib/core/logger.js';
import { http } from '../../../lib/runtime/triggers/http.js';
import { type CallOptions, callVendor } from '../../../lib/runtime/vendor-call.js';
import { defineOperation } from '../../../lib/spec/operation.js';
import { aliyunApi } from '../../../lib/vendor/aliyun.js';
import { type LoopbackServer, listenOnLoopback } from '../../../sim/loopback-server.js';
import { SIMULATOR_DEFAULT_KEYS } from '../../../sim/vendor-simulator.js';
import { KEY_PARAMETERS, useBrokerEnv } from '../../support/broker-env.js';

/**
 * callVendor against a loopback server each test scripts answer by answer, so every
 * retry, delay and error class is driven on purpose. Keys come from the fake SSM.
 */

const op = defineOperation({
  name: 'test:Echo',
  functionName: 'test-echo',
  route: '/v1/test/echo',
  summary: 'A vendor operation that exists only in this test',
  vendor: 'aliyun',
  api: aliyunApi,
  endpoint: 'ALIYUN_CAMS_ENDPOINT',
  triggers: [http()],
  action: 'Echo',
  version: '2020-01-01',
  style: 'RPC',
  paramsIn: 'query',
  request: z.strictObject({ appId: z.string() }),
  response: { field: 'Data', data: z.object({}) },
  alreadyDone: (code) => code.startsWith('EntityAlreadyExists'),
});

type Answer = { status: number; body: string; headers?: Record<string, string> } | 'hang' | 'reset';

interface Seen {
  at: number;
  url: URL;
  headers: IncomingHttpHeaders;
}

const ok = (requestId = 'req-ok'): Answer => ({
  status: 200,
  body: JSON.stringify({ RequestId: requestId, Code: 'OK', Data: { Value: 'v' } }),
});
const vendorError = (status: number, code: string, headers: Record<string, string> = {}, requestId = `req-${code}`): Answer => ({
  status,
  body: JSON.stringify({ RequestId: requestId, Code: code, Message: `Simulated ${code}.` }),
  headers,
});

const broker = useBrokerEnv();
let server: LoopbackServer;
let seen: Seen[];
/** Answers in order; the last one repeats once the others are used up. */
let answers: Answer[];
const savedTimeout = process.env.VENDOR_TIMEOUT_MS;

beforeEach(async () => {
  seen = [];
  answers = [ok()];
  server = await listenOnLoopback(
    createServer((req, res) => {
      seen.push({ at: Date.now(), url: new URL(req.url ?? '/', 'http://loopback.invalid'), headers: req.headers });
      const answer = (answers.length > 1 ? answers.shift() : answers[0])!;
      req.resume();
      if (answer === 'hang') return;
      if (answer === 'reset') {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body);
    }),
  );
  process.env.ALIYUN_CAMS_ENDPOINT = server.url;
  broker.ssm.put(KEY_PARAMETERS.aliyun, SIMULATOR_DEFAULT_KEYS.aliyun);
  broker.ssm.clearRequests();
});

afterEach(async () => {
  if (savedTimeout === undefined) delete process.env.VENDOR_TIMEOUT_MS;
  else process.env.VENDOR_TIMEOUT_MS = savedTimeout;
  await server.close();
});

function recordingLogger() {
  const lines: { level: string; message: string; fields: LogFields }[] = [];
  const at =
    (level: string) =>
    (message: string, fields: LogFields = {}) =>
      lines.push({ level, message, fields });
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    audit: (fields) => lines.push({ level: 'audit', message: 'audit', fields }),
    child: () => logger,
  };
  return { logger, lines, retries: () => lines.filter((l) => l.message === 'vendor call failed; retrying').map((l) => l.fields) };
}

/** Small delays so a test takes milliseconds; `random` set per test for exact delays. */
const FAST: BackoffPolicy = { maxAttempts: 4, baseMs: 20, capMs: 100 };

function options(overrides: Partial<CallOptions> = {}) {
  const log = recordingLogger();
  return { log, options: { deadline: Date.now() + 10_000, logger: log.logger, backoff: FAST, random: () => 0, ...overrides } };
}

const call = (opts: CallOptions, params = { AppId: 'app-1' }) => callVendor(op, params, opts);
const failure = (opts: CallOptions) =>
  call(opts).then(
    () => {
      throw new Error('expected callVendor to fail');
    },
    (error: unknown) => error as BrokerError,
  );
const keyReads = () => broker.ssm.requests.filter((r) => r.names.includes(KEY_PARAMETERS.aliyun)).length;
const credentialOf = (s: Seen) => /Credential=([^,]+)/.exec(String(s.headers.authorization))?.[1];
const nonceOf = (s: Seen) => s.headers['x-acs-signature-nonce'];
const gaps = () => seen.slice(1).map((s, i) => s.at - seen[i]!.at);

describe('callVendor: success', () => {
  it('signs one request with the master key from SSM and returns the answer', async () => {
    const before = Date.now();
    const { options: opts } = options();
    const result = await call(opts);
    expect(result.payload).toEqual({ RequestId: 'req-ok', Code: 'OK', Data: { Value: 'v' } });
    expect(result.vendorRequestId).toBe('req-ok');
    expect(result.alreadyDone).toBeUndefined();
    expect(result.issuedAt).toBeGreaterThanOrEqual(before);
    expect(result.issuedAt).toBeLessThanOrEqual(Date.now());
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url.searchParams.get('AppId')).toBe('app-1');
    expect(seen[0]!.headers['x-acs-action']).toBe('Echo');
    expect(credentialOf(seen[0]!)).toBe(SIMULATOR_DEFAULT_KEYS.aliyun.accessKeyId);
    expect(keyReads()).toBe(1);
  });

  it('answers an "already done" code as done, without a retry', async () => {
    answers = [vendorError(409, 'EntityAlreadyExists.ExternalApplication', {}, 'req-dup')];
    const { options: opts } = options();
    const result = await call(opts);
    expect(result).toMatchObject({ alreadyDone: true, vendorRequestId: 'req-dup' });
    expect(result.payload).toBeUndefined();
    expect(seen).toHaveLength(1);
  });
});

describe('callVendor: throttling and transient failures', () => {
  it('retries throttling with full-jitter delays, each attempt signed afresh, then succeeds', async () => {
    answers = [vendorError(400, 'Throttling.User'), vendorError(400, 'Throttling.User'), ok()];
    // random 0.5 with base 40: retry 0 waits floor(0.5·40) = 20 ms, retry 1 floor(0.5·80) = 40 ms.
    const { options: opts, log } = options({ backoff: { maxAttempts: 4, baseMs: 40, capMs: 1_000 }, random: () => 0.5 });
    const result = await call(opts);
    expect(result.vendorRequestId).toBe('req-ok');
    expect(seen).toHaveLength(3);
    expect(log.retries().map((f) => [f.attempt, f.delayMs, f.vendorCode])).toEqual([
      [1, 20, 'Throttling.User'],
      [2, 40, 'Throttling.User'],
    ]);
    // Timers may fire a millisecond early.
    expect(gaps()[0]).toBeGreaterThanOrEqual(19);
    expect(gaps()[1]).toBeGreaterThanOrEqual(39);
    expect(new Set(seen.map(nonceOf)).size).toBe(3);
  });

  it('waits at least the x-acs-retry-after hint, in milliseconds', async () => {
    answers = [vendorError(400, 'Throttling.User', { 'x-acs-retry-after': '250' }), ok()];
    const { options: opts, log } = options();
    await call(opts);
    expect(log.retries().map((f) => f.delayMs)).toEqual([250]);
    expect(gaps()[0]).toBeGreaterThanOrEqual(249);
  });

  it('waits at least the Retry-After hint, in seconds', async () => {
    answers = [vendorError(503, 'ServiceUnavailable', { 'Retry-After': '1' }), ok()];
    const { options: opts, log } = options();
    await call(opts);
    expect(log.retries().map((f) => f.delayMs)).toEqual([1_000]);
    expect(gaps()[0]).toBeGreaterThanOrEqual(999);
  });

  it('waits the jittered delay when it is longer than the hint', async () => {
    answers = [vendorError(400, 'Throttling.User', { 'x-acs-retry-after': '10' }), ok()];
    const { options: opts, log } = options({ backoff: { maxAttempts: 2, baseMs: 100, capMs: 100 }, random: () => 0.9 });
    await call(opts);
    expect(log.retries().map((f) => f.delayMs)).toEqual([90]);
  });

  it('throws Throttled with retryAfterSeconds once the attempts are used up', async () => {
    answers = [vendorError(400, 'Throttling.User', {}, 'req-last')];
    // random 0: the next wait would be 0 ms, yet callers are told to wait a second.
    const { options: opts } = options({ backoff: { maxAttempts: 3, baseMs: 10, capMs: 100 }, random: () => 0 });
    const error = await failure(opts);
    expect(error).toBeInstanceOf(BrokerError);
    expect(error).toMatchObject({ code: 'Throttled', status: 429, vendorCode: 'Throttling.User', vendorRequestId: 'req-last' });
    expect(error.retryAfterSeconds).toBe(1); // never less than a second
    expect(seen).toHaveLength(3);
  });

  it.each([
    ['x-acs-retry-after', '2500', 3],
    ['Retry-After', '4', 4],
  ])('rounds the %s hint up into retryAfterSeconds', async (name, value, seconds) => {
    answers = [vendorError(400, 'System.LimitControl', { [name]: value })];
    const { options: opts } = options({ backoff: { maxAttempts: 1, baseMs: 10, capMs: 10 } });
    const error = await failure(opts);
    expect(error).toMatchObject({ code: 'Throttled', retryAfterSeconds: seconds });
    expect(seen).toHaveLength(1);
  });

  it('does not retry when the wait would end past the deadline', async () => {
    answers = [vendorError(400, 'Throttling.User', { 'x-acs-retry-after': '1000' })];
    const { options: opts } = options({ deadline: Date.now() + 600 });
    const started = Date.now();
    const error = await failure(opts);
    // The next slot is one spacing away: 1 s, widened for jitter when the limit is shared.
    expect(error).toMatchObject({ code: 'Throttled' });
    expect((error as BrokerError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((error as BrokerError).retryAfterSeconds).toBeLessThanOrEqual(2);
    expect(seen).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it.each([
    ['a 5xx vendor error', vendorError(503, 'ServiceUnavailable'), 'ServiceUnavailable'],
    ['a gateway page', { status: 502, body: '<html>bad gateway</html>' } as Answer, 'HTTP 502'],
    ['a reset connection', 'reset' as Answer, 'NetworkError'],
  ])('retries %s and then throws VendorUnavailable', async (_name, answer, vendorCode) => {
    answers = [answer];
    const { options: opts, log } = options();
    const error = await failure(opts);
    expect(error).toMatchObject({ code: 'VendorUnavailable', status: 503, vendorCode });
    expect(error.retryAfterSeconds).toBeUndefined();
    expect(seen).toHaveLength(FAST.maxAttempts);
    expect(log.retries()).toHaveLength(FAST.maxAttempts - 1);
  });
});

describe('callVendor: keys and clocks', () => {
  it('reads the key again past the cache once when the vendor refuses it, then uses the new key', async () => {
    await call(options().options); // warms the key cache
    const rotated = { accessKeyId: 'rotated-id', accessKeySecret: 'rotated-secret-1f2e3d4c' };
    broker.ssm.put(KEY_PARAMETERS.aliyun, rotated);
    broker.ssm.clearRequests();
    seen = [];
    answers = [vendorError(404, 'InvalidAccessKeyId.NotFound'), ok()];
    const { options: opts, log } = options();
    await call(opts);
    expect(seen.map(credentialOf)).toEqual([SIMULATOR_DEFAULT_KEYS.aliyun.accessKeyId, 'rotated-id']);
    expect(keyReads()).toBe(1);
    expect(log.lines.map((l) => l.message)).toContain('vendor refused the master key; reading it again past the cache');
  });

  it('throws KeysUnavailable when the vendor refuses the key read again', async () => {
    await call(options().options);
    broker.ssm.clearRequests();
    seen = [];
    answers = [vendorError(400, 'SignatureDoesNotMatch', {}, 'req-sig')];
    const error = await failure(options().options);
    expect(error).toMatchObject({ code: 'KeysUnavailable', status: 503, vendorCode: 'SignatureDoesNotMatch', vendorRequestId: 'req-sig' });
    expect(seen).toHaveLength(2);
    expect(keyReads()).toBe(1);
  });

  it('re-signs once with a new nonce when the vendor refuses the timestamp or nonce', async () => {
    answers = [vendorError(400, 'SignatureNonceUsed'), ok()];
    await call(options().options);
    expect(seen).toHaveLength(2);
    expect(nonceOf(seen[1]!)).not.toBe(nonceOf(seen[0]!));
    expect(keyReads()).toBe(1);
  });

  it('throws VendorError when the vendor refuses the timestamp twice', async () => {
    answers = [vendorError(400, 'InvalidTimeStamp.Expired')];
    const error = await failure(options().options);
    expect(error).toMatchObject({ code: 'VendorError', status: 502, vendorCode: 'InvalidTimeStamp.Expired' });
    expect(seen).toHaveLength(2);
  });
});

describe('callVendor: deadlines', () => {
  it('throws Timeout when the deadline signal aborts a hung attempt, and tries no more', async () => {
    answers = ['hang', ok()];
    const controller = new AbortController();
    const { options: opts } = options({ signal: controller.signal });
    setTimeout(() => controller.abort(), 150);
    const started = Date.now();
    const error = await failure(opts);
    expect(error).toMatchObject({ code: 'Timeout', status: 504 });
    // The per-attempt timeout (3 s by default) played no part.
    expect(Date.now() - started).toBeLessThan(1_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen).toHaveLength(1);
  });

  it('retries an attempt that outlives VENDOR_TIMEOUT_MS', async () => {
    process.env.VENDOR_TIMEOUT_MS = '150';
    answers = ['hang', ok()];
    const { options: opts, log } = options();
    const result = await call(opts);
    expect(result.vendorRequestId).toBe('req-ok');
    expect(seen).toHaveLength(2);
    expect(log.retries().map((f) => f.vendorCode)).toEqual(['Timeout']);
    // The retry waited for the attempt's timeout (150 ms), less the first arrival's own lateness.
    expect(gaps()[0]).toBeGreaterThanOrEqual(120);
  });

  it('throws VendorUnavailable when every attempt times out', async () => {
    process.env.VENDOR_TIMEOUT_MS = '100';
    answers = ['hang'];
    const error = await failure(options({ backoff: { maxAttempts: 2, baseMs: 10, capMs: 10 } }).options);
    expect(error).toMatchObject({ code: 'VendorUnavailable', vendorCode: 'Timeout' });
    expect(seen).toHaveLength(2);
  });

  it.each([
    ['is too near', 20],
    ['has passed', -1_000],
  ])('starts no attempt when the deadline %s', async (_name, leftMs) => {
    await call(options().options); // warm keys: nothing else takes time
    seen = [];
    const error = await failure(options({ deadline: Date.now() + leftMs }).options);
    expect(error).toMatchObject({ code: 'Timeout', status: 504 });
    expect(seen).toHaveLength(0);
  });

  it("answers Throttled without a request when the operation's rate limit cannot be met before the deadline", async () => {
    const limited = defineOperation({ ...op, name: 'test:Limited', ratePerSecond: 1 });
    await callVendor(limited, {}, options().options);
    const error = await callVendor(limited, {}, options({ deadline: Date.now() + 500 }).options).catch((e: unknown) => e as BrokerError);
    // The next slot is one spacing away: 1 s, widened for jitter when the limit is shared.
    expect(error).toMatchObject({ code: 'Throttled' });
    expect((error as BrokerError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((error as BrokerError).retryAfterSeconds).toBeLessThanOrEqual(2);
    expect(seen).toHaveLength(1);
  });
});

describe('callVendor: final errors', () => {
  it.each([
    [vendorError(403, 'Ram.PermissionDeny'), 'VendorAccessDenied', 403, 'Ram.PermissionDeny'],
    [vendorError(400, 'Forbidden.RAM'), 'VendorAccessDenied', 403, 'Forbidden.RAM'],
    [vendorError(404, 'CustSpace.NotFound'), 'VendorNotFound', 404, 'CustSpace.NotFound'],
    [vendorError(400, 'InvalidParameter'), 'VendorRejected', 422, 'InvalidParameter'],
    [vendorError(404, 'InvalidAction.NotFound'), 'InternalError', 500, 'InvalidAction.NotFound'],
    [{ status: 200, body: 'not json' } as Answer, 'VendorError', 502, 'HTTP 200'],
    [{ status: 400, body: '<html>bad request</html>' } as Answer, 'VendorError', 502, 'HTTP 400'],
  ])('%j → %s %i, after one attempt', async (answer, code, status, vendorCode) => {
    answers = [answer];
    const error = await failure(options().options);
    expect(error).toBeInstanceOf(BrokerError);
    expect(error).toMatchObject({ code, status, vendorCode });
    expect(seen).toHaveLength(1);
  });

  it('passes the vendor request id along', async () => {
    answers = [vendorError(400, 'InvalidParameter', {}, 'REQ-42')];
    expect(await failure(options().options)).toMatchObject({ vendorRequestId: 'REQ-42' });
  });
});

describe('callVendor: secrets', () => {
  it('puts no master key and no signature in any error it throws', async () => {
    const secret = SIMULATOR_DEFAULT_KEYS.aliyun.accessKeySecret;
    // A vendor that quotes the request back, as SignatureDoesNotMatch messages do.
    const echo = (status: number, code: string, headers: Record<string, string> = {}): Answer => ({
      status,
      body: JSON.stringify({ RequestId: 'req-echo', Code: code, Message: `${code}: ${JSON.stringify(seen.at(-1)?.headers)}` }),
      headers,
    });
    process.env.VENDOR_TIMEOUT_MS = '100';
    const scenarios: Answer[][] = [
      [echo(400, 'SignatureDoesNotMatch')],
      [echo(400, 'Throttling.User')],
      [echo(503, 'ServiceUnavailable')],
      [echo(400, 'SignatureNonceUsed')],
      [echo(403, 'NoPermission')],
      [echo(400, 'InvalidParameter')],
      ['reset'],
      ['hang'],
      [{ status: 200, body: `{"torn": "${secret}` }],
    ];
    const errors: BrokerError[] = [];
    for (const scenario of scenarios) {
      answers = scenario;
      errors.push(await failure(options({ backoff: { maxAttempts: 2, baseMs: 1, capMs: 1 } }).options));
    }
    const signatures = seen.map((s) => /Signature=([0-9a-f]+)/.exec(String(s.headers.authorization))?.[1]);
    expect(signatures.every((s) => s !== undefined && s.length === 64)).toBe(true);
    expect(errors.map((e) => e.code)).toEqual([
      'KeysUnavailable',
      'Throttled',
      'VendorUnavailable',
      'VendorError',
      'VendorAccessDenied',
      'VendorRejected',
      'VendorUnavailable',
      'VendorUnavailable',
      'VendorError',
    ]);
    for (const error of errors) {
      const text = [error.message, error.stack, JSON.stringify(error), String(error.cause ?? '')].join('\n');
      expect(text).not.toContain(secret);
      for (const signature of signatures) expect(text).not.toContain(signature);
      expect(text).not.toContain('authorization');
    }
  });
});
