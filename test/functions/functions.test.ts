import { describe, expect, it } from 'vitest';
import { handler as bpstudio } from '../../functions/bpstudio-get-token.js';
import { handler as cams } from '../../functions/cams-get-upload-authorization.js';
import { handler as ims } from '../../functions/ims-provision-external-application.js';
import { handler as ufile } from '../../functions/ufile-describe-token.js';
import { httpApiEvent, lambdaContext, restApiEvent } from '../../sim/lambda-events.js';
import { SIMULATOR_UFILE_TOKENS } from '../../sim/vendor-simulator.js';
import { useBrokerEnv } from '../support/broker-env.js';
import { invokeHttp } from '../support/invoke-http.js';

const broker = useBrokerEnv({ simulator: { camsExpireSeconds: 3600, ufileLifetimeSeconds: 7200 } });

const SECURITY_HEADERS = {
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'X-Content-Type-Options': 'nosniff',
};

const cases = [
  {
    name: 'bpstudio-get-token',
    handler: bpstudio,
    route: '/v1/aliyun/bpstudio/token',
    body: { resourceGroupId: 'rg-aekzhfgmw4e6fwq' },
    action: 'GetToken',
    operation: 'bpstudio:GetToken',
    sentParams: { ResourceGroupId: 'rg-aekzhfgmw4e6fwq' },
    dataKeys: ['accessKeyId', 'accessKeySecret', 'securityToken', 'endpoint', 'bucket', 'snapshotBucket', 'uploadPrefix'],
    lifetimeMs: 30 * 60_000,
  },
  {
    name: 'cams-get-upload-authorization',
    handler: cams,
    route: '/v1/aliyun/cams/upload-authorization',
    body: { custSpaceId: '29348393884' },
    action: 'GetChatappUploadAuthorization',
    operation: 'cams:GetChatappUploadAuthorization',
    sentParams: { CustSpaceId: '29348393884' },
    dataKeys: ['accessKeyId', 'accessKeySecret', 'bucketName', 'dir', 'endPoint', 'securityToken', 'expire'],
    lifetimeMs: 3600_000,
  },
  {
    name: 'ims-provision-external-application',
    handler: ims,
    route: '/v1/aliyun/ims/external-applications',
    body: { appId: '4035506116466040001', scopes: ['openid', 'aliuid'] },
    action: 'ProvisionExternalApplication',
    operation: 'ims:ProvisionExternalApplication',
    sentParams: { AppId: '4035506116466040001', Scopes: 'openid;aliuid' },
    dataKeys: ['foreignAppId', 'displayName', 'delegatedScope'],
    lifetimeMs: undefined,
  },
  {
    name: 'ufile-describe-token',
    handler: ufile,
    route: '/v1/ucloud/ufile/tokens',
    body: { region: 'cn-bj', tokenId: SIMULATOR_UFILE_TOKENS[0].tokenId, display: 1 },
    action: 'DescribeUFileToken',
    operation: 'ufile:DescribeUFileToken',
    sentParams: { Region: 'cn-bj', TokenId: SIMULATOR_UFILE_TOKENS[0].tokenId, Display: '1', ProjectId: 'org-sim' },
    dataKeys: undefined,
    lifetimeMs: 7200_000,
  },
] as const;

describe.each(cases)('$name', (c) => {
  it.each([
    ['HTTP API (payload 2.0)', httpApiEvent],
    ['REST API (payload 1.0)', restApiEvent],
  ] as const)('answers a signed vendor call over %s', async (_kind, makeEvent) => {
    const context = lambdaContext();
    const started = Date.now();
    const answer = await invokeHttp(c.handler, makeEvent(c.route, c.body), context);

    expect(answer.statusCode).toBe(200);
    expect(answer.headers).toMatchObject({ ...SECURITY_HEADERS, 'X-Request-Id': context.awsRequestId });
    expect(answer.headers?.['Strict-Transport-Security']).toMatch(/max-age=\d+/);
    expect(answer.json.operation).toBe(c.operation);
    expect(answer.json.requestId).toBe(context.awsRequestId);
    expect(answer.json.vendorRequestId).toMatch(/^[0-9A-F-]{36}$/i);

    // The simulator verified the signature and saw exactly the vendor's parameters.
    const [call, ...more] = broker.sim.callsTo(c.action);
    expect(more).toHaveLength(0);
    expect(call?.params).toMatchObject(c.sentParams);
    expect(call?.code).toMatch(/^(OK|200|0|Success)?$/);

    if (c.dataKeys) expect(Object.keys(answer.json.data).sort()).toEqual(expect.arrayContaining([...c.dataKeys].sort()));
    if (c.lifetimeMs === undefined) {
      expect(answer.json.expiresAt).toBeUndefined();
    } else {
      const expiresAt = Date.parse(answer.json.expiresAt);
      expect(expiresAt).toBeGreaterThanOrEqual(started + c.lifetimeMs - 2_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + c.lifetimeMs + 2_000);
    }
  });

  it('refuses an unknown field with 400 InvalidRequest naming it, without calling the vendor', async () => {
    const answer = await invokeHttp(c.handler, httpApiEvent(c.route, { ...c.body, surprise: 1 }));
    expect(answer.statusCode).toBe(400);
    expect(answer.headers).toMatchObject(SECURITY_HEADERS);
    expect(answer.json.error).toMatchObject({ code: 'InvalidRequest', details: [{ path: 'surprise', message: 'unknown field' }] });
    expect(broker.sim.calls).toHaveLength(0);
  });

  it('refuses a body that is not JSON, or not sent as JSON', async () => {
    const notJson = await invokeHttp(c.handler, httpApiEvent(c.route, undefined, { rawBody: '{"a":' }));
    const wrongType = await invokeHttp(c.handler, httpApiEvent(c.route, c.body, { contentType: 'text/plain' }));
    for (const answer of [notJson, wrongType]) {
      expect(answer.statusCode).toBe(400);
      expect(answer.json.error.code).toBe('InvalidRequest');
      expect(answer.headers).toMatchObject(SECURITY_HEADERS);
    }
    expect(broker.sim.calls).toHaveLength(0);
  });
});

