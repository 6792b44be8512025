import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  acs3CanonicalRequest,
  expectedAcs3Signature,
  expectedRpcSignature,
  expectedUcloudSignature,
  SIMULATOR_DEFAULT_KEYS,
  SIMULATOR_UFILE_TOKENS,
  startVendorSimulator,
  ucloudValueText,
  type VendorSimulator,
} from '../../sim/vendor-simulator.js';
import {
  type AliyunTestInput,
  type AliyunTestKey,
  aliyunTimestamp,
  freshNonce,
  send,
  signAliyunRpc,
  signAliyunV3,
  signUcloud,
  ucloudSignature,
} from '../support/sign-for-tests.js';
import { ACS3_EXAMPLE, EMPTY_SHA256, HMAC_SHA1_EXAMPLE, UCLOUD_EXAMPLE } from '../support/vendor-examples.js';

const KEY: AliyunTestKey = SIMULATOR_DEFAULT_KEYS.aliyun;
const UKEY = SIMULATOR_DEFAULT_KEYS.ucloud;

const BPSTUDIO = { action: 'GetToken', version: '2021-09-31' } as const;
const CAMS = { action: 'GetChatappUploadAuthorization', version: '2020-06-06' } as const;
const IMS = { action: 'ProvisionExternalApplication', version: '2019-08-15' } as const;

const UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/i;
const ERROR_KEYS = ['Code', 'HostId', 'Message', 'Recommend', 'RequestId'];

type Style = 'v3' | 'rpc';
const SIGNERS = { v3: signAliyunV3, rpc: signAliyunRpc };
const STYLES: Style[] = ['v3', 'rpc'];

let sim: VendorSimulator;

beforeAll(async () => {
  sim = await startVendorSimulator();
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.reset();
  sim.setKeys({ aliyun: [KEY], ucloud: [UKEY] });
});

type AliyunCall = Omit<AliyunTestInput, 'baseUrl' | 'key'> & { key?: AliyunTestKey };

function signAliyun(style: Style, input: AliyunCall) {
  return SIGNERS[style]({ baseUrl: sim.url, key: KEY, ...input });
}

function callAliyun(style: Style, input: AliyunCall, signal?: AbortSignal) {
  return send(signAliyun(style, input), signal);
}

function callUfile(params: Record<string, string | number | boolean> = {}, options: { key?: typeof UKEY; method?: 'GET' | 'POST' } = {}) {
  return send(
    signUcloud({
      baseUrl: sim.url,
      key: options.key ?? UKEY,
      params: { Action: 'DescribeUFileToken', ...params },
      method: options.method ?? 'POST',
    }),
  );
}

function minutesAgo(minutes: number): string {
  return aliyunTimestamp(new Date(Date.now() - minutes * 60_000));
}

describe("signature math on the vendors' official examples", () => {
  it('V3: canonical request hash and signature of the RunInstances example', () => {
    const { request, signedHeaders, hashedCanonicalRequest, credentials, signature } = ACS3_EXAMPLE;
    const input = {
      method: request.method,
      path: request.path,
      query: request.query,
      headers: request.headers,
      signedHeaders: signedHeaders.split(';'),
      payloadHash: EMPTY_SHA256,
    };
    expect(createHash('sha256').update(acs3CanonicalRequest(input)).digest('hex')).toBe(hashedCanonicalRequest);
    expect(expectedAcs3Signature(input, credentials.accessKeySecret)).toBe(signature);
  });

  it('HMAC-SHA1: the DescribeRegions example', () => {
    const { method, params, secret, signature } = HMAC_SHA1_EXAMPLE;
    expect(expectedRpcSignature(method, params, secret)).toBe(signature);
  });

  it('UCloud: the DescribeUHostInstance example, in the simulator and in the test signer', () => {
    const { publicKey, privateKey, signature } = UCLOUD_EXAMPLE;
    const params = { ...UCLOUD_EXAMPLE.params, Limit: '10', PublicKey: publicKey };
    expect(expectedUcloudSignature(params, privateKey)).toBe(signature);
    expect(ucloudSignature({ ...params, Limit: 10 }, privateKey)).toBe(signature);
  });

  it('UCloud value text: booleans, integers without .0, no exponent', () => {
    expect([true, false, 42.0, 7, 0.5, 1e21, 'x'].map((v) => ucloudValueText(v))).toEqual([
      'true',
      'false',
      '42',
      '7',
      '0.5',
      '1000000000000000000000',
      'x',
    ]);
  });
});

