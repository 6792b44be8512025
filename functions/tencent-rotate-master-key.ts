import { createRotationHandler } from '../lib/rotation/handler.js';
import { tencentMasterKeyApi } from '../lib/rotation/vendors/tencent.js';

export const handler = createRotationHandler(tencentMasterKeyApi);
