import { createRotationHandler } from '../lib/rotation/handler.js';
import { aliyunMasterKeyApi } from '../lib/rotation/vendors/aliyun.js';

export const handler = createRotationHandler(aliyunMasterKeyApi);
