/**
 * client/cos.ts: the real cos-nodejs-sdk-v5 client, its only credentials the `getAuthorization`
 * callback on Tencent STS credentials from the broker (its real function behind a JWT front),
 * writing to a loopback COS bucket that accepts only what the vendor simulator issued, unexpired,
 * correctly signed. Date is moved by the test through a simulated hour of 15-minute credentials.
 */
import COS from 'cos-nodejs-sdk-v5';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBrokerClient } from '../../client/broker-client.js';
import { cosGetAuthorization } from '../../client/cos.js';
import { tencentStsCredentials } from '../../client/tencent.js';
import { useBrokerEnv } from '../support/broker-env.js';
import { type BrokerFront, startBrokerFront } from '../support/broker-front.js';
import { COS_BUCKET, COS_REGION, STS_POLICY, useStsPolicy, useTenantTokens } from '../support/client-world.js';
import { type CosStorage, startCosStorage } from '../support/cos-storage.js';

const MINUTE = 60_000;
const broker = useBrokerEnv({ table: false, env: STS_POLICY.env });
useStsPolicy(broker);
const tenantAuth = useTenantTokens();
let front: BrokerFront;
let bucket: CosStorage;

beforeAll(async () => {
  front = await startBrokerFront('jwt');
  bucket = await startCosStorage({ lookup: (id) => broker.sim.issuedCredentials(id) });
});
afterAll(async () => {
  await Promise.all([front?.close(), bucket?.close()]);
});
beforeEach(() => {
  bucket.requests.length = 0;
});
afterEach(() => vi.useRealTimers());

/** The app's whole credential wiring: a broker client, credentials by refreshAfter, the callback. */
async function cosFor(tenant: string) {
  const client = createBrokerClient({ broker: front.url, auth: await tenantAuth(tenant) });
  const getAuthorization = vi.fn(cosGetAuthorization(tencentStsCredentials(client, { durationSeconds: 900 })));
  const cos = new COS({ getAuthorization, Domain: `127.0.0.1:${bucket.port}`, Protocol: 'http:' });
  return { cos, getAuthorization };
}

describe('COS getAuthorization on the broker’s Tencent STS credentials', () => {
  it('keeps the real COS client on live credentials through an hour of 15-minute ones, asking again at refreshAfter', async () => {
    const start = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now: start });
    const { cos, getAuthorization } = await cosFor('tenant-a');
    for (let minute = 0; minute <= 60; minute++) {
      vi.setSystemTime(start + minute * MINUTE);
      await cos.putObject({ Bucket: COS_BUCKET, Region: COS_REGION, Key: `tenant-a/minute-${minute}.txt`, Body: Buffer.from(`${minute}`) });
    }
    expect(bucket.requests.filter((r) => r.status !== 200)).toEqual([]);
    expect(bucket.requests).toHaveLength(61);
    const ids = [...new Set(bucket.requests.map((r) => r.secretId))];
    // 15-minute credentials refreshed an eighth of their lifetime early: five sets in an hour.
    expect(ids.length).toBeGreaterThanOrEqual(5);
    expect(broker.sim.assumeRoleCalls.filter((c) => c.vendor === 'tencent').length).toBe(ids.length);
    // COS reused what the callback gave until refreshAfter, then asked again: about once per set, not per request.
    expect(getAuthorization.mock.calls.length).toBeLessThanOrEqual(2 * ids.length);
  });

  it('answers COS in the shape it validates: TmpSecretId, TmpSecretKey, SecurityToken, 10-digit StartTime and ExpiredTime', async () => {
    const { getAuthorization } = await cosFor('tenant-b');
    const given = await new Promise<Record<string, unknown>>((resolve) => getAuthorization({}, (auth) => resolve(auth as never)));
    expect(Object.keys(given).sort()).toEqual(['ExpiredTime', 'SecurityToken', 'StartTime', 'TmpSecretId', 'TmpSecretKey']);
    expect(String(given.StartTime)).toMatch(/^\d{10}$/);
    expect(String(given.ExpiredTime)).toMatch(/^\d{10}$/);
    expect(broker.sim.issuedCredentials(given.TmpSecretId as string)?.securityToken).toBe(given.SecurityToken);
  });

  it('the broker refusing: the COS request fails at once, unsigned, and onError hears the BrokerCallError', async () => {
    const errors: unknown[] = [];
    const client = createBrokerClient({ broker: front.url, auth: await tenantAuth('intruder') });
    const cos = new COS({
      getAuthorization: cosGetAuthorization(tencentStsCredentials(client), { onError: (error) => errors.push(error) }),
      Domain: `127.0.0.1:${bucket.port}`,
      Protocol: 'http:',
    });
    await expect(
      cos.putObject({ Bucket: COS_BUCKET, Region: COS_REGION, Key: 'intruder/x.txt', Body: Buffer.from('x') }),
    ).rejects.toMatchObject({
      message: expect.stringContaining('TmpSecretId'),
    });
    expect(errors).toEqual([expect.objectContaining({ name: 'BrokerCallError', status: 403, code: 'Forbidden' })]);
    expect(bucket.requests).toEqual([]);
  });

  it('without the callback’s credentials the bucket refuses: it does check them', async () => {
    const cos = new COS({ SecretId: 'AKIDnot-issued', SecretKey: 'not-issued', Domain: `127.0.0.1:${bucket.port}`, Protocol: 'http:' });
    await expect(
      cos.putObject({ Bucket: COS_BUCKET, Region: COS_REGION, Key: 'tenant-a/x.txt', Body: Buffer.from('x') }),
    ).rejects.toMatchObject({
      code: 'InvalidAccessKeyId',
    });
  });
});
