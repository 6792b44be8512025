import { describe, expect, it } from 'vitest';
import { callerIdentity } from '../../../lib/access/caller.js';
import { bodyKey, scopedBodyKey } from '../../../lib/state/body-key.js';

/** A session policy as a rule renders it for one tenant. */
const policyFor = (tenant: string) =>
  `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:PutObject"],"Resource":["acs:oss:*:*:b/${tenant}/*"]}]}`;

describe('scopedBodyKey', () => {
  it.each([
    // Keys the token table holds today (computed before scopes existed): they must not move.
    [{ custSpaceId: 'tenant-a' }, '139659d87c77cb17cee0d62b74a74a6b'],
    [{ appId: '1', scopes: ['openid', 'aliuid'] }, 'de8a24a9be3949fcb68b8d5520efd049'],
    [{}, '44136fa355b3678a1146ad16f7e8649e'],
    [{ resourceGroupId: 'rg-1' }, '591d200d55bb6402ef73b5822c869bb0'],
    [{ tokenName: 'n', display: 3 }, 'a679dc26a0ca8a3a4eb1053d97eb3ebc'],
  ])('is the key %j always had when there is no caller scope', (body, key) => {
    expect(bodyKey(body)).toBe(key);
    expect(scopedBodyKey(body)).toBe(key);
    expect(scopedBodyKey(body, {})).toBe(key);
  });

  it('differs between callers whose session policies differ, for the same body', () => {
    const body = { durationSeconds: 3600 };
    const a = scopedBodyKey(body, { sessionPolicy: policyFor('tenant-a'), sessionName: 'svc' });
    const b = scopedBodyKey(body, { sessionPolicy: policyFor('tenant-b'), sessionName: 'svc' });
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
  });

  it('differs when the deployment assumes another role, for the same caller and body', () => {
    const scope = { sessionPolicy: policyFor('tenant-a'), sessionName: 'alice' };
    expect(scopedBodyKey({}, { ...scope, roleArn: 'acs:ram::1:role/narrow' })).not.toBe(
      scopedBodyKey({}, { ...scope, roleArn: 'acs:ram::1:role/broad' }),
    );
  });

  it('differs between callers with the same session policy but different session names', () => {
    const scope = { sessionPolicy: policyFor('tenant-a') };
    expect(scopedBodyKey({}, { ...scope, sessionName: 'alice' })).not.toBe(scopedBodyKey({}, { ...scope, sessionName: 'bob' }));
  });

  it('never equals the key of the body alone, nor of a policy moved into the name', () => {
    const body = { durationSeconds: 900 };
    const keys = [
      bodyKey(body),
      scopedBodyKey(body, { sessionName: 'alice' }),
      scopedBodyKey(body, { sessionPolicy: 'alice' }),
      scopedBodyKey(body, { sessionPolicy: policyFor('a'), sessionName: 'alice' }),
      // A body that spells the scope out as fields of its own is another body.
      bodyKey({ body, sessionPolicy: policyFor('a'), sessionName: 'alice' }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('is the same for the same body and scope, whatever the order of the body fields', () => {
    const scope = { sessionPolicy: policyFor('a'), sessionName: 'alice' };
    expect(scopedBodyKey({ a: 1, b: 2 }, scope)).toBe(scopedBodyKey({ b: 2, a: 1 }, scope));
  });

  it('differs between callers of the same session name and policy whose identities differ (issuer, kind)', () => {
    const scope = { sessionPolicy: policyFor('a'), sessionName: 'anonymous' };
    const keys = [
      scopedBodyKey({}, { ...scope, caller: callerIdentity({ kind: 'anonymous' }) }),
      scopedBodyKey({}, { ...scope, caller: callerIdentity({ kind: 'jwt', subject: 'anonymous', claims: {} }) }),
      scopedBodyKey({}, { ...scope, caller: callerIdentity({ kind: 'jwt', subject: 'anonymous', issuer: 'https://a.test', claims: {} }) }),
      scopedBodyKey({}, { ...scope, caller: callerIdentity({ kind: 'jwt', subject: 'anonymous', issuer: 'https://b.test', claims: {} }) }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });
});
