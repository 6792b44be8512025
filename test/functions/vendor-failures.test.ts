import { beforeEach, describe, expect, it } from 'vitest';
import { handler as cams } from '../../functions/cams-get-upload-authorization.js';
import { handler as ims } from '../../functions/ims-provision-external-application.js';
import { handler as ufile } from '../../functions/ufile-describe-token.js';
import { httpApiEvent, lambdaContext } from '../../sim/lambda-events.js';
import { SIMULATOR_DEFAULT_KEYS } from '../../sim/vendor-simulator.js';
import { KEY_PARAMETERS, useBrokerEnv } from '../support/broker-env.js';
import { invokeHttp } from '../support/invoke-http.js';
import { captureLogs, stringsIn } from '../support/log-capture.js';

const CAMS = '/v1/aliyun/cams/upload-authorization';
const camsEvent = (custSpaceId = 'space-1') => httpApiEvent(CAMS, { custSpaceId });
const ACTION = 'GetChatappUploadAuthorization';

const broker = useBrokerEnv();
beforeEach(() => {
  broker.sim.setKeys({ aliyun: [SIMULATOR_DEFAULT_KEYS.aliyun], ucloud: [SIMULATOR_DEFAULT_KEYS.ucloud] });
  broker.ssm.put(KEY_PARAMETERS.aliyun, SIMULATOR_DEFAULT_KEYS.aliyun);
});

describe('retries', () => {
  it('retries throttling with a freshly signed request and succeeds', async () => {
    broker.sim.script({ action: ACTION, times: 2, fault: { kind: 'aliyunError', status: 400, code: 'Throttling.User' } });
    const answer = await invokeHttp(cams, camsEvent());
    expect(answer.statusCode).toBe(200);
    const calls = broker.sim.callsTo(ACTION);
    expect(calls).toHaveLength(3);
    // The simulator refuses a reused nonce, so three accepted calls mean three signatures.
    expect(new Set(calls.map((c) => c.nonce)).size).toBe(3);
  });

  it('answers 429 Throttled with Retry-After when throttling outlasts the retry budget', async () => {
    broker.sim.script({
      action: ACTION,
      times: 10,
      fault: { kind: 'aliyunError', status: 400, code: 'System.LimitControl', headers: { 'x-acs-retry-after': '1200' } },
    });
    const answer = await invokeHttp(cams, camsEvent(), lambdaContext(30_000));
    expect(answer.statusCode).toBe(429);
    expect(answer.json.error).toMatchObject({ code: 'Throttled', vendorCode: 'System.LimitControl' });
    expect(Number(answer.headers?.['Retry-After'])).toBeGreaterThanOrEqual(2);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(4);
  });

  it('retries 5xx, reset connections and network failures, then answers 503 VendorUnavailable', async () => {
    broker.sim.script(
      { action: ACTION, fault: { kind: 'status', status: 503, body: '<html>busy</html>' } },
      { action: ACTION, fault: { kind: 'reset' } },
      { action: ACTION, times: 5, fault: { kind: 'aliyunError', status: 500, code: 'InternalError' } },
    );
    const answer = await invokeHttp(cams, camsEvent(), lambdaContext(30_000));
    expect(answer.statusCode).toBe(503);
    expect(answer.json.error).toMatchObject({ code: 'VendorUnavailable', vendorCode: 'InternalError' });
    expect(broker.sim.callsTo(ACTION)).toHaveLength(4);
  });

  it('re-signs once after a refused nonce or timestamp', async () => {
    broker.sim.script({ action: ACTION, fault: { kind: 'aliyunError', status: 400, code: 'InvalidTimeStamp.Expired' } });
    expect((await invokeHttp(cams, camsEvent())).statusCode).toBe(200);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(2);
  });

  it('keeps CAMS under 5 requests per second from one instance', async () => {
    broker.coldStart();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => invokeHttp(cams, camsEvent(`limit-${i}`), lambdaContext(30_000))),
    );
    expect(answers.every((a) => a.statusCode === 200)).toBe(true);
    const times = broker.sim
      .callsTo(ACTION)
      .map((c) => c.receivedAt)
      .sort((a, b) => a - b);
    expect(times).toHaveLength(12);
    // Any six consecutive calls span at least a second (less a little timer slack).
    for (let i = 5; i < times.length; i++) expect(times[i]! - times[i - 5]!).toBeGreaterThanOrEqual(990);
  });

  it('does not retry what retrying cannot fix', async () => {
    broker.sim.script({ action: ACTION, fault: { kind: 'aliyunError', status: 400, code: 'InvalidParameter' } });
    const answer = await invokeHttp(cams, camsEvent());
    expect(answer.statusCode).toBe(422);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(1);
  });
});