describe.each(STYLES)('Alibaba Cloud success answers (%s)', (style) => {
  it('BPStudio GetToken with ResourceGroupId in a form body', async () => {
    const answer = await callAliyun(style, { ...BPSTUDIO, form: { ResourceGroupId: 'rg-sim-1' } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(answer.json).sort()).toEqual(['Code', 'Data', 'Message', 'RequestId']);
    expect(answer.json).toMatchObject({ Code: '200', Message: 'Success', RequestId: expect.stringMatching(UUID) });
    expect(Object.keys(answer.json.Data).sort()).toEqual(
      ['AccessKeyId', 'AccessKeySecret', 'Bucket', 'Endpoint', 'SecurityToken', 'SnapshotBucket', 'UploadPrefix'].sort(),
    );
    for (const value of Object.values(answer.json.Data)) expect(value).toEqual(expect.any(String));

    const call = sim.calls[0]!;
    expect(call).toMatchObject({
      vendor: 'aliyun',
      action: 'GetToken',
      params: { ResourceGroupId: 'rg-sim-1' },
      body: { ResourceGroupId: 'rg-sim-1' },
      signatureMethod: style === 'v3' ? 'ACS3-HMAC-SHA256' : 'HMAC-SHA1',
      accessKeyId: KEY.accessKeyId,
      code: 'OK',
      status: 200,
    });
    expect(call.nonce).toEqual(expect.any(String));
  });

  it('BPStudio GetToken with no parameters, fresh credentials each call', async () => {
    const first = await callAliyun(style, BPSTUDIO);
    const second = await callAliyun(style, BPSTUDIO);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.json.Data.AccessKeyId).not.toBe(second.json.Data.AccessKeyId);
    expect(first.json.Data.SecurityToken).not.toBe(second.json.Data.SecurityToken);
    expect(first.json.RequestId).not.toBe(second.json.RequestId);
    expect(sim.callsTo('GetToken')).toHaveLength(2);
  });

  it('CAMS GetChatappUploadAuthorization with CustSpaceId in the query', async () => {
    const answer = await callAliyun(style, { ...CAMS, query: { CustSpaceId: 'cs-0042' } });
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.json).sort()).toEqual(['AccessDeniedDetail', 'Code', 'Data', 'Message', 'RequestId']);
    expect(answer.json).toMatchObject({ Code: 'OK', Message: 'None', AccessDeniedDetail: 'None' });
    expect(Object.keys(answer.json.Data).sort()).toEqual(
      ['AccessKeyId', 'AccessKeySecret', 'BucketName', 'Dir', 'EndPoint', 'Expire', 'SecurityToken'].sort(),
    );
    expect(answer.json.Data.Expire).toBe(3600);
    expect(answer.json.Data.Dir).toContain('cs-0042');
    expect(sim.calls[0]).toMatchObject({ params: { CustSpaceId: 'cs-0042' }, query: expect.objectContaining({ CustSpaceId: 'cs-0042' }) });
  });

  it('IMS ProvisionExternalApplication: one PredefinedScope per scope, then 409 for the same AppId', async () => {
    const appId = `app-${randomUUID()}`;
    const answer = await callAliyun(style, { ...IMS, query: { AppId: appId, Scopes: 'openid;aliuid' } });
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.json).sort()).toEqual(['ExternalApplication', 'RequestId']);
    const app = answer.json.ExternalApplication;
    expect(Object.keys(app).sort()).toEqual(
      ['AppPrincipalName', 'CreateDate', 'DelegatedScope', 'DisplayName', 'ForeignAppId', 'TenantId', 'UpdateDate'].sort(),
    );
    expect(app.ForeignAppId).toBe(appId);
    expect(app.CreateDate).toMatch(/^\d{13}$/);
    expect(app.DelegatedScope.PredefinedScopes.PredefinedScope.map((s: { Name: string }) => s.Name)).toEqual(['openid', 'aliuid']);
    expect(app.DelegatedScope.PredefinedScopes.PredefinedScope[0]).toEqual({ Description: expect.any(String), Name: 'openid' });

    const again = await callAliyun(style, { ...IMS, query: { AppId: appId } });
    expect(again.status).toBe(409);
    expect(again.json.Code).toBe('EntityAlreadyExists.ExternalApplication');
  });
});

