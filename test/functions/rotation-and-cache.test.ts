import { beforeEach, describe, expect, it } from 'vitest';
import { handler as cams } from '../../functions/cams-get-upload-authorization.js';
import { handler as ims } from '../../functions/ims-provision-external-application.js';
import { handler as ufile } from '../../functions/ufile-describe-token.js';
import { bodyKey } from '../../lib/body-key.js';
import { camsGetUploadAuthorization } from '../../lib/operations/cams-get-upload-authorization.js';
import { storeName } from '../../lib/token-cache.js';
import { httpApiEvent, lambdaContext } from '../../sim/lambda-events.js';
import { TOKEN_STORE_PREFIX, useBrokerEnv } from '../support/broker-env.js';
import { invokeHttp } from '../support/invoke-http.js';

const CAMS = '/v1/aliyun/cams/upload-authorization';
const ACTION = 'GetChatappUploadAuthorization';
const LIFETIME_S = 3600;

const broker = useBrokerEnv({ simulator: { camsExpireSeconds: LIFETIME_S } });
beforeEach(() => {
  for (const name of broker.ssm.names()) if (name.startsWith(TOKEN_STORE_PREFIX)) broker.ssm.delete(name);
});

const rotate = (...bodies: unknown[]) => cams({ rotate: bodies }, lambdaContext(30_000));
const stored = (body: Record<string, unknown>) =>
  JSON.parse(broker.ssm.get(storeName(camsGetUploadAuthorization, bodyKey(body))) ?? 'null');

/** Writes a stored token with `left` of its lifetime remaining, as a past rotation would have. */
function storeToken(
  body: Record<string, unknown>,
  left: number,
  data: Record<string, unknown> = {
    accessKeyId: 'stored-id',
    accessKeySecret: 'stored-secret',
    securityToken: 'stored-token',
    expire: LIFETIME_S,
  },
) {
  const lifetime = LIFETIME_S * 1000;
  const expiresAt = Date.now() + left * lifetime;
  broker.ssm.put(storeName(camsGetUploadAuthorization, bodyKey(body)), {
    data,
    expiresAt: new Date(expiresAt).toISOString(),
    fetchedAt: new Date(expiresAt - lifetime).toISOString(),
    vendorRequestId: 'stored-request',
  });
}

