import { createHandler } from '../lib/handler.js';
import { aliyunStsAssumeRole } from '../lib/operations/aliyun-sts-assume-role.js';

export const handler = createHandler(aliyunStsAssumeRole);
