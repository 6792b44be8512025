/**
 * Vendor accounts end to end against the simulator (each account its own AccessKey there): the
 * caller policy's rule picks the account, literally or from a claim; an account that is not
 * configured is refused before any key is read; each account signs with its own key, keeps its
 * own token items and metrics; an STS account's role, ExternalId and lifetime come from its key
 * parameter, and the caller reaches the vendor as SourceIdentity (Tencent Cloud also as Tags).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as aliyunSts } from '../../functions/aliyun-sts-assume-role.js';
import { handler as cams } from '../../functions/cams-get-upload-authorization.js';
import { handler as tencentSts } from '../../functions/tencent-sts-assume-role.js';
import { httpApiEvent, lambdaContext } from '../../sim/lambda-events.js';
import { tableItems } from '../../sim/table-items.js';
import { SIMULATOR_DEFAULT_KEYS } from '../../sim/vendor-simulator.js';
import { KEY_PARAMETERS, useBrokerEnv } from '../support/broker-env.js';
import { invokeHttp } from '../support/invoke-http.js';
import { captureLogs } from '../support/log-capture.js';

const POLICY = '/cloud-token-broker/test/policy';
const CAMS_ROUTE = '/v1/aliyun/cams/upload-authorization';
const CAMS_OP = 'cams:GetChatappUploadAuthorization';
const ALIYUN_STS_ROUTE = '/v1/aliyun/sts/assume-role';
const TENCENT_STS_ROUTE = '/v1/tencent/sts/assume-role';

const KEYS = {
  acme: { accessKeyId: 'sim-aliyun-acme', accessKeySecret: 'sim-aliyun-acme-secret-5c1e' },
  globex: { accessKeyId: 'sim-aliyun-globex', accessKeySecret: 'sim-aliyun-globex-secret-9a2d' },
};
const ACME_ROLE = 'acs:ram::1111111111111111:role/acme-uploads';
const DEFAULT_ROLE = 'acs:ram::1234567890123456:role/app-uploads';
const TENCENT_ACME_ROLE = 'qcs::cam::uin/100000000002:roleName/acme-uploads';
const ACME_EXTERNAL_ID = 'acme-external-7f3a';

const ALIYUN_SESSION = { Version: '1', Statement: [{ Effect: 'Allow', Action: ['oss:GetObject'], Resource: ['acs:oss:*:*:up/${sub}/*'] }] };
const TENCENT_SESSION = {
  version: '2.0',
  statement: [
    { effect: 'allow', action: ['name/cos:GetObject'], resource: ['qcs::cos:ap-guangzhou:uid/1250000000:up-1250000000/${sub}/*'] },
  ],
};

const broker = useBrokerEnv({
  env: { POLICY_PARAMETER: POLICY, ALIYUN_ACCOUNTS: 'acme,globex', TENCENT_ACCOUNTS: 'acme', ALIYUN_STS_ROLE_ARN: DEFAULT_ROLE },
  simulator: {
    aliyunKeys: [{ ...SIMULATOR_DEFAULT_KEYS.aliyun }, KEYS.acme, KEYS.globex],
    aliyunMaxSessionDurationSeconds: 43_200,
    stsRoles: { [ACME_ROLE]: { externalId: ACME_EXTERNAL_ID }, [TENCENT_ACME_ROLE]: { externalId: ACME_EXTERNAL_ID } },
  },
});

const asCaller = (route: string, claims: Record<string, unknown>, body: unknown = {}) =>
  httpApiEvent(route, body, { authorizer: { jwt: { claims: { iss: 'https://issuer.example.test', ...claims }, scopes: null } } });

/** Which parameters the fake SSM was asked for, besides the caller policy. */
const keyReads = () => broker.ssm.requests.flatMap((request) => request.names).filter((name) => name !== POLICY);

/** The policy: CAMS in the account the caller's `org` claim names; the STS routes in account `acme`. */
function putPolicy(camsAccount: string, extra: Record<string, unknown>[] = []) {
  broker.ssm.put(POLICY, {
    version: 1,
    rules: [{ id: 'cams-by-org', callers: [{ claims: { org: '*' } }], operations: [CAMS_OP], account: camsAccount }, ...extra],
  });
}

