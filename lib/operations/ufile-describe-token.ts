import * as z from 'zod/mini';
import { http } from '../runtime/triggers/http.js';
import { schedule } from '../runtime/triggers/schedule.js';
import { defineOperation } from '../spec/operation.js';
import { ucloudApi } from '../vendor/ucloud.js';

const stringList = z.optional(z.array(z.string()));

/** UCloud DescribeUFileToken: the UFile tokens of a project, with their key pairs. */
export const ufileDescribeToken = defineOperation({
  name: 'ufile:DescribeUFileToken',
  functionName: 'ufile-describe-token',
  route: '/v1/ucloud/ufile/tokens',
  summary: 'UFile tokens (public and private key) of a UCloud project',
  vendor: 'ucloud',
  api: ucloudApi,
  endpoint: 'UCLOUD_API_ENDPOINT',
  triggers: [http(), schedule({ rate: 'rate(1 hour)' })],
  action: 'DescribeUFileToken',
  request: z.strictObject({
    region: z.optional(z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[\w-]+$/))),
    projectId: z.optional(z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[\w-]+$/))),
    tokenId: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
    tokenName: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
    display: z.optional(z.int().check(z.minimum(0), z.maximum(1_000))),
  }),
  response: {
    field: 'DataSet',
    data: z.array(
      z.object({
        region: z.optional(z.string()),
        tokenId: z.string(),
        // Optional: the vendor's own sample misspells it `TolenName` once.
        tokenName: z.optional(z.string()),
        publicKey: z.string(),
        privateKey: z.string(),
        allowedOps: stringList,
        allowedPrefixes: stringList,
        allowedBuckets: stringList,
        expireTime: z.int(),
        createTime: z.optional(z.int()),
        modifyTime: z.optional(z.int()),
        blackIPList: stringList,
        whiteIPList: stringList,
      }),
    ),
  },
  // The earliest ExpireTime (unix seconds) in the set; an empty set has none.
  expiresAt: (tokens) => (tokens.length === 0 ? undefined : Math.min(...tokens.map((t) => t.expireTime)) * 1000),
});
