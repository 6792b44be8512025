import { createHandler } from '../lib/handler.js';
import { ufileDescribeToken } from '../lib/operations/ufile-describe-token.js';

export const handler = createHandler(ufileDescribeToken);
