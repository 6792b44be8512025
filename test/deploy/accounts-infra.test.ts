/**
 * Vendor accounts in the deploy template's generators (infra/roles.cjs, infra/alarms.cjs,
 * infra/environment.cjs), called as osls calls them: each function's role reads exactly its
 * vendor's configured accounts' key parameters, each listed account has its own alarms, and
 * the stage param reaches the functions as `<VENDOR>_ACCOUNTS`. Without the param nothing
 * changes. (In the slow project with the other deploy tests: it loads the registries.)
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
type Generator = (input: Record<string, unknown>) => Promise<{ Resources?: Record<string, any> } & Record<string, any>>;
const roles = require('../../infra/roles.cjs') as Generator;
const alarms = require('../../infra/alarms.cjs') as Generator;
const environment = require('../../infra/environment.cjs') as Generator;
const functions = require('../../infra/functions.cjs') as Generator;

/** osls's variable resolution, for the few variables the generators ask for. */
function resolver(stageParams: Record<string, string>) {
  return async (variable: string) => {
    const param = /^param:(\w+), null$/.exec(variable);
    if (param) return stageParams[param[1]!] ?? null;
    return { 'self:service': 'cloud-token-broker', 'sls:stage': 'prod', 'self:custom.metricsNamespace': 'CloudTokenBroker/prod' }[variable];
  };
}
const input = (stageParams: Record<string, string>) => ({
  resolveVariable: resolver(stageParams),
  resolveConfigurationProperty: async () => ({}),
  options: {},
});

const keyGrant = async (stageParams: Record<string, string>, role: string) => {
  const { Resources } = await roles(input(stageParams));
  const statements = Resources![role].Properties.Policies[0].PolicyDocument.Statement as { Sid: string; Resource: unknown }[];
  return statements.find((statement) => statement.Sid.endsWith('Keys'))!.Resource;
};
const ssmArn = (name: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${name}` });

describe('vendor accounts in the template', () => {
  it("grants each function its vendor's configured accounts' key parameters by exact name, and nothing else", async () => {
    const withAccounts = await keyGrant({ aliyunAccounts: 'acme, globex' }, 'CamsGetUploadAuthorizationRole');
    expect(withAccounts).toEqual([
      ssmArn('/cloud-token-broker/${sls:stage}/keys/aliyun'),
      ssmArn('/cloud-token-broker/${sls:stage}/keys/aliyun/acme'),
      ssmArn('/cloud-token-broker/${sls:stage}/keys/aliyun/globex'),
    ]);
    expect(JSON.stringify(withAccounts)).not.toContain('*');
    // Another vendor's functions get none of them.
    expect(await keyGrant({ aliyunAccounts: 'acme' }, 'UfileDescribeTokenRole')).toEqual(
      ssmArn('/cloud-token-broker/${sls:stage}/keys/ucloud'),
    );
    // No param: the grant is what it always was.
    expect(await keyGrant({}, 'CamsGetUploadAuthorizationRole')).toEqual(ssmArn('/cloud-token-broker/${sls:stage}/keys/aliyun'));
  });

  it("rotates each account's master key: a schedule per account, and a role for exactly their key and pending parameters", async () => {
    const { Resources } = await roles(input({ aliyunAccounts: 'acme' }));
    const statements = Resources!.AliyunRotateMasterKeyRole.Properties.Policies[0].PolicyDocument.Statement as {
      Sid: string;
      Resource: unknown;
    }[];
    const grant = (sid: string) => statements.find((statement) => statement.Sid === sid)!.Resource;
    expect(grant('RotateOwnAliyunKeys')).toEqual([
      ssmArn('/cloud-token-broker/${sls:stage}/keys/aliyun'),
      ssmArn('/cloud-token-broker/${sls:stage}/keys/aliyun/acme'),
    ]);
    expect(grant('OwnPendingKey')).toEqual([
      ssmArn('/cloud-token-broker/${sls:stage}/keys/aliyun/_pending'),
      ssmArn('/cloud-token-broker/${sls:stage}/keys/aliyun/acme/_pending'),
    ]);
    const inputs = (fns: Record<string, any>, name: string) =>
      (fns[name].events as { schedule: { input: unknown } }[]).map((event) => event.schedule.input);
    expect(inputs(await functions(input({ aliyunAccounts: 'acme' })), 'aliyun-rotate-master-key')).toEqual([
      { rotateMasterKey: 'scheduled' },
      { rotateMasterKey: 'scheduled', account: 'acme' },
    ]);
    // Another vendor's rotation, and a stage without accounts: one schedule, one parameter, as before.
    expect(inputs(await functions(input({ aliyunAccounts: 'acme' })), 'tencent-rotate-master-key')).toEqual([
      { rotateMasterKey: 'scheduled' },
    ]);
  });

  it('refuses a stage param naming an account that cannot be one', async () => {
    await expect(roles(input({ aliyunAccounts: 'acme,Globex' }))).rejects.toThrow(/aliyunAccounts/);
  });

  it('gives each listed account its own alarms on the Account dimension, and keeps the others as they are', async () => {
    const plain = Object.keys((await alarms(input({}))).Resources!);
    const { Resources } = await alarms(input({ aliyunAccounts: 'acme' }));
    const added = Object.keys(Resources!).filter((id) => !plain.includes(id));
    expect(added).toContain('CamsGetUploadAuthorizationAccountAcmeVendorThrottlingAlarm');
    expect(added).toContain('CamsGetUploadAuthorizationAccountAcmeKeysUnavailableAlarm');
    expect(added.every((id) => id.includes('AccountAcme'))).toBe(true);
    // Only the Alibaba Cloud operations: four of them, three alarms each.
    expect(added).toHaveLength(4 * 3);
    const errors = Resources!.CamsGetUploadAuthorizationAccountAcmeVendorErrorsAlarm.Properties;
    expect(errors.Dimensions).toEqual([
      { Name: 'operation', Value: 'cams:GetChatappUploadAuthorization' },
      { Name: 'Account', Value: 'acme' },
    ]);
  });

  it('hands the stage param to the functions as <VENDOR>_ACCOUNTS, empty when unset', async () => {
    expect(await environment(input({ tencentAccounts: 'acme' }))).toMatchObject({
      TENCENT_ACCOUNTS: 'acme',
      ALIYUN_ACCOUNTS: '',
      UCLOUD_ACCOUNTS: '',
    });
  });
});

describe("an event's account", () => {
  const functions = require('../../infra/functions.cjs') as Generator;

  it('sets EVENT_ACCOUNT on a function with events when its stage param names a configured account, and nothing otherwise', async () => {
    const named = await functions(input({ aliyunAccounts: 'acme', imsProvisionExternalApplicationEventAccount: 'acme' }));
    expect(named['ims-provision-external-application'].environment.EVENT_ACCOUNT).toBe('acme');
    expect(named['cams-get-upload-authorization'].environment?.EVENT_ACCOUNT).toBeUndefined();
    const plain = await functions(input({}));
    expect(plain['ims-provision-external-application'].environment?.EVENT_ACCOUNT).toBeUndefined();
    await expect(functions(input({ imsProvisionExternalApplicationEventAccount: 'acme' }))).rejects.toThrow(/not one of the accounts/);
  });
});
