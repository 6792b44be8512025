import { createHandler } from '../lib/handler.js';
import { tencentStsAssumeRole } from '../lib/operations/tencent-sts-assume-role.js';

export const handler = createHandler(tencentStsAssumeRole);