describe('UCloud DescribeUFileToken success answers', () => {
  const TOKEN_KEYS = [
    'AllowedBuckets',
    'AllowedOps',
    'AllowedPrefixes',
    'BlackIPList',
    'CreateTime',
    'ExpireTime',
    'ModifyTime',
    'PrivateKey',
    'PublicKey',
    'Region',
    'TokenId',
    'TokenName',
    'WhiteIPList',
  ];

  it('POST with a JSON body returns both tokens, ExpireTime a day ahead', async () => {
    const before = Math.floor(Date.now() / 1000);
    const answer = await callUfile({ Region: 'cn-sh2', ProjectId: 'org-sim' });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ RetCode: 0, Action: 'DescribeUFileTokenResponse' });
    expect(answer.json.DataSet).toHaveLength(2);
    const [token] = answer.json.DataSet;
    expect(Object.keys(token).sort()).toEqual(TOKEN_KEYS);
    expect(token).toMatchObject({
      Region: 'cn-sh2',
      TokenId: SIMULATOR_UFILE_TOKENS[0].tokenId,
      TokenName: SIMULATOR_UFILE_TOKENS[0].tokenName,
    });
    expect(token.ExpireTime).toBeGreaterThanOrEqual(before + 86_400);
    expect(token.ExpireTime).toBeLessThanOrEqual(before + 86_400 + 5);
    expect(sim.calls[0]).toMatchObject({
      vendor: 'ucloud',
      action: 'DescribeUFileToken',
      signatureMethod: 'UCLOUD-SHA1',
      publicKey: UKEY.publicKey,
      params: { Region: 'cn-sh2', ProjectId: 'org-sim' },
      code: '0',
      status: 200,
    });
  });

  it('filters by TokenId and by TokenName', async () => {
    const byId = await callUfile({ TokenId: SIMULATOR_UFILE_TOKENS[1].tokenId });
    expect(byId.json.DataSet.map((t: { TokenName: string }) => t.TokenName)).toEqual([SIMULATOR_UFILE_TOKENS[1].tokenName]);
    const byName = await callUfile({ TokenName: SIMULATOR_UFILE_TOKENS[0].tokenName });
    expect(byName.json.DataSet.map((t: { TokenId: string }) => t.TokenId)).toEqual([SIMULATOR_UFILE_TOKENS[0].tokenId]);
    const none = await callUfile({ TokenName: 'no-such-token' });
    expect(none.json).toMatchObject({ RetCode: 0, DataSet: [] });
  });

  it('signs JSON numbers and booleans as UCloud does (Display as an integer, partial view)', async () => {
    const answer = await callUfile({ Display: 0, Verbose: false });
    expect(answer.json.RetCode).toBe(0);
    expect(answer.json.DataSet[0]).not.toHaveProperty('WhiteIPList');
    expect(sim.calls[0]?.params).toMatchObject({ Display: '0', Verbose: 'false' });
  });

  it('accepts GET with query parameters', async () => {
    const answer = await callUfile({ Region: 'cn-bj', Display: 2 }, { method: 'GET' });
    expect(answer.json.RetCode).toBe(0);
    expect(answer.json.DataSet).toHaveLength(2);
    expect(sim.calls[0]).toMatchObject({ method: 'GET', params: { Region: 'cn-bj', Display: '2' } });
  });
});

