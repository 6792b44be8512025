/**
 * The two STS operations end to end against the simulator: the role comes from configuration,
 * the session name from the caller, the session policy from the caller's rule rendered with
 * its claims; the token cache never shares credentials between callers of different scope.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as aliyunSts } from '../../functions/aliyun-sts-assume-role.js';
import { handler as tencentSts } from '../../functions/tencent-sts-assume-role.js';
import { httpApiEvent, lambdaContext, sqsBatch, sqsRecord } from '../../sim/lambda-events.js';
import { useBrokerEnv } from '../support/broker-env.js';
import { invokeHttp } from '../support/invoke-http.js';

const POLICY = '/cloud-token-broker/test/policy';
const ALIYUN_ROLE = 'acs:ram::1234567890123456:role/app-uploads';
const TENCENT_ROLE = 'qcs::cam::uin/100000000001:roleName/app-uploads';

const VENDORS = [
  {
    vendor: 'aliyun',
    handler: aliyunSts,
    route: '/v1/aliyun/sts/assume-role',
    operation: 'aliyun-sts:AssumeRole',
    roleVariable: 'ALIYUN_STS_ROLE_ARN',
    roleArn: ALIYUN_ROLE,
    template: {
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: ['oss:PutObject', 'oss:GetObject'], Resource: ['acs:oss:*:*:uploads/${tenant}/*'] }],
    },
    rendered: (tenant: string) => ({
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: ['oss:PutObject', 'oss:GetObject'], Resource: [`acs:oss:*:*:uploads/${tenant}/*`] }],
    }),
    keyId: (data: Record<string, any>) => data.accessKeyId as string,
  },
  {
    vendor: 'tencent',
    handler: tencentSts,
    route: '/v1/tencent/sts/assume-role',
    operation: 'tencent-sts:AssumeRole',
    roleVariable: 'TENCENT_STS_ROLE_ARN',
    roleArn: TENCENT_ROLE,
    template: {
      version: '2.0',
      statement: [
        {
          effect: 'allow',
          action: ['name/cos:PutObject'],
          resource: ['qcs::cos:ap-guangzhou:uid/1250000000:uploads-1250000000/${tenant}/*'],
        },
      ],
    },
    rendered: (tenant: string) => ({
      version: '2.0',
      statement: [
        {
          effect: 'allow',
          action: ['name/cos:PutObject'],
          resource: [`qcs::cos:ap-guangzhou:uid/1250000000:uploads-1250000000/${tenant}/*`],
        },
      ],
    }),
    keyId: (data: Record<string, any>) => data.credentials.tmpSecretId as string,
  },
] as const;

const broker = useBrokerEnv({
  env: { POLICY_PARAMETER: POLICY, ALIYUN_STS_ROLE_ARN: ALIYUN_ROLE, TENCENT_STS_ROLE_ARN: TENCENT_ROLE },
});

const asCaller = (route: string, claims: Record<string, string>, body: unknown = {}) =>
  httpApiEvent(route, body, { authorizer: { jwt: { claims: { iss: 'https://issuer.example.test', ...claims }, scopes: null } } });

describe.each(VENDORS)('$operation', (v) => {
  beforeEach(() => {
    broker.ssm.put(POLICY, {
      version: 1,
      rules: [
        { id: 'tenant-uploads', callers: [{ claims: { tenant: 'tenant-*' } }], operations: [v.operation], sessionPolicy: v.template },
      ],
    });
  });

  it("assumes the configured role, named after the caller, within the rule's policy rendered with its claims", async () => {
    const answer = await invokeHttp(v.handler, asCaller(v.route, { sub: 'user-7', tenant: 'tenant-a' }, { durationSeconds: 900 }));
    expect(answer.statusCode).toBe(200);
    expect(answer.headers?.['Cache-Control'] ?? answer.headers?.['cache-control']).toBe('no-store');
    expect(answer.json.operation).toBe(v.operation);
    expect(Date.parse(answer.json.expiresAt) - Date.now()).toBeGreaterThan(800_000);
    expect(Date.parse(answer.json.expiresAt) - Date.now()).toBeLessThanOrEqual(900_000);
    const [call, ...more] = broker.sim.assumeRoleCalls;
    expect(more).toHaveLength(0);
    expect(call).toMatchObject({ vendor: v.vendor, code: 'OK', roleArn: v.roleArn, roleSessionName: 'user-7', durationSeconds: 900 });
    expect(call!.policyDocument).toEqual(v.rendered('tenant-a'));
    expect(call!.issued?.accessKeyId).toBe(v.keyId(answer.json.data));
  });

  it('serves one caller again from the cache, and never hands one tenant the credentials of another', async () => {
    const a1 = await invokeHttp(v.handler, asCaller(v.route, { sub: 'user-7', tenant: 'tenant-a' }));
    const a2 = await invokeHttp(v.handler, asCaller(v.route, { sub: 'user-7', tenant: 'tenant-a' }));
    const b = await invokeHttp(v.handler, asCaller(v.route, { sub: 'user-7', tenant: 'tenant-b' }));
    expect([a1.statusCode, a2.statusCode, b.statusCode]).toEqual([200, 200, 200]);
    expect(v.keyId(a2.json.data)).toBe(v.keyId(a1.json.data));
    expect(v.keyId(b.json.data)).not.toBe(v.keyId(a1.json.data));
    expect(broker.sim.assumeRoleCalls.map((c) => c.policyDocument)).toEqual([v.rendered('tenant-a'), v.rendered('tenant-b')]);
  });

  it.each(['tenant-a/../tenant-b', 'tenant-*', 'tenant-a"', 'tenant-\u0000a'])(
    'refuses a claim that could widen the policy (%j) with 403, before the vendor',
    async (tenant) => {
      const answer = await invokeHttp(v.handler, asCaller(v.route, { sub: 'user-7', tenant }));
      expect(answer.statusCode).toBe(403);
      expect(answer.json.error.code).toBe('Forbidden');
      expect(broker.sim.assumeRoleCalls).toHaveLength(0);
    },
  );

  it('lets no request choose the role, the session name or the policy', async () => {
    for (const field of ['roleArn', 'roleSessionName', 'policy']) {
      const answer = await invokeHttp(v.handler, asCaller(v.route, { sub: 'user-7', tenant: 'tenant-a' }, { [field]: 'x' }));
      expect(answer.statusCode).toBe(400);
    }
    expect(broker.sim.assumeRoleCalls).toHaveLength(0);
  });

  it('answers 503 ConfigurationError when the deployment names no role', async () => {
    const configured = process.env[v.roleVariable];
    delete process.env[v.roleVariable];
    try {
      const answer = await invokeHttp(v.handler, asCaller(v.route, { sub: 'user-7', tenant: 'tenant-a' }));
      expect(answer.statusCode).toBe(503);
      expect(answer.json.error.code).toBe('ConfigurationError');
    } finally {
      process.env[v.roleVariable] = configured;
    }
    expect(broker.sim.assumeRoleCalls).toHaveLength(0);
  });

  it('refuses an SQS event: a queue has no caller to scope credentials to', async () => {
    await expect(v.handler(sqsBatch(sqsRecord('m-1', '{}')), lambdaContext())).rejects.toThrow(/accepts only these events: http/);
    expect(broker.sim.assumeRoleCalls).toHaveLength(0);
  });
});
