import { createHandler } from '../lib/handler.js';
import { imsProvisionExternalApplication } from '../lib/operations/ims-provision-external-application.js';

export const handler = createHandler(imsProvisionExternalApplication);