describe('scheduled rotation', () => {
  it('fetches each body and stores it as a SecureString under <prefix>/<function>/<hash>', async () => {
    const report = await rotate({ custSpaceId: 'a' }, { custSpaceId: 'b' });
    expect(report).toEqual({ rotated: 2, fresh: 0, failed: [] });
    const name = storeName(camsGetUploadAuthorization, bodyKey({ custSpaceId: 'a' }));
    expect(name).toMatch(new RegExp(`^${TOKEN_STORE_PREFIX}/cams-get-upload-authorization/[0-9a-f]{32}$`));
    const token = stored({ custSpaceId: 'a' });
    expect(Object.keys(token).sort()).toEqual(['data', 'expiresAt', 'fetchedAt', 'vendorRequestId']);
    expect(Date.parse(token.expiresAt) - Date.parse(token.fetchedAt)).toBeGreaterThanOrEqual(LIFETIME_S * 1000 - 1000);
    expect(token.data.accessKeySecret).toEqual(expect.any(String));
    expect(broker.sim.callsTo(ACTION)).toHaveLength(2);
  });

  it('leaves credentials alone while half their lifetime is left, and renews them after', async () => {
    storeToken({ custSpaceId: 'kept' }, 0.6);
    storeToken({ custSpaceId: 'renewed' }, 0.4);
    const report = await rotate({ custSpaceId: 'kept' }, { custSpaceId: 'renewed' });
    expect(report).toEqual({ rotated: 1, fresh: 1, failed: [] });
    expect(broker.sim.callsTo(ACTION).map((c) => c.params.CustSpaceId)).toEqual(['renewed']);
    expect(stored({ custSpaceId: 'kept' }).vendorRequestId).toBe('stored-request');
    expect(stored({ custSpaceId: 'renewed' }).vendorRequestId).not.toBe('stored-request');
  });

  it('run twice in a row calls the vendor once; run twice at once leaves one valid current token', async () => {
    await rotate({ custSpaceId: 'x' });
    expect(await rotate({ custSpaceId: 'x' })).toEqual({ rotated: 0, fresh: 1, failed: [] });
    expect(broker.sim.callsTo(ACTION)).toHaveLength(1);

    broker.coldStart();
    const [one, two] = await Promise.all([rotate({ custSpaceId: 'y' }), rotate({ custSpaceId: 'y' })]);
    expect((one as { rotated: number }).rotated + (two as { fresh: number; rotated: number }).rotated).toBeGreaterThanOrEqual(1);
    const token = stored({ custSpaceId: 'y' });
    expect(Date.parse(token.expiresAt)).toBeGreaterThan(Date.now() + (LIFETIME_S - 60) * 1000);
    expect(token.data.securityToken).toEqual(expect.any(String));
  });

  it('reports each failed body and throws so the invocation counts as an error', async () => {
    broker.sim.script({ action: ACTION, times: 10, fault: { kind: 'aliyunError', status: 400, code: 'Ram.PermissionDeny' } });
    const error = await rotate({ custSpaceId: 'denied' }, { custSpaceId: 'bad value!' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RotationFailed' });
    const { report } = error as { report: { rotated: number; fresh: number; failed: { key: string; code: string }[] } };
    expect(report.failed.map((f) => f.code).sort()).toEqual(['InvalidRequest', 'VendorAccessDenied']);
    expect(report.failed[0]!.key).toBe(bodyKey({ custSpaceId: 'denied' }));
    // Report keys are hashes: no body value reaches the logs through them.
    expect(JSON.stringify(report)).not.toContain('denied');
  });

  it('refuses to rotate an operation that returns no credentials', async () => {
    await expect(ims({ rotate: [{ appId: '1' }] }, lambdaContext())).rejects.toMatchObject({ code: 'InvalidRequest' });
  });
});

describe('the HTTPS path', () => {
  it('serves a warm function from memory: one vendor call for repeated requests', async () => {
    const first = await invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId: 'm' }));
    broker.ssm.clearRequests();
    const second = await invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId: 'm' }));
    expect(second.json.data).toEqual(first.json.data);
    expect(second.json.expiresAt).toBe(first.json.expiresAt);
    expect(second.json.requestId).not.toBe(first.json.requestId);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(1);
    expect(broker.ssm.requests).toHaveLength(0);
  });

  it('makes at most one vendor call for 200 concurrent requests for one body', async () => {
    const answers = await Promise.all(Array.from({ length: 200 }, () => invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId: 'burst' }))));
    expect(answers.every((a) => a.statusCode === 200)).toBe(true);
    expect(new Set(answers.map((a) => a.json.data.accessKeyId)).size).toBe(1);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(1);
  });

  it('keys the cache on every field: different bodies get different credentials', async () => {
    const a = await invokeHttp(ufile, httpApiEvent('/v1/ucloud/ufile/tokens', { region: 'cn-bj' }));
    const b = await invokeHttp(ufile, httpApiEvent('/v1/ucloud/ufile/tokens', { region: 'cn-bj', display: 0 }));
    const c = await invokeHttp(ufile, httpApiEvent('/v1/ucloud/ufile/tokens', { display: 0, region: 'cn-bj' }));
    expect([a, b, c].every((x) => x.statusCode === 200)).toBe(true);
    expect(broker.sim.callsTo('DescribeUFileToken')).toHaveLength(2);
  });

  it('a cold function after a scheduled rotation answers from the store without calling the vendor', async () => {
    await rotate({ custSpaceId: 'cold' });
    const rotated = stored({ custSpaceId: 'cold' });
    broker.coldStart();
    broker.sim.reset();
    const answer = await invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId: 'cold' }));
    expect(answer.statusCode).toBe(200);
    expect(answer.json.data).toEqual(rotated.data);
    expect(answer.json.expiresAt).toBe(rotated.expiresAt);
    expect(broker.sim.calls).toHaveLength(0);
  });

  it('never serves stored credentials with less than a quarter of their lifetime left', async () => {
    storeToken({ custSpaceId: 'old' }, 0.2);
    storeToken({ custSpaceId: 'ok' }, 0.3);
    const old = await invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId: 'old' }));
    const ok = await invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId: 'ok' }));
    expect(old.json.data.accessKeyId).not.toBe('stored-id');
    expect(Date.parse(old.json.expiresAt)).toBeGreaterThan(Date.now() + (LIFETIME_S - 60) * 1000);
    expect(ok.json.data.accessKeyId).toBe('stored-id');
    expect(broker.sim.callsTo(ACTION).map((c) => c.params.CustSpaceId)).toEqual(['old']);
  });

  it('ignores a stored value that is not a token', async () => {
    broker.ssm.put(storeName(camsGetUploadAuthorization, bodyKey({ custSpaceId: 'junk' })), 'not json');
    const answer = await invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId: 'junk' }));
    expect(answer.statusCode).toBe(200);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(1);
  });
});