describe.each(STYLES)('Alibaba Cloud refusals (%s)', (style) => {
  it('bad signature → 400 SignatureDoesNotMatch, in the vendor error shape', async () => {
    const answer = await callAliyun(style, { ...CAMS, query: { CustSpaceId: 'cs' }, key: { ...KEY, accessKeySecret: 'not-the-secret' } });
    expect(answer.status).toBe(400);
    expect(Object.keys(answer.json).sort()).toEqual(ERROR_KEYS);
    expect(answer.json.Code).toBe('SignatureDoesNotMatch');
    expect(answer.json.HostId).toBe('cams.ap-southeast-1.aliyuncs.com');
    expect(sim.calls[0]).toMatchObject({ code: 'SignatureDoesNotMatch', status: 400 });
  });

  it('a parameter changed after signing → SignatureDoesNotMatch', async () => {
    const request = signAliyun(style, { ...CAMS, query: { CustSpaceId: 'cs-1' } });
    const answer = await send({ ...request, url: request.url.replace('CustSpaceId=cs-1', 'CustSpaceId=cs-2') });
    expect(answer.json.Code).toBe('SignatureDoesNotMatch');
  });

  it('unknown AccessKeyId → 404 InvalidAccessKeyId.NotFound', async () => {
    const answer = await callAliyun(style, { ...BPSTUDIO, key: { accessKeyId: 'sim-nobody', accessKeySecret: 'x' } });
    expect(answer.status).toBe(404);
    expect(answer.json.Code).toBe('InvalidAccessKeyId.NotFound');
  });

  it('timestamp more than 15 minutes off → 400 InvalidTimeStamp.Expired; 14 minutes is fine', async () => {
    const stale = await callAliyun(style, { ...BPSTUDIO, timestamp: minutesAgo(16) });
    expect(stale.status).toBe(400);
    expect(stale.json.Code).toBe('InvalidTimeStamp.Expired');
    const ahead = await callAliyun(style, { ...BPSTUDIO, timestamp: minutesAgo(-16) });
    expect(ahead.json.Code).toBe('InvalidTimeStamp.Expired');
    const recent = await callAliyun(style, { ...BPSTUDIO, timestamp: minutesAgo(14) });
    expect(recent.status).toBe(200);
  });

  it('timestamp in another format → InvalidTimeStamp.Format', async () => {
    const answer = await callAliyun(style, { ...BPSTUDIO, timestamp: new Date().toISOString() });
    expect(answer.json.Code).toBe('InvalidTimeStamp.Format');
  });

  it('nonce seen before → 400 SignatureNonceUsed; a forged request does not burn the nonce', async () => {
    const nonce = freshNonce();
    const forged = await callAliyun(style, { ...BPSTUDIO, nonce, key: { ...KEY, accessKeySecret: 'forged' } });
    expect(forged.json.Code).toBe('SignatureDoesNotMatch');
    expect((await callAliyun(style, { ...BPSTUDIO, nonce })).status).toBe(200);
    const replay = await callAliyun(style, { ...BPSTUDIO, nonce });
    expect(replay.status).toBe(400);
    expect(replay.json.Code).toBe('SignatureNonceUsed');
  });

  it('wrong version → 400 InvalidVersion; unknown action → 404 InvalidAction.NotFound', async () => {
    const version = await callAliyun(style, { ...CAMS, version: '2019-01-01', query: { CustSpaceId: 'cs' } });
    expect([version.status, version.json.Code]).toEqual([400, 'InvalidVersion']);
    const action = await callAliyun(style, { action: 'GetEverything', version: '2020-06-06' });
    expect([action.status, action.json.Code]).toEqual([404, 'InvalidAction.NotFound']);
  });

  it('missing required parameter → 400 Missing<Name>', async () => {
    const cams = await callAliyun(style, CAMS);
    expect([cams.status, cams.json.Code]).toEqual([400, 'MissingCustSpaceId']);
    const ims = await callAliyun(style, { ...IMS, query: { Scopes: 'openid' } });
    expect([ims.status, ims.json.Code]).toEqual([400, 'MissingAppId']);
  });
});

