import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { BrokerError } from '../../../lib/core/errors.js';
import { createLogger } from '../../../lib/core/logger.js';
import { http } from '../../../lib/runtime/triggers/http.js';
import { callVendor } from '../../../lib/runtime/vendor-call.js';
import { defineOperation } from '../../../lib/spec/operation.js';
import { classifyTencentAnswer, classifyTencentCode, tencentAdapter, tencentApi } from '../../../lib/vendor/tencent.js';
import { expectedTc3Signature, parseTc3Authorization } from '../../../sim/tencent-signature.js';
import { SIMULATOR_DEFAULT_KEYS } from '../../../sim/vendor-simulator.js';
import { KEY_PARAMETERS, useBrokerEnv } from '../../support/broker-env.js';

const KEYS = { secretId: 'AKIDunit-test', secretKey: 'unit-test-secret-key-0123' };
const TARGET = { action: 'AssumeRole', version: '2018-08-13', service: 'sts' };
const NOW = new Date('2026-03-01T23:59:58Z');

describe('classifyTencentCode (docs/vendors.md, "Tencent Cloud errors")', () => {
  it.each([
    ['RequestLimitExceeded', 'throttled'],
    ['RequestLimitExceeded.UinLimitExceeded', 'throttled'],
    ['InvalidParameter.OverLimit', 'throttled'],
    ['InternalError', 'transient'],
    ['InternalError.SystemError', 'transient'],
    ['InternalError.GetRoleError', 'transient'],
    ['AuthFailure.SignatureFailure', 'key'],
    ['AuthFailure.SecretIdNotFound', 'key'],
    ['AuthFailure.InvalidSecretId', 'key'],
    ['AuthFailure.TokenFailure', 'key'],
    ['AuthFailure.AccessKeyIllegal', 'key'],
    ['InvalidParameter.AccessKeyNotSupport', 'key'],
    ['AuthFailure.SignatureExpire', 'clock'],
    ['AuthFailure.UnauthorizedOperation', 'accessDenied'],
    ['AuthFailure.MFAFailure', 'accessDenied'],
    ['UnauthorizedOperation', 'accessDenied'],
    ['UnauthorizedOperation.NotCertification', 'accessDenied'],
    ['OperationDenied', 'accessDenied'],
    ['ResourceNotFound', 'notFound'],
    ['ResourceNotFound.RoleNotFound', 'notFound'],
    ['AuthFailure.InvalidAuthorization', 'bug'],
    ['InvalidAction', 'bug'],
    ['NoSuchVersion', 'bug'],
    ['UnknownParameter', 'bug'],
    ['UnsupportedProtocol', 'bug'],
    ['UnsupportedRegion', 'bug'],
    ['ActionOffline', 'bug'],
    ['InternalError.IllegalRole', 'rejected'],
    ['InvalidParameter', 'rejected'],
    ['InvalidParameter.ParamError', 'rejected'],
    ['InvalidParameterValue', 'rejected'],
    ['MissingParameter', 'rejected'],
    ['UnsupportedOperation', 'rejected'],
    ['ResourceUnavailable', 'rejected'],
    ['LimitExceeded', 'rejected'],
    ['FailedOperation', 'rejected'],
    ['RequestLimitExceededish', 'rejected'],
  ] as const)('%s → %s', (code, kind) => {
    expect(classifyTencentCode(code)).toBe(kind);
  });
});

describe('classifyTencentAnswer', () => {
  const headers = (h: Record<string, string> = {}) => new Headers(h);

  it('keeps the whole answer as the payload, with Response.RequestId', () => {
    const text = '{"Response":{"Credentials":{"Token":"t"},"ExpiredTime":1,"RequestId":"r-1"}}';
    expect(classifyTencentAnswer(200, headers(), text)).toEqual({ kind: 'ok', payload: JSON.parse(text), vendorRequestId: 'r-1' });
  });

  it('reads an error from Response.Error inside an HTTP 200', () => {
    const text = '{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow down"},"RequestId":"r-2"}}';
    expect(classifyTencentAnswer(200, headers({ 'retry-after': '2' }), text)).toEqual({
      kind: 'throttled',
      vendorCode: 'RequestLimitExceeded',
      vendorRequestId: 'r-2',
      retryAfterMs: 2000,
    });
  });

  it('retries an unreadable 5xx and refuses anything else unreadable', () => {
    expect(classifyTencentAnswer(502, headers(), '<html>bad gateway</html>')).toMatchObject({ kind: 'transient', vendorCode: 'HTTP 502' });
    expect(classifyTencentAnswer(200, headers(), '{"Response":')).toMatchObject({ kind: 'malformed', vendorCode: 'HTTP 200' });
    expect(classifyTencentAnswer(200, headers(), '{"RequestId":"r","Code":"OK"}')).toMatchObject({ kind: 'malformed' });
    expect(classifyTencentAnswer(200, headers(), '{"Response":{"Error":{"Message":"no code"},"RequestId":"r-3"}}')).toEqual({
      kind: 'malformed',
      vendorCode: 'HTTP 200',
      vendorRequestId: 'r-3',
    });
    expect(classifyTencentAnswer(503, headers(), '{"Response":{"RequestId":"r-4"}}')).toMatchObject({ kind: 'transient' });
  });
});

