/**
 * Baseline: IMS ProvisionExternalApplication through the official SDK, keys through
 * Powertools Parameters. @alicloud/ims20190815 2.x is generated on @alicloud/openapi-core
 * (the successor of @alicloud/openapi-client) and its constructor takes that package's
 * Config, so this one imports openapi-core (installed as ims20190815's dependency).
 */
import ImsSdk, * as $Ims from '@alicloud/ims20190815';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { aliyunKeys, clientCache, HttpError, httpHandler, sdkEndpoint } from './common.js';

const Ims = ImsSdk.default;
const ENDPOINT = process.env.ALIYUN_IMS_ENDPOINT || 'https://ims.aliyuncs.com';

const imsClient = clientCache(
  (keys) =>
    new Ims(
      new $OpenApiUtil.Config({
        accessKeyId: keys.accessKeyId,
        accessKeySecret: keys.accessKeySecret,
        ...sdkEndpoint(ENDPOINT),
      }),
    ),
);

export const handler = httpHandler(async (body) => {
  const { appId, scopes } = body;
  if (typeof appId !== 'string' || !/^[\w*-]{1,64}$/.test(appId)) throw new HttpError(400, 'InvalidRequest', 'appId is required.');
  if (scopes !== undefined && (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || s === '' || s.includes(';')))) {
    throw new HttpError(400, 'InvalidRequest', 'scopes must be a list of strings.');
  }
  const client = imsClient(await aliyunKeys());
  const request = new $Ims.ProvisionExternalApplicationRequest({ appId, scopes: scopes?.join(';') });
  try {
    const response = await client.provisionExternalApplication(request);
    const app = response.body?.externalApplication;
    if (!app?.foreignAppId) throw new HttpError(502, 'VendorError', 'The vendor sent an answer the function cannot read.');
    return {
      operation: 'ims:ProvisionExternalApplication',
      vendorRequestId: response.body?.requestId,
      data: {
        foreignAppId: app.foreignAppId,
        displayName: app.displayName,
        appPrincipalName: app.appPrincipalName,
        tenantId: app.tenantId,
        createDate: app.createDate,
        updateDate: app.updateDate,
        delegatedScope: app.delegatedScope,
      },
    };
  } catch (thrown) {
    // Provisioning twice is not an error: the application is there.
    const code = (thrown as { code?: unknown })?.code;
    if (typeof code === 'string' && code.startsWith('EntityAlreadyExists')) {
      return { operation: 'ims:ProvisionExternalApplication', alreadyProvisioned: true };
    }
    throw thrown;
  }
});
