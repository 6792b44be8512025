import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler as cams } from '../../functions/cams-get-upload-authorization.js';
import { handler as ims } from '../../functions/ims-provision-external-application.js';
import { handler as ufile } from '../../functions/ufile-describe-token.js';
import { camsGetUploadAuthorization } from '../../lib/operations/cams-get-upload-authorization.js';
import { clearTokenMemory } from '../../lib/runtime/credentials.js';
import { bodyKey } from '../../lib/state/body-key.js';
import { tokenKey } from '../../lib/state/token-lease.js';
import { sealData } from '../../lib/state/token-seal.js';
import { httpApiEvent, lambdaContext } from '../../sim/lambda-events.js';
import { type TableItems, tableItems } from '../../sim/table-items.js';
import { useBrokerEnv } from '../support/broker-env.js';
import { invokeHttp } from '../support/invoke-http.js';
import { TOKEN_ITEM_ATTRIBUTES } from '../support/token-item.js';

const CAMS = '/v1/aliyun/cams/upload-authorization';
const ACTION = 'GetChatappUploadAuthorization';
const LIFETIME_S = 3600;

const broker = useBrokerEnv({ simulator: { camsExpireSeconds: LIFETIME_S } });
let items: TableItems;
beforeAll(() => {
  items = tableItems(broker.table!);
});
afterAll(() => items.close());

const rotate = (...bodies: unknown[]) => cams({ rotate: bodies }, lambdaContext(30_000));
const pkOf = (body: Record<string, unknown>) => tokenKey(camsGetUploadAuthorization, bodyKey(body));
/** The token item as the table holds it, with `data` as the broker opens it from `sealedData`. */
async function stored(body: Record<string, unknown>): Promise<Record<string, any> | undefined> {
  const item = await items.get(pkOf(body));
  return item && { ...item, data: (await items.token(pkOf(body)))?.token?.data };
}

/** Writes a token item with `left` of its lifetime remaining, as a past rotation would have. */
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
  return items.putToken(pkOf(body), left, LIFETIME_S * 1000, data, 'stored-request');
}

describe('scheduled rotation', () => {
  it('fetches each body and writes it to the table under <function>#token#<hash>, with a TTL at expiry', async () => {
    const report = await rotate({ custSpaceId: 'a' }, { custSpaceId: 'b' });
    expect(report).toEqual({ rotated: 2, fresh: 0, failed: [] });
    const tokenKeys = (await items.keys()).filter((pk) => pk.includes('#token#'));
    expect(tokenKeys.sort()).toEqual([pkOf({ custSpaceId: 'a' }), pkOf({ custSpaceId: 'b' })].sort());
    expect(pkOf({ custSpaceId: 'a' })).toMatch(/^cams-get-upload-authorization#token#[0-9a-f]{32}$/);
    const token = (await stored({ custSpaceId: 'a' }))!;
    // `data` is what stored() adds: the sealed data opened.
    expect(Object.keys(token).sort()).toEqual(['data', ...TOKEN_ITEM_ATTRIBUTES]);
    expect(Date.parse(token.expiresAt as string) - Date.parse(token.fetchedAt as string)).toBeGreaterThanOrEqual(LIFETIME_S * 1000 - 1000);
    const expiresS = Date.parse(token.expiresAt as string) / 1000;
    expect(token.ttl).toBeGreaterThanOrEqual(expiresS);
    expect(token.ttl).toBeLessThanOrEqual(expiresS + 300);
    expect(token.data.accessKeySecret).toEqual(expect.any(String));
    // Every key is the function's, and none holds a body value.
    for (const pk of await items.keys())
      expect(pk).toMatch(/^cams-get-upload-authorization#(token#[0-9a-f]{32}|rate#\d+|share#[0-9a-f]{32}#\d+)$/);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(2);
  });

  it('leaves credentials alone while half their lifetime is left, and renews them after', async () => {
    await storeToken({ custSpaceId: 'kept' }, 0.6);
    await storeToken({ custSpaceId: 'renewed' }, 0.4);
    const report = await rotate({ custSpaceId: 'kept' }, { custSpaceId: 'renewed' });
    expect(report).toEqual({ rotated: 1, fresh: 1, failed: [] });
    expect(broker.sim.callsTo(ACTION).map((c) => c.params.CustSpaceId)).toEqual(['renewed']);
    expect((await stored({ custSpaceId: 'kept' }))!.vendorRequestId).toBe('stored-request');
    expect((await stored({ custSpaceId: 'renewed' }))!.vendorRequestId).not.toBe('stored-request');
  });

  it('run twice in a row calls the vendor once; run twice at once leaves one valid current token', async () => {
    await rotate({ custSpaceId: 'x' });
    expect(await rotate({ custSpaceId: 'x' })).toEqual({ rotated: 0, fresh: 1, failed: [] });
    expect(broker.sim.callsTo(ACTION)).toHaveLength(1);

    broker.coldStart();
    const [one, two] = await Promise.all([rotate({ custSpaceId: 'y' }), rotate({ custSpaceId: 'y' })]);
    expect((one as { rotated: number }).rotated + (two as { fresh: number; rotated: number }).rotated).toBeGreaterThanOrEqual(1);
    const token = (await stored({ custSpaceId: 'y' }))!;
    expect(Date.parse(token.expiresAt as string)).toBeGreaterThan(Date.now() + (LIFETIME_S - 60) * 1000);
    expect(token.data.securityToken).toEqual(expect.any(String));
  });

  it('never replaces a token with an older one', async () => {
    await storeToken({ custSpaceId: 'race' }, 0.1);
    broker.sim.script({ action: ACTION, fault: { kind: 'delay', ms: 400 } });
    const rotation = rotate({ custSpaceId: 'race' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    // Meanwhile another rotation wrote credentials that outlive the ones this one is fetching.
    const now = Date.now();
    const newer = { data: { accessKeyId: 'newer-id' }, expiresAt: now + 2 * LIFETIME_S * 1000, fetchedAt: now };
    await items.put({
      pk: pkOf({ custSpaceId: 'race' }),
      ...(await sealData(pkOf({ custSpaceId: 'race' }), newer.data)),
      expiresAt: new Date(newer.expiresAt).toISOString(),
      fetchedAt: new Date(newer.fetchedAt).toISOString(),
      refreshAt: newer.expiresAt - LIFETIME_S * 500,
      ttl: Math.ceil(newer.expiresAt / 1000),
      vendorRequestId: 'newer-request',
    });
    expect(await rotation).toEqual({ rotated: 1, fresh: 0, failed: [] });
    expect(broker.sim.callsTo(ACTION)).toHaveLength(1);
    expect((await stored({ custSpaceId: 'race' }))!.vendorRequestId).toBe('newer-request');
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
    await broker.table!.resetRequests();
    const second = await invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId: 'm' }));
    expect(second.json.data).toEqual(first.json.data);
    expect(second.json.expiresAt).toBe(first.json.expiresAt);
    expect(second.json.requestId).not.toBe(first.json.requestId);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(1);
    expect(broker.ssm.requests).toHaveLength(0);
    expect(await broker.table!.requests()).toEqual({});
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

  it('a cold function after a scheduled rotation answers from the table without calling the vendor', async () => {
    await rotate({ custSpaceId: 'cold' });
    const rotated = (await stored({ custSpaceId: 'cold' }))!;
    broker.coldStart();
    broker.sim.reset();
    const answer = await invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId: 'cold' }));
    expect(answer.statusCode).toBe(200);
    expect(answer.json.data).toEqual(rotated.data);
    expect(answer.json.expiresAt).toBe(rotated.expiresAt);
    expect(broker.sim.calls).toHaveLength(0);
  });

  it('never serves stored credentials with less than a quarter of their lifetime left', async () => {
    await storeToken({ custSpaceId: 'old' }, 0.2);
    await storeToken({ custSpaceId: 'ok' }, 0.3);
    const old = await invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId: 'old' }));
    const ok = await invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId: 'ok' }));
    expect(old.json.data.accessKeyId).not.toBe('stored-id');
    expect(Date.parse(old.json.expiresAt)).toBeGreaterThan(Date.now() + (LIFETIME_S - 60) * 1000);
    expect(ok.json.data.accessKeyId).toBe('stored-id');
    expect(broker.sim.callsTo(ACTION).map((c) => c.params.CustSpaceId)).toEqual(['old']);
    // The renewed credentials replaced the old ones in the table.
    expect((await stored({ custSpaceId: 'old' }))!.data).toEqual(old.json.data);
  });

  it('ignores a stored item that is not a token, and replaces it', async () => {
    await items.put({ pk: pkOf({ custSpaceId: 'junk' }), data: 'not json', expiresAt: 'soon' });
    const answer = await invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId: 'junk' }));
    expect(answer.statusCode).toBe(200);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(1);
    expect((await stored({ custSpaceId: 'junk' }))!.data).toEqual(answer.json.data);
  });

  it('a cold function serves what a warm one fetched, from the table', async () => {
    const first = await invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId: 'shared' }));
    broker.coldStart();
    const second = await invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId: 'shared' }));
    expect(second.json.data).toEqual(first.json.data);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(1);
  });
});