describe('the error table', () => {
  it.each([
    [{ kind: 'aliyunError', status: 400, code: 'Ram.PermissionDeny' }, 403, 'VendorAccessDenied'],
    [{ kind: 'aliyunError', status: 400, code: 'Product.Unsubscript' }, 403, 'VendorAccessDenied'],
    [{ kind: 'aliyunError', status: 404, code: 'CustSpace.NotFound' }, 404, 'VendorNotFound'],
    [{ kind: 'aliyunError', status: 400, code: 'InvalidCustSpaceId.Malformed' }, 422, 'VendorRejected'],
    [{ kind: 'malformed', body: '{"RequestId":"x","Code":"OK","Data":{"AccessKeyId":7}}' }, 502, 'VendorError'],
    [{ kind: 'malformed', body: 'not json at all' }, 502, 'VendorError'],
  ] as const)('%o → %i %s', async (fault, status, code) => {
    broker.sim.script({ action: ACTION, fault });
    const answer = await invokeHttp(cams, camsEvent());
    expect(answer.statusCode).toBe(status);
    expect(answer.json.error.code).toBe(code);
    expect(answer.headers).toMatchObject({ 'Cache-Control': 'no-store', 'Content-Type': 'application/json' });
  });

  it.each([
    [153, 429, 'Throttled', 4],
    [293, 403, 'VendorAccessDenied', 1],
    [292, 404, 'VendorNotFound', 1],
    [230, 422, 'VendorRejected', 1],
    [160, 500, 'InternalError', 1],
  ] as const)('UCloud RetCode %i → %i %s', async (retCode, status, code, calls) => {
    broker.sim.script({ action: 'DescribeUFileToken', times: 10, fault: { kind: 'ucloudError', retCode } });
    const answer = await invokeHttp(ufile, httpApiEvent('/v1/ucloud/ufile/tokens', {}), lambdaContext(30_000));
    expect(answer.statusCode).toBe(status);
    expect(answer.json.error).toMatchObject({ code, vendorCode: `RetCode ${retCode}` });
    expect(broker.sim.callsTo('DescribeUFileToken')).toHaveLength(calls);
  });

  it('answers 504 Timeout before the Lambda deadline when the vendor hangs', async () => {
    broker.sim.script({ action: ACTION, fault: { kind: 'hang' } });
    const context = lambdaContext(1_500);
    const started = Date.now();
    const answer = await invokeHttp(cams, camsEvent(), context);
    expect(answer.statusCode).toBe(504);
    expect(answer.json.error.code).toBe('Timeout');
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  it('treats an application already provisioned as asked as success, answering what the vendor reads back', async () => {
    const event = httpApiEvent('/v1/aliyun/ims/external-applications', { appId: '4035506116466040002', scopes: ['openid', 'aliuid'] });
    expect((await invokeHttp(ims, event)).statusCode).toBe(200);
    const again = await invokeHttp(
      ims,
      httpApiEvent('/v1/aliyun/ims/external-applications', { appId: '4035506116466040002', scopes: ['aliuid'] }),
    );
    expect(again.statusCode).toBe(200);
    expect(again.json).toMatchObject({ alreadyProvisioned: true, data: { foreignAppId: '4035506116466040002' } });
    expect(broker.sim.calls.map((c) => c.action)).toEqual([
      'ProvisionExternalApplication',
      'ProvisionExternalApplication',
      'GetExternalApplication',
    ]);
  });

  it('refuses a repeat that asks for scopes the installed application lacks, counting them (a value from the request never goes into an error message)', async () => {
    const route = '/v1/aliyun/ims/external-applications';
    expect((await invokeHttp(ims, httpApiEvent(route, { appId: '4035506116466040003', scopes: ['openid'] }))).statusCode).toBe(200);
    const wider = await invokeHttp(ims, httpApiEvent(route, { appId: '4035506116466040003', scopes: ['openid', 'aliuid', 'profile'] }));
    expect(wider.statusCode).toBe(422);
    expect(wider.json.error).toMatchObject({ code: 'VendorRejected', vendorCode: 'AlreadyDoneDiffers' });
    expect(wider.json.error.message).toMatch(/without 2 of the scopes asked for/);
    expect(wider.json.error.message).not.toMatch(/aliuid|profile/);
  });
});

describe('keys', () => {
  it('picks up a master key rotated in SSM when the vendor refuses the cached one', async () => {
    expect((await invokeHttp(cams, camsEvent())).statusCode).toBe(200); // caches the old key
    const rotated = { accessKeyId: 'sim-aliyun-id-2', accessKeySecret: 'sim-aliyun-secret-rotated-7d1e' };
    broker.sim.setKeys({ aliyun: [rotated] });
    broker.ssm.put(KEY_PARAMETERS.aliyun, rotated);
    broker.ssm.clearRequests();

    const answer = await invokeHttp(cams, camsEvent('space-2'));
    expect(answer.statusCode).toBe(200);
    const calls = broker.sim.callsTo(ACTION);
    expect(calls.at(-2)).toMatchObject({ accessKeyId: SIMULATOR_DEFAULT_KEYS.aliyun.accessKeyId, code: 'InvalidAccessKeyId.NotFound' });
    expect(calls.at(-1)).toMatchObject({ accessKeyId: 'sim-aliyun-id-2', code: 'OK' });
    // One key read past the cache.
    expect(broker.ssm.requests.filter((r) => r.names.includes(KEY_PARAMETERS.aliyun))).toHaveLength(1);
  });

  it('answers 503 KeysUnavailable when the vendor refuses even the re-read key', async () => {
    broker.sim.setKeys({ aliyun: [{ accessKeyId: 'someone-else', accessKeySecret: 'not-ours-at-all' }] });
    const answer = await invokeHttp(cams, camsEvent());
    expect(answer.statusCode).toBe(503);
    expect(answer.json.error.code).toBe('KeysUnavailable');
    expect(broker.sim.callsTo(ACTION)).toHaveLength(2);
  });

  it('answers 503 KeysUnavailable when the key parameter is missing or malformed', async () => {
    broker.ssm.delete(KEY_PARAMETERS.aliyun);
    const missing = await invokeHttp(cams, camsEvent());
    broker.ssm.put(KEY_PARAMETERS.aliyun, { accessKeyId: 'only-half' });
    const malformed = await invokeHttp(cams, camsEvent());
    for (const answer of [missing, malformed]) {
      expect(answer.statusCode).toBe(503);
      expect(answer.json.error.code).toBe('KeysUnavailable');
    }
    expect(broker.sim.calls).toHaveLength(0);
  });

  it('answers 503 ConfigurationError, naming no value, when a variable is invalid', async () => {
    const previous = process.env.ALIYUN_CAMS_ENDPOINT;
    process.env.ALIYUN_CAMS_ENDPOINT = 'not a url';
    try {
      const answer = await invokeHttp(cams, camsEvent());
      expect(answer.statusCode).toBe(503);
      expect(answer.json.error).toMatchObject({ code: 'ConfigurationError' });
      expect(answer.body).not.toContain('not a url');
    } finally {
      process.env.ALIYUN_CAMS_ENDPOINT = previous;
    }
    expect(broker.sim.calls).toHaveLength(0);
  });
});

describe('HMAC-SHA1 signing', () => {
  it('signs with RPC SignatureVersion 1.0 when ALIYUN_SIGNATURE says so', async () => {
    process.env.ALIYUN_SIGNATURE = 'HMAC-SHA1';
    try {
      const answer = await invokeHttp(cams, camsEvent());
      expect(answer.statusCode).toBe(200);
      expect(broker.sim.callsTo(ACTION)[0]).toMatchObject({ signatureMethod: 'HMAC-SHA1', code: 'OK' });
    } finally {
      delete process.env.ALIYUN_SIGNATURE;
    }
  });
});

describe('secrets', () => {
  it('never reach a log line or an error body', async () => {
    const logs = captureLogs();
    const answers = [];
    try {
      answers.push(await invokeHttp(cams, camsEvent()));
      broker.sim.script({ action: ACTION, times: 10, fault: { kind: 'aliyunError', status: 400, code: 'Throttling' } });
      answers.push(await invokeHttp(cams, camsEvent('space-3'), lambdaContext(30_000)));
      broker.sim.setKeys({ aliyun: [{ accessKeyId: 'x-other', accessKeySecret: 'x-other-secret' }] });
      answers.push(await invokeHttp(cams, camsEvent('space-4')));
      answers.push(await invokeHttp(ufile, httpApiEvent('/v1/ucloud/ufile/tokens', {})));
    } finally {
      logs.restore();
    }
    const [ok, , , ufileOk] = answers;
    const returnedSecrets = [
      ok!.json.data.accessKeySecret,
      ok!.json.data.securityToken,
      ...(ufileOk!.json.data as { privateKey: string }[]).map((t) => t.privateKey),
    ];
    const secrets = [SIMULATOR_DEFAULT_KEYS.aliyun.accessKeySecret, SIMULATOR_DEFAULT_KEYS.ucloud.privateKey, ...returnedSecrets];
    expect(returnedSecrets.every((s) => typeof s === 'string' && s.length > 5)).toBe(true);
    expect(logs.records().length).toBeGreaterThan(4);
    const errorBodies = answers.filter((a) => a.statusCode !== 200).map((a) => a.body);
    for (const secret of secrets) {
      for (const line of logs.lines) expect(line).not.toContain(secret);
      for (const body of errorBodies) expect(body).not.toContain(secret);
    }
    // Signatures travel in the Authorization header and must not appear either.
    expect(stringsIn(logs.records()).some((s) => /Signature=|ACS3-HMAC-SHA256 Credential/.test(s))).toBe(false);
  });
});