describe('request validation', () => {
  it('names every offending field', async () => {
    const answer = await invokeHttp(ims, httpApiEvent('/v1/aliyun/ims/external-applications', { appId: '', scopes: ['ok', 'a;b'] }));
    expect(answer.statusCode).toBe(400);
    const paths = new Set(answer.json.error.details.map((d: { path: string }) => d.path));
    expect([...paths].sort()).toEqual(['appId', 'scopes.1']);
  });

  it('refuses text that is not well-formed Unicode (a lone surrogate) with 400, without calling the vendor', async () => {
    // Found by test/functions/request-schema.property.test.ts: it used to pass the schema and fail as 500 while signing.
    const scopes = await invokeHttp(
      ims,
      httpApiEvent('/v1/aliyun/ims/external-applications', undefined, { rawBody: '{"appId":"a","scopes":["openid","\\ud83d"]}' }),
    );
    expect(scopes.statusCode).toBe(400);
    expect(scopes.json.error).toMatchObject({
      code: 'InvalidRequest',
      details: [{ path: 'scopes.1', message: 'must be well-formed Unicode' }],
    });
    const tokenId = await invokeHttp(ufile, httpApiEvent('/v1/ucloud/ufile/tokens', undefined, { rawBody: '{"tokenId":"t\\udc00"}' }));
    expect(tokenId.statusCode).toBe(400);
    expect(tokenId.json.error.details).toEqual([{ path: 'tokenId', message: 'must be well-formed Unicode' }]);
    expect(broker.sim.calls).toHaveLength(0);
    // A whole pair is one character, and fine.
    const pair = await invokeHttp(ufile, httpApiEvent('/v1/ucloud/ufile/tokens', undefined, { rawBody: '{"tokenName":"\\ud83d\\ude00"}' }));
    expect(pair.statusCode).toBe(200);
  });

  it('requires the fields the vendor requires', async () => {
    const answer = await invokeHttp(cams, httpApiEvent('/v1/aliyun/cams/upload-authorization', {}));
    expect(answer.json.error).toMatchObject({ code: 'InvalidRequest', details: [{ path: 'custSpaceId' }] });
  });

  it('accepts a base64-encoded body and an empty body where every field is optional', async () => {
    const encoded = await invokeHttp(ufile, httpApiEvent('/v1/ucloud/ufile/tokens', { region: 'cn-bj' }, { base64: true }));
    expect(encoded.statusCode).toBe(200);
    expect(encoded.json.data).toHaveLength(2);
    const empty = await invokeHttp(bpstudio, httpApiEvent('/v1/aliyun/bpstudio/token', undefined, { contentType: null }));
    expect(empty.statusCode).toBe(200);
  });

  it('refuses methods other than POST', async () => {
    const answer = await invokeHttp(cams, httpApiEvent('/v1/aliyun/cams/upload-authorization', undefined, { method: 'GET' }));
    expect(answer.statusCode).toBe(400);
  });
});

describe('UFile answers', () => {
  it('lower-camel-cases the DataSet and takes the earliest ExpireTime as expiresAt', async () => {
    const answer = await invokeHttp(ufile, httpApiEvent('/v1/ucloud/ufile/tokens', {}));
    expect(answer.statusCode).toBe(200);
    const tokens = answer.json.data as { expireTime: number; tokenId: string; privateKey: string }[];
    expect(tokens.map((t) => t.tokenId).sort()).toEqual(SIMULATOR_UFILE_TOKENS.map((t) => t.tokenId).sort());
    expect(Date.parse(answer.json.expiresAt)).toBe(Math.min(...tokens.map((t) => t.expireTime)) * 1000);
  });
});