describe('tencentAdapter.sign', () => {
  const signed = tencentAdapter('ap-singapore').sign({
    endpoint: 'https://sts.tencentcloudapi.com',
    target: TARGET,
    params: { RoleArn: 'qcs::cam::uin/1:roleName/r', RoleSessionName: 's-1', DurationSeconds: 900, Absent: undefined, Tags: ['a', 'b'] },
    keys: KEYS,
    now: NOW,
  });

  it('POSTs the parameters as JSON, types kept and absent ones left out', () => {
    expect(signed.url).toBe('https://sts.tencentcloudapi.com/');
    expect(signed.method).toBe('POST');
    expect(JSON.parse(signed.body!)).toEqual({
      RoleArn: 'qcs::cam::uin/1:roleName/r',
      RoleSessionName: 's-1',
      DurationSeconds: 900,
      Tags: ['a', 'b'],
    });
  });

  it('sends the common headers: action, version, timestamp (unix seconds), region; no token', () => {
    expect(signed.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'x-tc-action': 'AssumeRole',
      'x-tc-version': '2018-08-13',
      'x-tc-timestamp': String(NOW.getTime() / 1000),
      'x-tc-region': 'ap-singapore',
    });
    expect(Object.keys(signed.headers)).not.toContain('x-tc-token');
    expect(Object.keys(signed.headers)).not.toContain('host');
  });

  it('signs content-type and host for the UTC date of the timestamp, as the simulator verifies independently', () => {
    const auth = parseTc3Authorization(signed.headers.authorization);
    expect(auth).toMatchObject({ secretId: KEYS.secretId, date: '2026-03-01', service: 'sts', signedHeaders: ['content-type', 'host'] });
    const expected = expectedTc3Signature(
      {
        method: 'POST',
        path: '/',
        query: '',
        headers: { 'content-type': signed.headers['content-type']!, host: 'sts.tencentcloudapi.com' },
        signedHeaders: ['content-type', 'host'],
        body: signed.body!,
        timestamp: NOW.getTime() / 1000,
        service: 'sts',
      },
      KEYS.secretKey,
    );
    expect(auth?.signature).toBe(expected);
    expect(JSON.stringify(signed)).not.toContain(KEYS.secretKey);
  });

  it('refuses an operation without service or version: a spec bug, never a guess', () => {
    const sign = (target: { action: string; version?: string; service?: string }) => () =>
      tencentAdapter('ap-guangzhou').sign({ endpoint: 'https://sts.tencentcloudapi.com', target, params: {}, keys: KEYS, now: NOW });
    expect(sign({ action: 'AssumeRole', version: '2018-08-13' })).toThrow(/service/);
    expect(sign({ action: 'AssumeRole', service: 'sts' })).toThrow(/version/);
  });
});

