import { imsProvisionExternalApplication } from '../lib/operations/ims-provision-external-application.js';
import { createHandler } from '../lib/runtime/handler.js';

export const handler = createHandler(imsProvisionExternalApplication);
