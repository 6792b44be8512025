import { ufileDescribeToken } from '../lib/operations/ufile-describe-token.js';
import { createHandler } from '../lib/runtime/handler.js';

export const handler = createHandler(ufileDescribeToken);
