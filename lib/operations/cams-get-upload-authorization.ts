import * as z from 'zod/mini';
import { http } from '../runtime/triggers/http.js';
import { schedule } from '../runtime/triggers/schedule.js';
import { defineOperation } from '../spec/operation.js';
import { aliyunApi } from '../vendor/aliyun.js';
import { stsCredentialFields } from './sts-credentials.js';

/** Alibaba Cloud CAMS GetChatappUploadAuthorization: OSS upload credentials for a sub-customer space. */
export const camsGetUploadAuthorization = defineOperation({
  name: 'cams:GetChatappUploadAuthorization',
  functionName: 'cams-get-upload-authorization',
  route: '/v1/aliyun/cams/upload-authorization',
  summary: 'Temporary OSS upload credentials for a CAMS sub-customer space',
  vendor: 'aliyun',
  api: aliyunApi,
  endpoint: 'ALIYUN_CAMS_ENDPOINT',
  triggers: [http(), schedule({ rate: 'rate(5 minutes)' })],
  action: 'GetChatappUploadAuthorization',
  version: '2020-06-06',
  style: 'RPC',
  paramsIn: 'query',
  request: z.strictObject({
    custSpaceId: z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[\w-]+$/)),
  }),
  response: {
    field: 'Data',
    data: z.object({
      ...stsCredentialFields,
      bucketName: z.optional(z.string()),
      dir: z.optional(z.string()),
      endPoint: z.optional(z.string()),
      expire: z.int().check(z.positive()),
    }),
  },
  // Expire is a lifetime in seconds, not a timestamp.
  expiresAt: (data, issuedAt) => issuedAt + data.expire * 1000,
  // "A maximum of 5 requests per second per account."
  ratePerSecond: 5,
});
