import { camsGetUploadAuthorization } from '../lib/operations/cams-get-upload-authorization.js';
import { createHandler } from '../lib/runtime/handler.js';

export const handler = createHandler(camsGetUploadAuthorization);