describe('Alibaba Cloud V3 specifics', () => {
  it('a body that does not match x-acs-content-sha256 is refused', async () => {
    const request = signAliyunV3({ baseUrl: sim.url, key: KEY, ...BPSTUDIO, form: { ResourceGroupId: 'rg-a' } });
    const answer = await send({ ...request, body: 'ResourceGroupId=rg-b' });
    expect([answer.status, answer.json.Code]).toEqual([400, 'SignatureDoesNotMatch']);
  });

  it('an x-acs-* header present but not signed → IncompleteSignature', async () => {
    const request = signAliyunV3({ baseUrl: sim.url, key: KEY, ...BPSTUDIO });
    const answer = await send({ ...request, headers: { ...request.headers, 'x-acs-extra': 'sneaky' } });
    expect([answer.status, answer.json.Code]).toEqual([400, 'IncompleteSignature']);
  });

  it('no Authorization header → IncompleteSignature', async () => {
    const request = signAliyunV3({ baseUrl: sim.url, key: KEY, ...BPSTUDIO });
    const { authorization: _dropped, ...headers } = request.headers;
    const answer = await send({ ...request, headers });
    expect(answer.json.Code).toBe('IncompleteSignature');
  });
});

describe('UCloud refusals (HTTP 200, non-zero RetCode)', () => {
  it('unknown PublicKey → 172', async () => {
    const answer = await callUfile({}, { key: { publicKey: 'sim-nobody', privateKey: 'x' } });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ RetCode: 172, Action: 'DescribeUFileTokenResponse', Message: expect.any(String) });
  });

  it('bad signature → 171, also when a value changes after signing', async () => {
    const wrongKey = await callUfile({}, { key: { ...UKEY, privateKey: 'not-the-key' } });
    expect(wrongKey.json.RetCode).toBe(171);
    const request = signUcloud({ baseUrl: sim.url, key: UKEY, params: { Action: 'DescribeUFileToken', Display: 1 } });
    const tampered = await send({ ...request, body: request.body!.replace('"Display":1', '"Display":0') });
    expect(tampered.json.RetCode).toBe(171);
    expect(sim.calls.map((c) => c.code)).toEqual(['171', '171']);
  });

  it('a numeric value signed as 42 verifies whether sent as 42 or 42.0', async () => {
    const request = signUcloud({ baseUrl: sim.url, key: UKEY, params: { Action: 'DescribeUFileToken', Display: 42 } });
    const answer = await send({ ...request, body: request.body!.replace('"Display":42', '"Display":42.0') });
    expect(answer.json.RetCode).toBe(0);
  });

  it('unknown Action → 161 (the official Go SDK\'s "Action [X] not found"), missing Action → 160', async () => {
    const unknown = await send(signUcloud({ baseUrl: sim.url, key: UKEY, params: { Action: 'DescribeEverything' } }));
    expect(unknown.json).toMatchObject({ RetCode: 161, Action: 'DescribeEverythingResponse' });
    const missing = await send(signUcloud({ baseUrl: sim.url, key: UKEY, params: { Region: 'cn-bj' } }));
    expect(missing.json.RetCode).toBe(160);
  });
});

