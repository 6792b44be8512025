import * as z from 'zod/mini';

/** The STS credential fields Alibaba Cloud's token answers share; spread into each response's z.object. */
export const stsCredentialFields = {
  accessKeyId: z.string(),
  accessKeySecret: z.string(),
  securityToken: z.string(),
};
