import { aliyunStsAssumeRole } from '../lib/operations/aliyun-sts-assume-role.js';
import { createHandler } from '../lib/runtime/handler.js';

export const handler = createHandler(aliyunStsAssumeRole);
