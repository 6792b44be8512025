import { createHandler } from '../lib/handler.js';
import { bpstudioGetToken } from '../lib/operations/bpstudio-get-token.js';

export const handler = createHandler(bpstudioGetToken);
