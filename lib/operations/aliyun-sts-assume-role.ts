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
    /** 900 to 3600 seconds; the vendor's default is 3600. */
    durationSeconds: z.optional(z.int().check(z.minimum(900), z.maximum(3600))),
  }),
  // The vendor's default lifetime, and the most the request schema takes: a request asking less is
  // asked of the vendor at the default, and its credentials are cached for every duration (lib/access/assumed-role.ts).
  assumesRole: assumesRole('ALIYUN_STS_ROLE_ARN', { minSeconds: 900, defaultSeconds: 3600, maxSeconds: 3600 }),
  toParams: (_body, role) => ({
    RoleArn: role?.roleArn,
    RoleSessionName: role?.sessionName,
    Policy: role?.sessionPolicy,
    DurationSeconds: role?.durationSeconds,
  }),
  response: {
    field: 'Credentials',
    data: z.object({ ...stsCredentialFields, expiration: z.iso.datetime() }),
  },
  expiresAt: (data) => Date.parse(data.expiration),
  // "100 requests per second per Alibaba Cloud account" (the vendor's STS API quota).
  ratePerSecond: 100,
});
