import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ChaosKind, SIMULATOR_DEFAULT_KEYS, startVendorSimulator, type VendorSimulator } from '../../sim/vendor-simulator.js';
import { seeded } from '../support/seeded-random.js';
import { send, signAliyunV3, signUcloud } from '../support/sign-for-tests.js';

const KEY = SIMULATOR_DEFAULT_KEYS.aliyun;
const UKEY = SIMULATOR_DEFAULT_KEYS.ucloud;
const BPSTUDIO = { action: 'GetToken', version: '2021-09-31' } as const;
const IMS = { action: 'ProvisionExternalApplication', version: '2019-08-15' } as const;

let sim: VendorSimulator;
beforeAll(async () => {
  sim = await startVendorSimulator();
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const aliyun = (input: Partial<Parameters<typeof signAliyunV3>[0]> = {}, signal?: AbortSignal) =>
  send(signAliyunV3({ baseUrl: sim.url, key: KEY, ...BPSTUDIO, ...input }), signal);
const ucloud = () => send(signUcloud({ baseUrl: sim.url, key: UKEY, params: { Action: 'DescribeUFileToken' } }));

describe('chaos: each kind at rate 1, in the vendor shape', () => {
  it('throttle: Alibaba 400 Throttling.User, UCloud RetCode 153', async () => {
    sim.setChaos({ throttleRate: 1 });
    const a = await aliyun();
    expect([a.status, a.json.Code]).toEqual([400, 'Throttling.User']);
    const u = await ucloud();
    expect([u.status, u.json.RetCode]).toEqual([200, 153]);
    expect(sim.calls.map((c) => [c.chaos, c.code])).toEqual([
      ['throttle', 'Throttling.User'],
      ['throttle', '153'],
    ]);
  });

  it('serverError: Alibaba 503 ServiceUnavailable, UCloud a 502 page', async () => {
    sim.setChaos({ serverErrorRate: 1 });
    const a = await aliyun();
    expect([a.status, a.json.Code]).toEqual([503, 'ServiceUnavailable']);
    const u = await ucloud();
    expect([u.status, u.json]).toEqual([502, undefined]);
  });

  it('reject: Alibaba 400 InvalidParameter, UCloud RetCode 230', async () => {
    sim.setChaos({ rejectRate: 1 });
    expect((await aliyun()).json.Code).toBe('InvalidParameter');
    expect((await ucloud()).json.RetCode).toBe(230);
  });

  it('reset and hang: no answer', async () => {
    sim.setChaos({ resetRate: 1 });
    await expect(aliyun()).rejects.toThrow();
    sim.setChaos({ hangRate: 1 });
    await expect(aliyun({}, AbortSignal.timeout(200))).rejects.toThrow();
    expect(sim.calls.map((c) => [c.chaos, c.code, c.status])).toEqual([
      ['reset', 'reset', 0],
      ['hang', 'hang', 0],
    ]);
  });

  it('lostReply: the application is installed, the answer lost; the retry gets 409', async () => {
    const appId = `app-${randomUUID()}`;
    sim.setChaos({ lostReplyRate: 1 });
    await expect(aliyun({ ...IMS, query: { AppId: appId, Scopes: 'openid;aliuid' } })).rejects.toThrow();
    expect(sim.provisionedScopes(appId)).toEqual(['openid', 'aliuid']);
    expect(sim.calls[0]).toMatchObject({ chaos: 'lostReply', code: 'OK', status: 0 });
    sim.setChaos(undefined);
    const again = await aliyun({ ...IMS, query: { AppId: appId } });
    expect([again.status, again.json.Code]).toEqual([409, 'EntityAlreadyExists.ExternalApplication']);
  });
});

describe('chaos: mixing and limits', () => {
  it('draws each kind near its rate, repeatably with a seeded source', async () => {
    const run = async () => {
      sim.reset();
      sim.setChaos({ throttleRate: 0.3, serverErrorRate: 0.2, rejectRate: 0.1, random: seeded(7) });
      for (let i = 0; i < 200; i++) await aliyun();
      return sim.calls.map((c) => c.chaos ?? 'none');
    };
    const first = await run();
    expect(await run()).toEqual(first);
    const count = (kind: ChaosKind | 'none') => first.filter((k) => k === kind).length;
    // 200 draws: each share within a wide band around its rate.
    expect(count('throttle')).toBeGreaterThan(35);
    expect(count('throttle')).toBeLessThan(85);
    expect(count('serverError')).toBeGreaterThan(20);
    expect(count('serverError')).toBeLessThan(60);
    expect(count('reject')).toBeGreaterThan(6);
    expect(count('reject')).toBeLessThan(35);
    expect(count('none')).toBe(200 - count('throttle') - count('serverError') - count('reject'));
  });

  it('only the listed actions; scripted rules go first; reset() turns chaos off', async () => {
    sim.setChaos({ throttleRate: 1, actions: [IMS.action] });
    expect((await aliyun()).status).toBe(200);
    sim.script({ action: IMS.action, fault: { kind: 'aliyunError', status: 404, code: 'EntityNotExist.Role' } });
    expect((await aliyun({ ...IMS, query: { AppId: 'a1' } })).json.Code).toBe('EntityNotExist.Role');
    expect((await aliyun({ ...IMS, query: { AppId: 'a1' } })).json.Code).toBe('Throttling.User');
    sim.reset();
    expect((await aliyun({ ...IMS, query: { AppId: 'a1' } })).status).toBe(200);
  });

  it('refuses rates outside [0, 1] or adding up to more than 1', () => {
    expect(() => sim.setChaos({ throttleRate: 1.5 })).toThrow(RangeError);
    expect(() => sim.setChaos({ throttleRate: 0.6, resetRate: 0.6 })).toThrow(/add up/);
  });

  it('records whether each answer reached the client', async () => {
    await aliyun();
    sim.setChaos({ lostReplyRate: 1 });
    await expect(aliyun()).rejects.toThrow();
    sim.setChaos(undefined);
    sim.script({ fault: { kind: 'delay', ms: 300 } });
    // The client gives up before the delayed answer is written.
    await expect(aliyun({}, AbortSignal.timeout(50))).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(sim.calls.map((c) => [c.code, c.delivered])).toEqual([
      ['OK', true],
      ['OK', false],
      ['OK', false],
    ]);
  });

  it('records the signature each request carried', async () => {
    await aliyun();
    await ucloud();
    expect(sim.calls[0]!.signature).toMatch(/^[0-9a-f]{64}$/);
    expect(sim.calls[1]!.signature).toMatch(/^[0-9a-f]{40}$/);
  });
});
