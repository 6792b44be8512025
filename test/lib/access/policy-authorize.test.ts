/**
 * authorize (lib/access/policy.ts) with the policy read from SSM replaced by a document in memory:
 * how a session policy's refusal and rendering reach the caller and the log.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Caller } from '../../../lib/access/caller.js';
import { authorize, type Policy } from '../../../lib/access/policy.js';
import { BrokerError } from '../../../lib/core/errors.js';
import { fakeLogger } from '../../support/fake-logger.js';

const policyInSsm = vi.hoisted(() => ({ document: undefined as unknown }));
vi.mock(import('../../../lib/aws/ssm-parameter.js'), async (original) => ({
  ...(await original()),
  // The document parsed as the broker parses it, without SSM; a fresh object each read, as after a cache expiry.
  readJsonParameter: async (_name, schema) => (await import('zod/mini')).parse(schema, structuredClone(policyInSsm.document)),
}));

const STS = 'aliyun-sts:AssumeRole';
const ROLE = { assumesRole: true };
const ownFolder: Policy = {
  version: 1,
  rules: [
    {
      id: 'own-folder',
      callers: [{ claims: { tenant: '*' } }],
      operations: [STS],
      sessionPolicy: { Version: '1', Statement: [{ Effect: 'Allow', Action: ['oss:PutObject'], Resource: ['acs:oss:*:*:b/${tenant}/*'] }] },
    },
    { id: 'broad', callers: [{ claims: { sub: '*' } }], operations: [STS] },
  ],
};
const jwt = (claims: Record<string, string>): Caller => ({ kind: 'jwt', claims });

beforeEach(() => {
  vi.stubEnv('POLICY_PARAMETER', '/cloud-token-broker/test/policy');
  policyInSsm.document = ownFolder;
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('authorize with a session policy', () => {
  it('hands back the rendered session policy with the rule that allowed', async () => {
    const decision = await authorize(STS, jwt({ sub: 'u1', tenant: 'tenant-a' }), {}, fakeLogger(), ROLE);
    expect(decision).toEqual({
      allowed: true,
      rule: 'own-folder',
      sessionPolicy: '{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:PutObject"],"Resource":["acs:oss:*:*:b/tenant-a/*"]}]}',
    });
  });

  it('answers 403 for a claim that could widen the policy, naming the claim and never its value, even though a later rule would allow', async () => {
    const logger = fakeLogger();
    const refusal = authorize(STS, jwt({ sub: 'u1', tenant: 'tenant-a/../tenant-b' }), {}, logger, ROLE);
    await expect(refusal).rejects.toBeInstanceOf(BrokerError);
    await expect(refusal).rejects.toMatchObject({
      code: 'Forbidden',
      status: 403,
      message: `The caller's claim tenant holds a character outside A-Z a-z 0-9 . _ @ -, so ${STS} is refused.`,
    });
    expect(logger.warn).toHaveBeenCalledWith('a claim was refused for a session policy', {
      claim: 'tenant',
      reason: 'holds a character outside A-Z a-z 0-9 . _ @ -',
    });
    expect(JSON.stringify(logger.warn.mock.calls)).not.toContain('tenant-b');
  });

  it('keeps the plain 403 for a request no rule allows', async () => {
    await expect(authorize(STS, { kind: 'anonymous' }, {}, fakeLogger(), ROLE)).rejects.toMatchObject({
      code: 'Forbidden',
      message: `No policy rule allows this caller to call ${STS} with this request.`,
    });
  });

  it('refuses an operation that assumes a role with 403, naming POLICY_PARAMETER, when no caller policy is configured', async () => {
    vi.stubEnv('POLICY_PARAMETER', '');
    await expect(authorize(STS, jwt({ sub: 'u1', tenant: 'tenant-a' }), {}, fakeLogger(), ROLE)).rejects.toMatchObject({
      code: 'Forbidden',
      message: expect.stringContaining('POLICY_PARAMETER'),
    });
    // Every other operation keeps today's answer: the authorizer is the gate.
    await expect(
      authorize('cams:GetChatappUploadAuthorization', { kind: 'anonymous' }, {}, fakeLogger(), { assumesRole: false }),
    ).resolves.toEqual({ allowed: true });
  });

  it('logs a rule that opts out of session policies once, when the policy loads', async () => {
    policyInSsm.document = {
      version: 1,
      rules: [{ id: 'admin-tools', callers: [{ claims: { sub: '*' } }], operations: [STS], sessionPolicy: 'none' }],
    };
    const logger = fakeLogger();
    await expect(authorize(STS, jwt({ sub: 'u1' }), {}, logger, ROLE)).resolves.toEqual({
      allowed: true,
      rule: 'admin-tools',
      unscoped: true,
    });
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('opts out of session policies'), { rule: 'admin-tools' });
  });

  it('denies everything, logging why, when a template is malformed', async () => {
    const logger = fakeLogger();
    policyInSsm.document = { ...ownFolder, rules: [{ ...ownFolder.rules[0]!, sessionPolicy: { Resource: '${principal}' } }] };
    await expect(authorize(STS, jwt({ sub: 'u1', tenant: 'tenant-a' }), {}, logger, ROLE)).rejects.toMatchObject({ code: 'Forbidden' });
    expect(logger.error).toHaveBeenCalledWith(
      'caller policy is malformed; denying every request until it is fixed',
      expect.objectContaining({ reason: expect.stringContaining('rules[0].sessionPolicy.Resource') }),
    );
  });
});
