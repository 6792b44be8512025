import { tencentStsAssumeRole } from '../lib/operations/tencent-sts-assume-role.js';
import { createHandler } from '../lib/runtime/handler.js';

export const handler = createHandler(tencentStsAssumeRole);