describe('callVendor with a Tencent Cloud operation, against the simulator', () => {
  const op = defineOperation({
    name: 'sts:AssumeRole',
    functionName: 'test-tencent-assume-role',
    route: '/v1/test/tencent',
    summary: 'A Tencent operation that exists only in this test',
    vendor: 'tencent',
    api: tencentApi,
    endpoint: 'TENCENT_STS_ENDPOINT',
    triggers: [http()],
    action: 'AssumeRole',
    version: '2018-08-13',
    service: 'sts',
    request: z.strictObject({ roleArn: z.string(), roleSessionName: z.string() }),
    response: { field: 'Response', data: z.object({}) },
  });
  const params = { RoleArn: 'qcs::cam::uin/100000000001:roleName/app', RoleSessionName: 'unit-test' };
  const broker = useBrokerEnv({ table: false });
  const options = () => ({ deadline: Date.now() + 10_000, logger: createLogger(), backoff: { maxAttempts: 3, baseMs: 5, capMs: 10 } });
  const savedRegion = process.env.TENCENT_REGION;

  beforeAll(() => {
    process.env.TENCENT_REGION = 'ap-shanghai';
  });
  afterAll(() => {
    if (savedRegion === undefined) delete process.env.TENCENT_REGION;
    else process.env.TENCENT_REGION = savedRegion;
    delete process.env.TENCENT_STS_ENDPOINT;
  });
  beforeEach(() => {
    process.env.TENCENT_STS_ENDPOINT = broker.sim.url;
    broker.sim.setKeys({ tencent: [SIMULATOR_DEFAULT_KEYS.tencent] });
    broker.ssm.put(KEY_PARAMETERS.tencent, SIMULATOR_DEFAULT_KEYS.tencent);
  });

  it('is accepted: the whole answer comes back, the request id read, the call recorded with TENCENT_REGION', async () => {
    const result = await callVendor(op, params, options());
    const response = result.payload?.Response as { Credentials: unknown; RequestId: string };
    expect(response.Credentials).toEqual({ Token: expect.any(String), TmpSecretId: expect.any(String), TmpSecretKey: expect.any(String) });
    expect(result.vendorRequestId).toBe(response.RequestId);
    expect(broker.sim.calls).toEqual([
      expect.objectContaining({ vendor: 'tencent', code: 'OK', secretId: SIMULATOR_DEFAULT_KEYS.tencent.secretId, region: 'ap-shanghai' }),
    ]);
    expect(broker.sim.assumeRoleCalls).toEqual([
      expect.objectContaining({ roleArn: params.RoleArn, roleSessionName: 'unit-test', code: 'OK' }),
    ]);
  });

  it('reads the key again past the cache when the vendor refuses it, and succeeds with the rotated key', async () => {
    await callVendor(op, params, options());
    const rotated = { secretId: 'sim-tencent-rotated', secretKey: 'sim-tencent-rotated-secret-99' };
    broker.sim.setKeys({ tencent: [rotated] });
    broker.ssm.put(KEY_PARAMETERS.tencent, rotated);
    await callVendor(op, params, options());
    expect(broker.sim.calls.map((call) => call.code)).toEqual(['OK', 'AuthFailure.SecretIdNotFound', 'OK']);
  });

  it('retries throttling and 5xx-like InternalError, then answers', async () => {
    broker.sim.script(
      { action: 'AssumeRole', fault: { kind: 'tencentError', code: 'RequestLimitExceeded' } },
      { action: 'AssumeRole', fault: { kind: 'tencentError', code: 'InternalError' } },
    );
    await callVendor(op, params, options());
    expect(broker.sim.calls.map((call) => call.code)).toEqual(['RequestLimitExceeded', 'InternalError', 'OK']);
  });

  it('turns refusals into the broker errors, with the vendor code and request id and no secret', async () => {
    const cases = [
      ['AuthFailure.UnauthorizedOperation', 'VendorAccessDenied'],
      ['ResourceNotFound.RoleNotFound', 'VendorNotFound'],
      ['InvalidParameter.ParamError', 'VendorRejected'],
      ['InvalidAction', 'InternalError'],
    ] as const;
    for (const [vendorCode, code] of cases) {
      broker.sim.script({ action: 'AssumeRole', fault: { kind: 'tencentError', code: vendorCode } });
      const error = (await callVendor(op, params, options()).catch((e: unknown) => e)) as BrokerError;
      expect(error).toBeInstanceOf(BrokerError);
      expect(error).toMatchObject({ code, vendorCode, vendorRequestId: expect.any(String) });
      expect(JSON.stringify({ ...error, message: error.message })).not.toMatch(/TC3-HMAC-SHA256|sim-tencent-secret/);
    }
  });

  it('refuses a bad RoleSessionName as the vendor does: VendorRejected', async () => {
    const error = (await callVendor(op, { ...params, RoleSessionName: 'bad name' }, options()).catch((e: unknown) => e)) as BrokerError;
    expect(error).toMatchObject({ code: 'VendorRejected', vendorCode: 'InvalidParameter.ParamError' });
  });
});
