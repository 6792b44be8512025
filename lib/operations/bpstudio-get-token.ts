import * as z from 'zod/mini';
import { http } from '../runtime/triggers/http.js';
import { schedule } from '../runtime/triggers/schedule.js';
import { defineOperation } from '../spec/operation.js';
import { aliyunApi } from '../vendor/aliyun.js';
import { stsCredentialFields } from './sts-credentials.js';

/** Alibaba Cloud BPStudio GetToken: 30-minute OSS credentials for architecture diagrams. */
export const bpstudioGetToken = defineOperation({
  name: 'bpstudio:GetToken',
  functionName: 'bpstudio-get-token',
  route: '/v1/aliyun/bpstudio/token',
  summary: 'Temporary OSS credentials for BPStudio architecture diagrams (valid 30 minutes)',
  vendor: 'aliyun',
  api: aliyunApi,
  endpoint: 'ALIYUN_BPSTUDIO_ENDPOINT',
  triggers: [http(), schedule({ rate: 'rate(5 minutes)' })],
  action: 'GetToken',
  version: '2021-09-31',
  style: 'RPC',
  paramsIn: 'body',
  request: z.strictObject({
    resourceGroupId: z.optional(z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[\w-]+$/))),
  }),
  response: {
    field: 'Data',
    data: z.object({
      ...stsCredentialFields,
      endpoint: z.optional(z.string()),
      bucket: z.optional(z.string()),
      snapshotBucket: z.optional(z.string()),
      uploadPrefix: z.optional(z.string()),
    }),
  },
  // The answer carries no expiry; the vendor documents 30 minutes from issue.
  expiresAt: (_data, issuedAt) => issuedAt + 30 * 60_000,
});
