import { beforeEach, describe, expect, it } from 'vitest';
import { handler as cams } from '../../functions/cams-get-upload-authorization.js';
import { handler as ims } from '../../functions/ims-provision-external-application.js';
import { bodyKey } from '../../lib/state/body-key.js';
import { httpApiEvent, lambdaContext } from '../../sim/lambda-events.js';
import { SIMULATOR_DEFAULT_KEYS } from '../../sim/vendor-simulator.js';
import { KEY_PARAMETERS, useBrokerEnv } from '../support/broker-env.js';
import { withoutMetrics } from '../support/emf.js';
import { invokeHttp } from '../support/invoke-http.js';
import { captureLogs, stringsIn } from '../support/log-capture.js';

const POLICY = '/cloud-token-broker/test/policy';
const CAMS = '/v1/aliyun/cams/upload-authorization';
const ACTION = 'GetChatappUploadAuthorization';

/** docs/caller-policy.md's worked example: two tenants, each limited to its own CAMS space. */
const twoTenants = {
  version: 1,
  rules: [
    {
      id: 'tenant-own-space',
      callers: [{ claims: { tenant: 'tenant-*', scope: 'uploads' } }],
      operations: ['cams:GetChatappUploadAuthorization'],
      constraints: { custSpaceId: { equals: '${tenant}' } },
    },
    {
      id: 'onboarding-service',
      callers: [{ principal: 'arn:aws:sts::123456789012:assumed-role/onboarding-*/*' }],
      operations: ['ims:ProvisionExternalApplication'],
    },
  ],
};

const tenant = (name: string) => ({
  jwt: { claims: { sub: `user-of-${name}`, iss: 'https://issuer.example.test', tenant: name, scope: 'openid uploads' }, scopes: null },
});
const asTenant = (name: string, custSpaceId: string) => httpApiEvent(CAMS, { custSpaceId }, { authorizer: tenant(name) });

const broker = useBrokerEnv({ env: { POLICY_PARAMETER: POLICY } });
beforeEach(() => {
  broker.ssm.put(POLICY, twoTenants);
  broker.ssm.clearRequests();
});

async function withLogs<T>(run: () => Promise<T>) {
  const logs = captureLogs();
  try {
    const result = await run();
    return { result, audits: logs.records().filter((r) => r.type === 'audit'), lines: logs.lines, records: logs.records() };
  } finally {
    logs.restore();
  }
}