describe('scripted faults', () => {
  it('aliyunError: status, code and headers, once, then normal answers', async () => {
    sim.script({ fault: { kind: 'aliyunError', status: 400, code: 'Throttling.User', headers: { 'x-acs-retry-after': '1000' } } });
    const throttled = await callAliyun('v3', BPSTUDIO);
    expect(throttled.status).toBe(400);
    expect(throttled.json.Code).toBe('Throttling.User');
    expect(Object.keys(throttled.json).sort()).toEqual(ERROR_KEYS);
    expect(throttled.headers.get('x-acs-retry-after')).toBe('1000');
    expect((await callAliyun('v3', BPSTUDIO)).status).toBe(200);
    expect(sim.calls.map((c) => [c.fault, c.code])).toEqual([
      ['aliyunError', 'Throttling.User'],
      [undefined, 'OK'],
    ]);
  });

  it('ucloudError: HTTP 200 with the RetCode and Message', async () => {
    sim.script({ action: 'DescribeUFileToken', fault: { kind: 'ucloudError', retCode: 153, message: 'throttled' } });
    const answer = await callUfile();
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ Action: 'DescribeUFileTokenResponse', RetCode: 153, Message: 'throttled' });
  });

  it('status: a 503 gateway page', async () => {
    sim.script({ fault: { kind: 'status', status: 503 } });
    const answer = await callAliyun('rpc', BPSTUDIO);
    expect(answer.status).toBe(503);
    expect(answer.headers.get('content-type')).toBe('text/html');
    expect(answer.text).toContain('<html>');
    expect(answer.json).toBeUndefined();
    expect(sim.calls[0]).toMatchObject({ code: 'HTTP 503', status: 503, fault: 'status' });
  });

  it('malformed: 200 with the given body', async () => {
    sim.script({ fault: { kind: 'malformed', body: '{"RequestId": "torn' } });
    const answer = await callAliyun('v3', { ...CAMS, query: { CustSpaceId: 'cs' } });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('{"RequestId": "torn');
  });

  it('reset: the connection is destroyed', async () => {
    sim.script({ fault: { kind: 'reset' } });
    await expect(callAliyun('v3', BPSTUDIO)).rejects.toThrow();
    expect(sim.calls[0]).toMatchObject({ code: 'reset', status: 0, fault: 'reset' });
  });

  it('delay: answers normally after the delay', async () => {
    sim.script({ fault: { kind: 'delay', ms: 300 } });
    const started = Date.now();
    const answer = await callAliyun('v3', BPSTUDIO);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(answer.status).toBe(200);
    expect(sim.calls[0]).toMatchObject({ code: 'OK', fault: 'delay' });
  });

  it('hang: never answers (the client gives up), the next request is served', async () => {
    sim.script({ fault: { kind: 'hang' } });
    await expect(callAliyun('v3', BPSTUDIO, AbortSignal.timeout(200))).rejects.toThrow();
    expect(sim.calls[0]).toMatchObject({ code: 'hang', status: 0 });
    expect((await callAliyun('v3', BPSTUDIO)).status).toBe(200);
  });

  it('times and FIFO order', async () => {
    sim.script(
      { times: 2, fault: { kind: 'aliyunError', status: 503, code: 'ServiceUnavailable' } },
      { fault: { kind: 'aliyunError', status: 500, code: 'InternalError' } },
    );
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await callAliyun('v3', BPSTUDIO)).status);
    expect(statuses).toEqual([503, 503, 500, 200]);
  });

  it('a rule for one action leaves other actions alone', async () => {
    sim.script({ action: CAMS.action, fault: { kind: 'aliyunError', status: 400, code: 'System.LimitControl' } });
    expect((await callAliyun('v3', BPSTUDIO)).status).toBe(200);
    const cams = await callAliyun('v3', { ...CAMS, query: { CustSpaceId: 'cs' } });
    expect(cams.json.Code).toBe('System.LimitControl');
  });

  it('applies only after verification: a refused request neither gets nor consumes the fault', async () => {
    sim.script({ fault: { kind: 'aliyunError', status: 400, code: 'Throttling' } });
    const nonce = freshNonce();
    expect((await callAliyun('v3', { ...BPSTUDIO, nonce })).json.Code).toBe('Throttling');
    // The retry reuses the nonce: refused as a replay, the queued fault (none left) not involved.
    expect((await callAliyun('v3', { ...BPSTUDIO, nonce })).json.Code).toBe('SignatureNonceUsed');
    sim.script({ fault: { kind: 'aliyunError', status: 400, code: 'Throttling' } });
    expect((await callAliyun('v3', { ...BPSTUDIO, timestamp: minutesAgo(30) })).json.Code).toBe('InvalidTimeStamp.Expired');
    expect((await callAliyun('v3', BPSTUDIO)).json.Code).toBe('Throttling');
  });

  it('close() ends hung requests', async () => {
    const own = await startVendorSimulator();
    own.script({ fault: { kind: 'hang' } });
    const pending = send(signAliyunV3({ baseUrl: own.url, key: KEY, ...BPSTUDIO }));
    const settled = pending.then(
      () => 'answered',
      () => 'failed',
    );
    while (own.calls.length === 0) await new Promise((r) => setTimeout(r, 10));
    await own.close();
    expect(await settled).toBe('failed');
  });
});