beforeEach(() => {
  broker.ssm.put(`${KEY_PARAMETERS.aliyun}/acme`, {
    ...KEYS.acme,
    stsRoleArn: ACME_ROLE,
    externalId: ACME_EXTERNAL_ID,
    maxSessionSeconds: 43_200,
  });
  broker.ssm.put(`${KEY_PARAMETERS.aliyun}/globex`, KEYS.globex);
  broker.ssm.put(`${KEY_PARAMETERS.tencent}/acme`, {
    ...SIMULATOR_DEFAULT_KEYS.tencent,
    stsRoleArn: TENCENT_ACME_ROLE,
    externalId: ACME_EXTERNAL_ID,
  });
  putPolicy('${org}');
  broker.ssm.clearRequests();
});

describe('the account a rule chooses', () => {
  it('signs with the account its claim names, and never hands one account the credentials of another', async () => {
    const body = { custSpaceId: 'cs-shared' };
    const acme = await invokeHttp(cams, asCaller(CAMS_ROUTE, { sub: 'u1', org: 'acme' }, body));
    const globex = await invokeHttp(cams, asCaller(CAMS_ROUTE, { sub: 'u2', org: 'globex' }, body));
    const globexAgain = await invokeHttp(cams, asCaller(CAMS_ROUTE, { sub: 'u3', org: 'globex' }, body));
    expect([acme.statusCode, globex.statusCode, globexAgain.statusCode]).toEqual([200, 200, 200]);
    // Same body, two accounts: two vendor calls, each signed with its own account's key.
    expect(broker.sim.calls.map((call) => call.accessKeyId)).toEqual([KEYS.acme.accessKeyId, KEYS.globex.accessKeyId]);
    expect(globex.json.data.accessKeyId).not.toBe(acme.json.data.accessKeyId);
    // A tenant pinned to globex is served globex's credentials from the cache, never acme's.
    expect(globexAgain.json.data.accessKeyId).toBe(globex.json.data.accessKeyId);
    expect(keyReads().sort()).toEqual([`${KEY_PARAMETERS.aliyun}/acme`, `${KEY_PARAMETERS.aliyun}/globex`]);
    // Their token items are the function's, and distinct.
    const items = tableItems(broker.table!);
    const keys = (await items.keys()).filter((pk) => pk.includes('#token#'));
    items.close();
    expect(keys).toHaveLength(2);
    for (const pk of keys) expect(pk.startsWith('cams-get-upload-authorization#token#')).toBe(true);
  });

  it.each([
    ['a literal account that is not configured', 'initech', { org: 'acme' }],
    ['a claim naming an account that is not configured', '${org}', { org: 'initech' }],
    ['a claim that is no account name', '${org}', { org: 'ACME' }],
    ['a claim outside the allow-list', '${org}', { org: 'acme/../globex' }],
    ['a missing claim', '${team}', { org: 'acme' }],
  ])('refuses %s with 403 before any key is read', async (_case, account, claims) => {
    putPolicy(account);
    broker.ssm.clearRequests();
    const logs = captureLogs();
    let answer: Awaited<ReturnType<typeof invokeHttp>>;
    try {
      answer = await invokeHttp(cams, asCaller(CAMS_ROUTE, { sub: 'u1', ...claims }, { custSpaceId: 'cs-1' }));
    } finally {
      logs.restore();
    }
    expect(answer.statusCode).toBe(403);
    expect(answer.json.error.code).toBe('Forbidden');
    // A denial on the audit line and in PolicyDenials; the answer names no account.
    const audit = logs.records().find((record) => record.type === 'audit')!;
    expect(audit).toMatchObject({ decision: 'denied', PolicyDenials: 1 });
    expect(answer.body).not.toMatch(/initech|ACME/);
    expect(answer.headers?.['Cache-Control']).toBe('no-store');
    expect(keyReads()).toEqual([]);
    expect(broker.sim.calls).toHaveLength(0);
  });

  it('keeps the default account as it was: its own parameter, its key, its token key, no Account dimension', async () => {
    broker.ssm.put(POLICY, { version: 1, rules: [{ id: 'plain', callers: [{ claims: { org: '*' } }], operations: [CAMS_OP] }] });
    broker.ssm.clearRequests();
    const logs = captureLogs();
    let answer: Awaited<ReturnType<typeof invokeHttp>>;
    try {
      answer = await invokeHttp(cams, asCaller(CAMS_ROUTE, { sub: 'u1', org: 'acme' }, { custSpaceId: 'cs-1' }));
    } finally {
      logs.restore();
    }
    expect(answer.statusCode).toBe(200);
    expect(keyReads()).toEqual([KEY_PARAMETERS.aliyun]);
    expect(broker.sim.calls.map((call) => call.accessKeyId)).toEqual([SIMULATOR_DEFAULT_KEYS.aliyun.accessKeyId]);
    const audit = logs.records().find((record) => record.type === 'audit')!;
    expect(audit.account).toBeUndefined();
    expect(audit.Account).toBeUndefined();
    expect(JSON.stringify(audit._aws)).not.toContain('Account');
  });

  it("puts a chosen account on the audit line and as the metrics' Account dimension", async () => {
    const logs = captureLogs();
    try {
      const answer = await invokeHttp(cams, asCaller(CAMS_ROUTE, { sub: 'u1', org: 'globex' }, { custSpaceId: 'cs-1' }));
      expect(answer.statusCode).toBe(200);
    } finally {
      logs.restore();
    }
    const audit = logs.records().find((record) => record.type === 'audit')!;
    expect(audit.account).toBe('globex');
    expect(audit.Account).toBe('globex');
    const dimensions = (audit._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics.flatMap((d) => d.Dimensions);
    // The dimensions the alarms use stay, and the account's join them.
    expect(dimensions).toContainEqual(['operation']);
    expect(dimensions).toContainEqual(['operation', 'Account']);
  });
});

describe("an event's account", () => {
  const rotate = (...bodies: unknown[]) =>
    (cams as (event: unknown, context: unknown) => Promise<unknown>)({ rotate: bodies }, lambdaContext(30_000));

  it("uses default, or the function's EVENT_ACCOUNT; a scheduled rotation fills the very token item that account's callers read", async () => {
    expect(await rotate({ custSpaceId: 'cs-ev' })).toMatchObject({ rotated: 1, failed: [] });
    process.env.EVENT_ACCOUNT = 'globex';
    try {
      expect(await rotate({ custSpaceId: 'cs-ev' })).toMatchObject({ rotated: 1, failed: [] });
      // A globex caller asking for the same body is served the rotated token: no third vendor call.
      broker.coldStart();
      const answer = await invokeHttp(cams, asCaller(CAMS_ROUTE, { sub: 'u1', org: 'globex' }, { custSpaceId: 'cs-ev' }));
      expect(answer.statusCode).toBe(200);
      process.env.EVENT_ACCOUNT = 'initech';
      // An account this deployment does not have: the rotation fails for that body, before any key is read.
      await expect(rotate({ custSpaceId: 'cs-ev2' })).rejects.toThrow(/Forbidden/);
    } finally {
      delete process.env.EVENT_ACCOUNT;
    }
    expect(broker.sim.calls.map((call) => call.accessKeyId)).toEqual([SIMULATOR_DEFAULT_KEYS.aliyun.accessKeyId, KEYS.globex.accessKeyId]);
    expect(keyReads()).not.toContain(`${KEY_PARAMETERS.aliyun}/initech`);
  });
});

describe('STS in an account', () => {
  const stsRule = (operation: string, sessionPolicy: unknown) => ({
    id: `sts-${operation}`,
    callers: [{ claims: { org: 'acme' } }],
    operations: [operation],
    account: 'acme',
    sessionPolicy,
  });

  it("Alibaba Cloud: the account's role and ExternalId, the caller as SourceIdentity, up to the role's maximum lifetime", async () => {
    putPolicy('${org}', [stsRule('aliyun-sts:AssumeRole', ALIYUN_SESSION)]);
    const logs = captureLogs();
    let answer: Awaited<ReturnType<typeof invokeHttp>>;
    try {
      answer = await invokeHttp(aliyunSts, asCaller(ALIYUN_STS_ROUTE, { sub: 'user-9', org: 'acme' }, { durationSeconds: 43_200 }));
    } finally {
      logs.restore();
    }
    expect(answer.statusCode).toBe(200);
    const [call] = broker.sim.assumeRoleCalls;
    expect(call).toMatchObject({ code: 'OK', roleArn: ACME_ROLE, externalId: ACME_EXTERNAL_ID, durationSeconds: 43_200 });
    expect(call!.sourceIdentity).toBe(call!.roleSessionName);
    expect(call!.sourceIdentity).toMatch(/^user-9-[0-9a-f]{10}$/);
    expect(broker.sim.calls[0]!.accessKeyId).toBe(KEYS.acme.accessKeyId);
    const audit = logs.records().find((record) => record.type === 'audit')!;
    expect(audit.account).toBe('acme');
    expect((audit.session as Record<string, unknown>).sourceIdentity).toBe(call!.sourceIdentity);
    // The ExternalId is configuration, not for the log line.
    expect(JSON.stringify(logs.records())).not.toContain(ACME_EXTERNAL_ID);
  });

  it('Alibaba Cloud: the default account keeps its variable role and the 3600 s maximum', async () => {
    putPolicy('${org}', [{ ...stsRule('aliyun-sts:AssumeRole', ALIYUN_SESSION), account: undefined }]);
    const longer = await invokeHttp(aliyunSts, asCaller(ALIYUN_STS_ROUTE, { sub: 'user-9', org: 'acme' }, { durationSeconds: 7200 }));
    expect(longer.statusCode).toBe(400);
    expect(longer.json.error.code).toBe('InvalidRequest');
    expect(broker.sim.assumeRoleCalls).toHaveLength(0);
    const answer = await invokeHttp(aliyunSts, asCaller(ALIYUN_STS_ROUTE, { sub: 'user-9', org: 'acme' }, { durationSeconds: 3600 }));
    expect(answer.statusCode).toBe(200);
    expect(broker.sim.assumeRoleCalls[0]).toMatchObject({ roleArn: DEFAULT_ROLE, durationSeconds: 3600 });
    expect(broker.sim.assumeRoleCalls[0]!.externalId).toBeUndefined();
  });

  it('a role that demands an ExternalId refuses an account whose key parameter has none', async () => {
    broker.ssm.put(`${KEY_PARAMETERS.aliyun}/acme`, { ...KEYS.acme, stsRoleArn: ACME_ROLE });
    putPolicy('${org}', [stsRule('aliyun-sts:AssumeRole', ALIYUN_SESSION)]);
    const answer = await invokeHttp(aliyunSts, asCaller(ALIYUN_STS_ROUTE, { sub: 'user-9', org: 'acme' }));
    expect(answer.statusCode).toBe(403);
    expect(answer.json.error.code).toBe('VendorAccessDenied');
    expect(broker.sim.assumeRoleCalls[0]!.code).toBe('NoPermission');
  });

  it('an account whose key parameter names no role answers 503 ConfigurationError, not the default role', async () => {
    putPolicy('${org}', [{ ...stsRule('aliyun-sts:AssumeRole', ALIYUN_SESSION), account: 'globex' }]);
    const answer = await invokeHttp(aliyunSts, asCaller(ALIYUN_STS_ROUTE, { sub: 'user-9', org: 'acme' }));
    expect(answer.statusCode).toBe(503);
    expect(answer.json.error.code).toBe('ConfigurationError');
    expect(broker.sim.assumeRoleCalls).toHaveLength(0);
  });

  it("Tencent Cloud: the account's role and ExternalId, the caller and account as session Tags (no SourceIdentity: a uin)", async () => {
    putPolicy('${org}', [stsRule('tencent-sts:AssumeRole', TENCENT_SESSION)]);
    const answer = await invokeHttp(tencentSts, asCaller(TENCENT_STS_ROUTE, { sub: 'user-9', org: 'acme' }));
    expect(answer.statusCode).toBe(200);
    const [call] = broker.sim.assumeRoleCalls;
    expect(call).toMatchObject({ code: 'OK', roleArn: TENCENT_ACME_ROLE, externalId: ACME_EXTERNAL_ID });
    expect(call!.sourceIdentity).toBeUndefined();
    expect(call!.tags).toEqual([
      { Key: 'broker-account', Value: 'acme' },
      { Key: 'broker-caller', Value: call!.roleSessionName },
    ]);
  });
});
