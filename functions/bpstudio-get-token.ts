import { bpstudioGetToken } from '../lib/operations/bpstudio-get-token.js';
import { createHandler } from '../lib/runtime/handler.js';

export const handler = createHandler(bpstudioGetToken);