describe('refreshAfter', () => {
  /** What the client holds: the answer's times, as epoch ms. */
  const held = (json: Record<string, any>) => ({
    expiresAt: Date.parse(json.expiresAt),
    refreshAfter: Date.parse(json.refreshAfter),
    accessKeyId: json.data.accessKeyId as string,
  });

  it('a client that asks again at refreshAfter always gets credentials that outlive the ones it held, from memory, the table or the vendor', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      const body = { custSpaceId: 'refresh-after' };
      let last = held((await invokeHttp(cams, httpApiEvent(CAMS, body))).json);
      // An eighth of the lifetime between refreshAfter and expiry: the client's margin.
      expect(last.expiresAt - last.refreshAfter).toBe((LIFETIME_S * 1000) / 8);
      let fromTableEdge = 0;
      for (let round = 0; round < 9; round += 1) {
        vi.setSystemTime(last.refreshAfter);
        // Round by round: this instance's memory; a cold instance (the table); a table holding the
        // oldest token it may still serve (a quarter of its lifetime left, and a little).
        if (round % 3 === 1) clearTokenMemory();
        if (round % 3 === 2) {
          clearTokenMemory();
          await storeToken(body, 0.26);
        }
        const next = held((await invokeHttp(cams, httpApiEvent(CAMS, body))).json);
        if (next.accessKeyId === 'stored-id') fromTableEdge += 1;
        expect(next.refreshAfter).toBeGreaterThanOrEqual(last.expiresAt);
        expect(next.expiresAt).toBeGreaterThan(next.refreshAfter);
        last = next;
      }
      expect(fromTableEdge).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('is absent, with expiresAt, from an answer that carries no credentials (UFile with an empty set)', async () => {
    const answer = await invokeHttp(ufile, httpApiEvent('/v1/ucloud/ufile/tokens', { region: 'cn-bj', tokenName: 'no-such-token' }));
    expect(answer.statusCode).toBe(200);
    expect(answer.json.data).toEqual([]);
    expect(answer.json).not.toHaveProperty('expiresAt');
    expect(answer.json).not.toHaveProperty('refreshAfter');
  });
});
