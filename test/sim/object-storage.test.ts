import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IssuedCredentials, type ObjectStorage, policyAllows, startObjectStorage } from '../../sim/object-storage.js';

const BUCKET = 'uploads';
const TENANT_A_ONLY = JSON.stringify({
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: ['oss:PutObject', 'oss:GetObject'], Resource: [`acs:oss:*:*:${BUCKET}/tenant-a/*`] }],
});

describe('object storage (sim/object-storage.ts), driven by ali-oss', () => {
  const issued = new Map<string, IssuedCredentials>();
  let now = Date.now();
  let store: ObjectStorage;
  const client = (accessKeyId: string, overrides: Partial<{ accessKeySecret: string; stsToken: string }> = {}) =>
    new OSS({
      endpoint: store.url,
      bucket: BUCKET,
      accessKeyId,
      accessKeySecret: issued.get(accessKeyId)?.accessKeySecret ?? 'unknown',
      stsToken: issued.get(accessKeyId)?.securityToken ?? 'unknown',
      // A refresh interval (even without a refresh) keeps ali-oss from warning on every client.
      refreshSTSTokenInterval: 60_000,
      ...overrides,
    });

  beforeAll(async () => {
    issued.set('STS.live', { accessKeySecret: 'live-secret', securityToken: 'live-token', expiresAt: now + 60_000 });
    issued.set('STS.scoped', {
      accessKeySecret: 'scoped-secret',
      securityToken: 'scoped-token',
      expiresAt: now + 60_000,
      policy: TENANT_A_ONLY,
    });
    store = await startObjectStorage({ bucket: BUCKET, lookup: (id) => issued.get(id), now: () => now });
  });
  afterAll(() => store.close());

  it('stores and returns an object for a request signed with live credentials', async () => {
    await client('STS.live').put('reports/a b+ü.txt', Buffer.from('hello'));
    const got = await client('STS.live').get('reports/a b+ü.txt');
    expect(Buffer.from(got.content).toString()).toBe('hello');
    expect(store.requests.at(-1)).toMatchObject({ method: 'GET', key: 'reports/a b+ü.txt', accessKeyId: 'STS.live', status: 200 });
  });

  it.each([
    ['a key it never issued', () => client('STS.nobody'), 'InvalidAccessKeyId'],
    ['a wrong secret', () => client('STS.live', { accessKeySecret: 'guessed' }), 'SignatureDoesNotMatch'],
    ['another key’s token', () => client('STS.live', { stsToken: 'scoped-token' }), 'InvalidSecurityToken'],
  ])('refuses %s as OSS does', async (_what, make, code) => {
    await expect(make().put('x.txt', Buffer.from('x'))).rejects.toMatchObject({ status: 403, code });
  });

  it('holds credentials to their session policy', async () => {
    await client('STS.scoped').put('tenant-a/ok.txt', Buffer.from('mine'));
    await expect(client('STS.scoped').put('tenant-b/theirs.txt', Buffer.from('x'))).rejects.toMatchObject({ code: 'AccessDenied' });
    expect(store.objects.has('tenant-b/theirs.txt')).toBe(false);
  });

  it('refuses credentials past their expiry', async () => {
    now += 61_000;
    await expect(client('STS.live').get('reports/a b+ü.txt')).rejects.toMatchObject({ code: 'SecurityTokenExpired' });
    now -= 61_000;
  });
});

describe('policyAllows', () => {
  it('needs an Allow that matches both the action and the resource; a Deny wins', () => {
    expect(policyAllows(TENANT_A_ONLY, 'oss:PutObject', `acs:oss:*:*:${BUCKET}/tenant-a/x`)).toBe(true);
    expect(policyAllows(TENANT_A_ONLY, 'oss:DeleteObject', `acs:oss:*:*:${BUCKET}/tenant-a/x`)).toBe(false);
    expect(policyAllows(TENANT_A_ONLY, 'oss:PutObject', `acs:oss:*:*:${BUCKET}/tenant-ab/x`)).toBe(false);
    const denied = JSON.stringify({
      Statement: [
        JSON.parse(TENANT_A_ONLY).Statement[0],
        { Effect: 'Deny', Action: 'oss:*', Resource: `acs:oss:*:*:${BUCKET}/tenant-a/secret*` },
      ],
    });
    expect(policyAllows(denied, 'oss:GetObject', `acs:oss:*:*:${BUCKET}/tenant-a/secret.txt`)).toBe(false);
    expect(policyAllows('not json', 'oss:GetObject', 'x')).toBe(false);
  });
});