describe('keys and options', () => {
  it('setKeys rotates the accepted master keys', async () => {
    const rotatedAliyun = { accessKeyId: 'sim-aliyun-id-2', accessKeySecret: 'sim-aliyun-secret-rotated-91c3' };
    const rotatedUcloud = { publicKey: 'sim-ucloud-public-2', privateKey: 'sim-ucloud-private-rotated-6d2a' };
    sim.setKeys({ aliyun: [rotatedAliyun], ucloud: [rotatedUcloud] });

    expect((await callAliyun('v3', BPSTUDIO)).json.Code).toBe('InvalidAccessKeyId.NotFound');
    expect((await callAliyun('v3', { ...BPSTUDIO, key: rotatedAliyun })).status).toBe(200);
    expect((await callUfile()).json.RetCode).toBe(172);
    expect((await callUfile({}, { key: rotatedUcloud })).json.RetCode).toBe(0);
  });

  it("setKeys with one vendor leaves the other vendor's keys", async () => {
    sim.setKeys({ ucloud: [{ publicKey: 'sim-other', privateKey: 'sim-other-private' }] });
    expect((await callAliyun('rpc', BPSTUDIO)).status).toBe(200);
  });

  it('takes keys, CAMS Expire and UFile lifetime from the options', async () => {
    const key = { accessKeyId: 'sim-custom-id', accessKeySecret: 'sim-custom-secret-44f0' };
    const own = await startVendorSimulator({ aliyunKeys: [key], camsExpireSeconds: 900, ufileLifetimeSeconds: 600 });
    try {
      const cams = await send(signAliyunV3({ baseUrl: own.url, key, ...CAMS, query: { CustSpaceId: 'cs' } }));
      expect(cams.json.Data.Expire).toBe(900);
      const refused = await send(signAliyunV3({ baseUrl: own.url, key: KEY, ...BPSTUDIO }));
      expect(refused.json.Code).toBe('InvalidAccessKeyId.NotFound');
      const ufile = await send(signUcloud({ baseUrl: own.url, key: UKEY, params: { Action: 'DescribeUFileToken' } }));
      const now = Math.floor(Date.now() / 1000);
      expect(ufile.json.DataSet[0].ExpireTime - now).toBeGreaterThanOrEqual(595);
      expect(ufile.json.DataSet[0].ExpireTime - now).toBeLessThanOrEqual(600);
    } finally {
      await own.close();
    }
  });

  it('listens on the port it is given', async () => {
    const probe = await startVendorSimulator();
    const port = probe.port;
    await probe.close();
    const own = await startVendorSimulator({ port });
    try {
      expect(own.url).toBe(`http://127.0.0.1:${port}`);
      expect((await send(signAliyunV3({ baseUrl: own.url, key: KEY, ...BPSTUDIO }))).status).toBe(200);
    } finally {
      await own.close();
    }
  });

  it('log: one JSON line per call on stderr, without secrets or parameters', async () => {
    const own = await startVendorSimulator({ log: true });
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await send(signAliyunV3({ baseUrl: own.url, key: KEY, ...CAMS, query: { CustSpaceId: 'cs-logged' } }));
      const lines = write.mock.calls.map(([chunk]) => String(chunk)).filter((line) => line.includes('"simulator"'));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!).simulator).toMatchObject({ action: CAMS.action, code: 'OK', status: 200 });
      expect(lines[0]).not.toContain(KEY.accessKeySecret);
      expect(lines[0]).not.toContain('cs-logged');
    } finally {
      write.mockRestore();
      await own.close();
    }
  });

  it('default keys are clearly fake', () => {
    const all = Object.values(SIMULATOR_DEFAULT_KEYS).flatMap((key) => Object.values(key));
    expect(all).toHaveLength(6);
    for (const value of all) {
      expect(value).toMatch(/^sim-/);
      expect(value).not.toMatch(/LTAI|AKIA|AKID/);
    }
  });
});

describe('reset()', () => {
  it('clears calls, scripts, nonces and IMS state', async () => {
    const nonce = freshNonce();
    const appId = `app-${randomUUID()}`;
    expect((await callAliyun('v3', { ...IMS, nonce, query: { AppId: appId } })).status).toBe(200);
    sim.script({ fault: { kind: 'status', status: 502 } });
    const calls = sim.calls;

    sim.reset();
    expect(calls).toHaveLength(0);
    expect((await callAliyun('v3', { ...IMS, nonce, query: { AppId: appId } })).status).toBe(200);
    expect(sim.calls).toHaveLength(1);
  });
});
