/**
 * What the app-client tests share: a caller policy that lets tenants (JWT claim `tenant`) and one
 * IAM principal take STS credentials scoped to their own prefix of one OSS bucket and one COS
 * bucket, the roles the broker assumes, and how to seed that policy into the fake SSM.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { BrokerAuth } from '../../client/auth.js';
import type { BrokerEnv } from './broker-env.js';
import { FRONT_IAM_PRINCIPAL } from './broker-front.js';

/** The OSS bucket tenants write to (sim/object-storage.ts serves it). */
export const OSS_BUCKET = 'uploads';
/** The COS bucket and region tenants write to. */
export const COS_BUCKET = 'uploads-1250000000';
/** The COS region of COS_BUCKET. */
export const COS_REGION = 'ap-guangzhou';

const PARAMETER = '/cloud-token-broker/test/client-policy';

/** The caller policy, and the environment that points the broker at it and names the roles. */
export const STS_POLICY = {
  env: {
    POLICY_PARAMETER: PARAMETER,
    ALIYUN_STS_ROLE_ARN: 'acs:ram::1234567890123456:role/app-uploads',
    TENCENT_STS_ROLE_ARN: 'qcs::cam::uin/100000000001:roleName/app-uploads',
  },
  policy: {
    version: 1,
    rules: [
      {
        id: 'tenant-oss',
        callers: [{ claims: { tenant: 'tenant-*' } }],
        operations: ['aliyun-sts:AssumeRole'],
        sessionPolicy: {
          Version: '1',
          Statement: [
            { Effect: 'Allow', Action: ['oss:PutObject', 'oss:GetObject'], Resource: [`acs:oss:*:*:${OSS_BUCKET}/\${tenant}/*`] },
          ],
        },
      },
      {
        id: 'iam-app-oss',
        callers: [{ principal: FRONT_IAM_PRINCIPAL }],
        operations: ['aliyun-sts:AssumeRole'],
        sessionPolicy: {
          Version: '1',
          Statement: [{ Effect: 'Allow', Action: ['oss:PutObject'], Resource: [`acs:oss:*:*:${OSS_BUCKET}/iam-app/*`] }],
        },
      },
      {
        id: 'tenant-cos',
        callers: [{ claims: { tenant: 'tenant-*' } }],
        operations: ['tencent-sts:AssumeRole'],
        sessionPolicy: {
          version: '2.0',
          statement: [
            {
              effect: 'allow',
              action: ['name/cos:PutObject', 'name/cos:GetObject'],
              resource: [`qcs::cos:${COS_REGION}:uid/1250000000:${COS_BUCKET}/\${tenant}/*`],
            },
          ],
        },
      },
    ],
  },
} as const;

/** Seeds STS_POLICY into the broker env's fake SSM once it has started (call after useBrokerEnv). */
export function useStsPolicy(broker: BrokerEnv): void {
  beforeAll(() => {
    broker.ssm.put(STS_POLICY.env.POLICY_PARAMETER, STS_POLICY.policy);
  });
}

/**
 * A bearer-token file per tenant, as an app's platform would mount it: `tenantAuth(tenant)` is the
 * BrokerAuth that reads it (a JWT front takes the tenant from the token). Files live in a
 * temporary folder removed after the file's tests.
 */
export function useTenantTokens(): (tenant: string) => Promise<BrokerAuth> {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'broker-tokens-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return async (tenant) => {
    const path = join(dir!, tenant);
    await writeFile(path, `${tenant}.token\n`);
    return { kind: 'jwt-file', path };
  };
}
