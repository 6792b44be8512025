import * as z from 'zod/mini';
import { assumesRole } from '../access/assumed-role.js';
import { http } from '../runtime/triggers/http.js';
import { defineOperation } from '../spec/operation.js';
import { aliyunApi } from '../vendor/aliyun.js';
import { stsCredentialFields } from './sts-credentials.js';

/**
 * Alibaba Cloud STS AssumeRole: credentials of the RAM role the deployment configures
 * (ALIYUN_STS_ROLE_ARN), named after the caller and limited by the session policy its
 * caller-policy rule renders.
 */
export const aliyunStsAssumeRole = defineOperation({
  name: 'aliyun-sts:AssumeRole',
  functionName: 'aliyun-sts-assume-role',
  route: '/v1/aliyun/sts/assume-role',
  summary: 'Temporary credentials of the configured RAM role, scoped to the caller by a session policy',
  vendor: 'aliyun',
  api: aliyunApi,
  endpoint: 'ALIYUN_STS_ENDPOINT',
  // HTTP only: a schedule or an event has no caller whose scope the credentials could carry.
  triggers: [http()],
  action: 'AssumeRole',
  version: '2015-04-01',
  style: 'RPC',
  paramsIn: 'query',
  request: z.strictObject({
    /** 900 seconds up to the role's maximum (its account's `maxSessionSeconds`, by default 3600; at most 43200). */
    durationSeconds: z.optional(z.int().check(z.minimum(900), z.maximum(43_200))),
  }),
  // The vendor's default lifetime and its most; a role allows 3600 unless its account says more
  // (`maxSessionSeconds`, lib/access/assumed-role.ts), and a request asking past that is refused.
  assumesRole: assumesRole('ALIYUN_STS_ROLE_ARN', { minSeconds: 900, defaultSeconds: 3600, maxSeconds: 43_200, roleMaxSeconds: 3600 }),
  toParams: (_body, role) => ({
    RoleArn: role?.roleArn,
    RoleSessionName: role?.sessionName,
    Policy: role?.sessionPolicy,
    DurationSeconds: role?.durationSeconds,
    // From the account's key parameter, never from the body (docs/contracts.md, "Accounts").
    ExternalId: role?.externalId,
    SourceIdentity: role?.sourceIdentity,
  }),
  response: {
    field: 'Credentials',
    data: z.object({ ...stsCredentialFields, expiration: z.iso.datetime() }),
  },
  expiresAt: (data) => Date.parse(data.expiration),
  // "100 requests per second per Alibaba Cloud account" (the vendor's STS API quota).
  ratePerSecond: 100,
});