describe('caller policy', () => {
  it('lets a tenant have credentials for its own space, recording the rule', async () => {
    const { result, audits } = await withLogs(() => invokeHttp(cams, asTenant('tenant-a', 'tenant-a')));
    expect(result.statusCode).toBe(200);
    expect(audits).toHaveLength(1);
    expect(withoutMetrics(audits[0]!)).toEqual({
      type: 'audit',
      time: expect.any(String),
      requestId: result.json.requestId,
      operation: 'cams:GetChatappUploadAuthorization',
      caller: { kind: 'jwt', subject: 'user-of-tenant-a', issuer: 'https://issuer.example.test' },
      bodyHash: bodyKey({ custSpaceId: 'tenant-a' }),
      decision: 'allowed',
      rule: 'tenant-own-space',
      outcome: { status: 200 },
      source: 'vendor',
      expiresAt: result.json.expiresAt,
      vendorRequestId: result.json.vendorRequestId,
      traceId: null,
      durationMs: expect.any(Number),
    });
  });

  it("refuses another tenant's space with 403 before any key is read or the vendor is called", async () => {
    const { result, audits } = await withLogs(() => invokeHttp(cams, asTenant('tenant-a', 'tenant-b')));
    expect(result.statusCode).toBe(403);
    expect(result.json.error.code).toBe('Forbidden');
    expect(result.json.error.message).toContain('cams:GetChatappUploadAuthorization');
    // It names the operation, not what the policy holds.
    expect(result.body).not.toMatch(/tenant-own-space|\$\{tenant\}|onboarding/);
    expect(broker.ssm.requests.flatMap((r) => r.names)).not.toContain(KEY_PARAMETERS.aliyun);
    expect(broker.sim.calls).toHaveLength(0);
    expect(audits).toEqual([
      expect.objectContaining({ decision: 'denied', outcome: { status: 403, code: 'Forbidden' }, source: null, expiresAt: null }),
    ]);
  });

  it('checks the policy on cache hits too', async () => {
    expect((await invokeHttp(cams, asTenant('tenant-a', 'tenant-a'))).statusCode).toBe(200);
    const { result, audits } = await withLogs(() => invokeHttp(cams, asTenant('tenant-b', 'tenant-a')));
    expect(result.statusCode).toBe(403);
    expect(audits[0]).toMatchObject({ decision: 'denied' });
    const { audits: hit } = await withLogs(() => invokeHttp(cams, asTenant('tenant-a', 'tenant-a')));
    expect(hit[0]).toMatchObject({ decision: 'allowed', source: 'memory' });
  });

  it('matches IAM principals from the IAM authorizer', async () => {
    const event = (role: string) =>
      httpApiEvent(
        '/v1/aliyun/ims/external-applications',
        { appId: '7' },
        { authorizer: { iam: { userArn: `arn:aws:sts::123456789012:assumed-role/${role}/s`, accountId: '123456789012' } } },
      );
    expect((await invokeHttp(ims, event('onboarding-prod'))).statusCode).toBe(200);
    expect((await invokeHttp(ims, event('someone-else'))).statusCode).toBe(403);
  });

  it('denies everything, and says why in the log, when the policy is malformed', async () => {
    broker.ssm.put(POLICY, { version: 1, rules: [{ id: 'oops', allow: '*' }] });
    const { result, records } = await withLogs(() => invokeHttp(cams, asTenant('tenant-a', 'tenant-a')));
    expect(result.statusCode).toBe(403);
    expect(
      records.some((r) => r.message === 'caller policy is malformed; denying every request until it is fixed' && Array.isArray(r.details)),
    ).toBe(true);
    expect(broker.sim.calls).toHaveLength(0);
  });

  it('denies everything, logging where, when a pattern is unbounded: the policy never runs it', async () => {
    broker.ssm.put(POLICY, {
      version: 1,
      rules: [
        {
          id: 'nested',
          callers: [{ claims: { tenant: '*' } }],
          operations: ['*'],
          constraints: { custSpaceId: { pattern: '^(${tenant}|[a-z]+)+$' } },
        },
      ],
    });
    const { result, records } = await withLogs(() => invokeHttp(cams, asTenant('tenant-a', `${'a'.repeat(40)}-`)));
    expect(result.statusCode).toBe(403);
    const why = records.find((r) => r.message === 'caller policy is malformed; denying every request until it is fixed');
    expect(why?.reason).toMatch(/rules\[0\]\.constraints\.custSpaceId: a quantified group/);
    expect(broker.sim.calls).toHaveLength(0);
  });

  it('answers 503 when the policy parameter cannot be read, never allowing', async () => {
    broker.ssm.delete(POLICY);
    const answer = await invokeHttp(cams, asTenant('tenant-a', 'tenant-a'));
    expect(answer.statusCode).toBe(503);
    expect(answer.json.error.code).toBe('PolicyUnavailable');
    expect(broker.sim.calls).toHaveLength(0);
  });

  it('does not govern scheduled rotation or events: they are not callers', async () => {
    broker.ssm.put(POLICY, { version: 1, rules: [] });
    await expect(cams({ rotate: [{ custSpaceId: 'tenant-a' }] }, lambdaContext())).resolves.toMatchObject({ rotated: 1 });
    await expect(ims({ 'detail-type': 'TenantOnboarded', detail: { appId: '9' } }, lambdaContext())).resolves.toMatchObject({
      data: { foreignAppId: '9' },
    });
  });
});

describe('audit records', () => {
  it('record a failed request with its error, and never hold a secret or a returned credential', async () => {
    const ok = await withLogs(() => invokeHttp(cams, asTenant('tenant-a', 'tenant-a')));
    broker.sim.script({ action: ACTION, fault: { kind: 'aliyunError', status: 400, code: 'Ram.PermissionDeny' } });
    const failed = await withLogs(() => invokeHttp(cams, asTenant('tenant-c', 'tenant-c')));
    expect(failed.result.statusCode).toBe(403);
    expect(failed.audits).toEqual([
      expect.objectContaining({
        decision: 'allowed',
        rule: 'tenant-own-space',
        outcome: { status: 403, code: 'VendorAccessDenied', vendorCode: 'Ram.PermissionDeny' },
        source: 'vendor',
        expiresAt: null,
      }),
    ]);
    const secrets = [
      SIMULATOR_DEFAULT_KEYS.aliyun.accessKeySecret,
      ok.result.json.data.accessKeySecret,
      ok.result.json.data.securityToken,
      ok.result.json.data.accessKeyId,
    ];
    for (const line of [...ok.lines, ...failed.lines]) for (const secret of secrets) expect(line).not.toContain(secret);
    // The body is hashed, never copied.
    expect(stringsIn([...ok.audits, ...failed.audits])).not.toContain('tenant-c');
  });
});
