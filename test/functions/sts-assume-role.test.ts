/**
 * The two STS operations end to end against the simulator: the role comes from configuration,
 * the session name from the caller, the session policy from the caller's rule rendered with
 * its claims; the token cache never shares credentials between callers of different scope.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as aliyunSts } from '../../functions/aliyun-sts-assume-role.js';
import { handler as tencentSts } from '../../functions/tencent-sts-assume-role.js';
import { httpApiEvent, lambdaContext, sqsBatch, sqsRecord } from '../../sim/lambda-events.js';
import { KEY_PARAMETERS, useBrokerEnv } from '../support/broker-env.js';
import { invokeHttp } from '../support/invoke-http.js';
import { captureLogs } from '../support/log-capture.js';

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
    defaultSeconds: 3600,
    maxSeconds: 3600,
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
    defaultSeconds: 7200,
    maxSeconds: 43_200,
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

const asCaller = (route: string, claims: Record<string, unknown>, body: unknown = {}) =>
  httpApiEvent(route, body, { authorizer: { jwt: { claims: { iss: 'https://issuer.example.test', ...claims }, scopes: null } } });
/** A caller exactly as given: no issuer added. */
const withClaims = (route: string, claims: Record<string, unknown>, body: unknown = {}) =>
  httpApiEvent(route, body, { authorizer: { jwt: { claims, scopes: null } } });

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
    // Asked 900 s: the vendor is asked for 900 s, its least, and no longer.
    expect(Date.parse(answer.json.expiresAt) - Date.now()).toBeGreaterThan(900_000 - 100_000);
    expect(Date.parse(answer.json.expiresAt) - Date.now()).toBeLessThanOrEqual(900_000);
    const [call, ...more] = broker.sim.assumeRoleCalls;
    expect(more).toHaveLength(0);
    // Named after the caller, with a hash of its issuer and subject.
    expect(call).toMatchObject({ vendor: v.vendor, code: 'OK', roleArn: v.roleArn, durationSeconds: 900 });
    expect(call!.roleSessionName).toMatch(/^user-7-[0-9a-f]{10}$/);
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

  it.each(['tenant-a/../tenant-b', 'tenant-*', 'tenant-a"', 'tenant-\u0000a', 'tenant-a\uff0ftenant-b', 'tenant-\uff0a', 'tenant-a b'])(
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

  /** Puts a policy of these rules in the fake SSM. */
  const policyOf = (...rules: Record<string, unknown>[]) => broker.ssm.put(POLICY, { version: 1, rules });
  const anyone = [{ claims: { sub: '*' } }];

  it('refuses with 403, naming POLICY_PARAMETER, when no caller policy is configured, before any key is read', async () => {
    const configured = process.env.POLICY_PARAMETER;
    delete process.env.POLICY_PARAMETER;
    broker.ssm.clearRequests();
    try {
      const answer = await invokeHttp(v.handler, asCaller(v.route, { sub: 'user-7', tenant: 'tenant-a' }));
      expect(answer.statusCode).toBe(403);
      expect(answer.json.error.code).toBe('Forbidden');
      expect(answer.json.error.message).toContain('POLICY_PARAMETER');
      expect(answer.headers?.['Cache-Control'] ?? answer.headers?.['cache-control']).toBe('no-store');
    } finally {
      process.env.POLICY_PARAMETER = configured;
    }
    // Neither a key nor the policy was asked of SSM.
    expect(broker.ssm.requests).toEqual([]);
    expect(broker.ssm.requests.flatMap((r) => r.names)).not.toContain(KEY_PARAMETERS[v.vendor]);
    expect(broker.sim.assumeRoleCalls).toHaveLength(0);
  });

  it.each([['*'], [`${v.operation.split(':')[0]}:*`], ['*:AssumeRole']])(
    'is not covered by the glob %s in a rule, session policy or not: it must be named',
    async (glob) => {
      policyOf({ id: 'everything', callers: anyone, operations: [glob], sessionPolicy: v.template });
      const answer = await invokeHttp(v.handler, asCaller(v.route, { sub: 'user-7', tenant: 'tenant-a' }));
      expect(answer.statusCode).toBe(403);
      expect(broker.sim.assumeRoleCalls).toHaveLength(0);
    },
  );

  it('refuses when the rule naming it has no session policy, and logs which rule to fix', async () => {
    policyOf({ id: 'written-before-sts', callers: anyone, operations: [v.operation] });
    const logs = captureLogs();
    let answer: Awaited<ReturnType<typeof invokeHttp>>;
    try {
      answer = await invokeHttp(v.handler, asCaller(v.route, { sub: 'user-7', tenant: 'tenant-a' }));
    } finally {
      logs.restore();
    }
    expect(answer.statusCode).toBe(403);
    expect(broker.sim.assumeRoleCalls).toHaveLength(0);
    expect(logs.records()).toContainEqual(expect.objectContaining({ level: 'warn', rules: ['written-before-sts'] }));
  });

  it('hands out the role\'s whole reach only to a rule saying "sessionPolicy": "none", logged at load and on every audit line', async () => {
    policyOf({ id: 'admin-tools', callers: anyone, operations: [v.operation], sessionPolicy: 'none' });
    const logs = captureLogs();
    try {
      expect((await invokeHttp(v.handler, asCaller(v.route, { sub: 'admin' }))).statusCode).toBe(200);
      expect((await invokeHttp(v.handler, asCaller(v.route, { sub: 'admin' }))).statusCode).toBe(200);
    } finally {
      logs.restore();
    }
    expect(broker.sim.assumeRoleCalls).toHaveLength(1);
    expect(broker.sim.assumeRoleCalls[0]!.policyDocument).toBeUndefined();
    const records = logs.records();
    expect(records.filter((r) => r.level === 'warn' && r.rule === 'admin-tools' && /opts out/.test(String(r.message)))).toHaveLength(1);
    const audits = records.filter((r) => r.type === 'audit');
    expect(audits).toHaveLength(2);
    for (const audit of audits) expect(audit.session).toMatchObject({ sessionPolicy: 'none', unscopedByRule: 'admin-tools' });
  });

  it.each([
    ['lacks it', { sub: 'user-7' }],
    ['holds it empty', { sub: 'user-7', tenant: '' }],
    ['holds a list', { sub: 'user-7', tenant: ['tenant-a', 'tenant-b'] }],
    ['holds an object', { sub: 'user-7', tenant: { name: 'tenant-a' } }],
  ])('refuses (403) a caller that %s the claim a matching rule needs, never trying a later, wider rule', async (_how, claims) => {
    policyOf(
      { id: 'tenant-uploads', callers: anyone, operations: [v.operation], sessionPolicy: v.template },
      { id: 'wider', callers: anyone, operations: [v.operation], sessionPolicy: 'none' },
    );
    const answer = await invokeHttp(v.handler, asCaller(v.route, claims));
    expect(answer.statusCode).toBe(403);
    expect(answer.json.error.message).toContain('tenant');
    expect(broker.sim.assumeRoleCalls).toHaveLength(0);
  });

  it('never shares credentials or a session name between two issuers of one subject', async () => {
    const first = await invokeHttp(v.handler, withClaims(v.route, { iss: 'https://a.example.test', sub: 'user-7', tenant: 'tenant-a' }));
    const second = await invokeHttp(v.handler, withClaims(v.route, { iss: 'https://b.example.test', sub: 'user-7', tenant: 'tenant-a' }));
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(v.keyId(second.json.data)).not.toBe(v.keyId(first.json.data));
    const names = broker.sim.assumeRoleCalls.map((c) => c.roleSessionName);
    expect(names).toHaveLength(2);
    expect(names[0]).not.toBe(names[1]);
  });

  it('never shares credentials or a session name between the anonymous caller and a subject named "anonymous"', async () => {
    // A fixed document (no claim): both callers render the same session policy.
    broker.ssm.put(POLICY, {
      version: 1,
      rules: [
        { id: 'fixed', callers: [{ anonymous: true }, { claims: {} }], operations: [v.operation], sessionPolicy: v.rendered('shared') },
      ],
    });
    const anonymous = await invokeHttp(v.handler, httpApiEvent(v.route, {}));
    const namedAnonymous = await invokeHttp(v.handler, withClaims(v.route, { sub: 'anonymous' }));
    expect([anonymous.statusCode, namedAnonymous.statusCode]).toEqual([200, 200]);
    expect(v.keyId(namedAnonymous.json.data)).not.toBe(v.keyId(anonymous.json.data));
    const [a, b] = broker.sim.assumeRoleCalls.map((c) => c.roleSessionName);
    expect(a).toBe('anonymous');
    expect(b).toMatch(/^anonymous-[0-9a-f]{10}$/);
  });

  it('makes one AssumeRole call per lifetime step for 60 requests asking 60 durations, each answer living at least 3/4 of what it asked and less than twice it', async () => {
    const asked = Array.from({ length: 60 }, (_, i) => 900 + Math.floor((i * (v.defaultSeconds - 900)) / 59));
    // Shuffled: longest first would hide a cache that only serves shorter asks.
    asked.sort((x, y) => ((x * 7919) % 61) - ((y * 7919) % 61));
    for (const durationSeconds of asked) {
      const answer = await invokeHttp(v.handler, asCaller(v.route, { sub: 'user-7', tenant: 'tenant-a' }, { durationSeconds }));
      expect(answer.statusCode).toBe(200);
      const lives = Date.parse(answer.json.expiresAt) - Date.now();
      expect(lives).toBeGreaterThanOrEqual(durationSeconds * 750);
      // Never a longer-lived credential than asked for by a whole step: a lifetime is reach too.
      expect(lives).toBeLessThan(durationSeconds * 2000);
    }
    // Steps of 900 s doubled up to the default: 900, 1800, 3600 (Tencent Cloud: and 7200).
    expect(broker.sim.assumeRoleCalls.length).toBeLessThanOrEqual(v.vendor === 'aliyun' ? 3 : 4);
  });

  it('makes at most a few AssumeRole calls for 60 requests asking 60 durations across the whole range', async () => {
    const asked = Array.from({ length: 60 }, (_, i) => 900 + Math.floor((i * (v.maxSeconds - 900)) / 59));
    for (const durationSeconds of asked) {
      const answer = await invokeHttp(v.handler, asCaller(v.route, { sub: 'user-7', tenant: 'tenant-a' }, { durationSeconds }));
      expect(answer.statusCode).toBe(200);
      expect(Date.parse(answer.json.expiresAt) - Date.now()).toBeGreaterThanOrEqual(durationSeconds * 750);
    }
    // Ascending, the worst order: one call per lifetime the broker asks for (900 s doubled, capped):
    // 900 to 3600 (Alibaba Cloud), 900 to 43,200 (Tencent Cloud).
    expect(broker.sim.assumeRoleCalls.length).toBeLessThanOrEqual(v.vendor === 'aliyun' ? 3 : 7);
  });
});
