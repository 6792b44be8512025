import * as z from 'zod/mini';
import { assumesRole } from '../access/assumed-role.js';
import { http } from '../runtime/triggers/http.js';
import { defineOperation } from '../spec/operation.js';
import { tencentApi } from '../vendor/tencent.js';

/**
 * Tencent Cloud STS AssumeRole: credentials of the CAM role the deployment configures
 * (TENCENT_STS_ROLE_ARN), named after the caller and limited by the session policy its
 * caller-policy rule renders.
 */
export const tencentStsAssumeRole = defineOperation({
  name: 'tencent-sts:AssumeRole',
  functionName: 'tencent-sts-assume-role',
  route: '/v1/tencent/sts/assume-role',
  summary: 'Temporary credentials of the configured CAM role, scoped to the caller by a session policy',
  vendor: 'tencent',
  api: tencentApi,
  endpoint: 'TENCENT_STS_ENDPOINT',
  // HTTP only: a schedule or an event has no caller whose scope the credentials could carry.
  triggers: [http()],
  action: 'AssumeRole',
  version: '2018-08-13',
  service: 'sts',
  request: z.strictObject({
    /** Up to 43200 seconds (the vendor's default is 7200); at least 900, so a refresh always has room. */
    durationSeconds: z.optional(z.int().check(z.minimum(900), z.maximum(43_200))),
  }),
  // The vendor's default lifetime, and the most the request schema takes: a request asking less is
  // asked of the vendor at the default, and its credentials are cached for every duration (lib/access/assumed-role.ts).
  assumesRole: assumesRole('TENCENT_STS_ROLE_ARN', { minSeconds: 900, defaultSeconds: 7200, maxSeconds: 43_200 }),
  toParams: (_body, role) => ({
    RoleArn: role?.roleArn,
    RoleSessionName: role?.sessionName,
    // The vendor URL-decodes Policy before reading it.
    Policy: role?.sessionPolicy === undefined ? undefined : encodeURIComponent(role.sessionPolicy),
    DurationSeconds: role?.durationSeconds,
    // From the account's key parameter, never from the body (docs/contracts.md, "Accounts").
    ExternalId: role?.externalId,
    // No SourceIdentity: the vendor's model describes it as the caller's uin ("调用者身份uin"), which
    // the broker's callers are not (docs/vendors.md). Who asked and in which account go in the
    // session Tags instead (CloudAudit shows them); both allow-listed.
    Tags:
      role === undefined
        ? undefined
        : [
            { Key: 'broker-account', Value: role.account },
            { Key: 'broker-caller', Value: role.sessionName },
          ],
  }),
  response: {
    field: 'Response',
    data: z.object({
      credentials: z.object({ tmpSecretId: z.string(), tmpSecretKey: z.string(), token: z.string() }),
      expiredTime: z.int().check(z.positive()),
      expiration: z.string(),
    }),
  },
  expiresAt: (data) => data.expiredTime * 1000,
  // "Default request rate limit: 600 requests per second" (per API, region and sub-account).
  ratePerSecond: 600,
});
