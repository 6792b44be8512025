/**
 * Baseline: CAMS GetChatappUploadAuthorization through the official SDK
 * (@alicloud/cams20200606 on @alicloud/openapi-client), keys through Powertools Parameters.
 * Calls the vendor on every request: no token cache, no client-side rate limiter.
 */
import CamsSdk, * as $Cams from '@alicloud/cams20200606';
import * as $OpenApi from '@alicloud/openapi-client';
import { aliyunKeys, clientCache, HttpError, httpHandler, sdkEndpoint } from './common.js';

const Cams = CamsSdk.default;
const ENDPOINT = process.env.ALIYUN_CAMS_ENDPOINT || 'https://cams.ap-southeast-1.aliyuncs.com';

const camsClient = clientCache(
  (keys) =>
    new Cams(
      new $OpenApi.Config({
        accessKeyId: keys.accessKeyId,
        accessKeySecret: keys.accessKeySecret,
        ...sdkEndpoint(ENDPOINT),
      }),
    ),
);

export const handler = httpHandler(async (body) => {
  const { custSpaceId } = body;
  if (typeof custSpaceId !== 'string' || !/^[\w*-]{1,64}$/.test(custSpaceId)) {
    throw new HttpError(400, 'InvalidRequest', 'custSpaceId is required.');
  }
  const client = camsClient(await aliyunKeys());
  const response = await client.getChatappUploadAuthorization(new $Cams.GetChatappUploadAuthorizationRequest({ custSpaceId }));
  const data = response.body?.data;
  if (!data?.accessKeyId || !data.accessKeySecret || !data.securityToken || !data.expire) {
    throw new HttpError(502, 'VendorError', 'The vendor sent an answer the function cannot read.');
  }
  return {
    operation: 'cams:GetChatappUploadAuthorization',
    vendorRequestId: response.body?.requestId,
    expiresAt: new Date(Date.now() + data.expire * 1000).toISOString(),
    data: {
      accessKeyId: data.accessKeyId,
      accessKeySecret: data.accessKeySecret,
      securityToken: data.securityToken,
      bucketName: data.bucketName,
      dir: data.dir,
      endPoint: data.endPoint,
      expire: data.expire,
    },
  };
});
