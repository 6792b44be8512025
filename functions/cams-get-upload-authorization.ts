import { createHandler } from '../lib/handler.js';
import { camsGetUploadAuthorization } from '../lib/operations/cams-get-upload-authorization.js';

export const handler = createHandler(camsGetUploadAuthorization);
