import * as z from 'zod/mini';
import { eventBridge } from '../runtime/triggers/eventbridge.js';
import { http } from '../runtime/triggers/http.js';
import { sqs } from '../runtime/triggers/sqs.js';
import { defineOperation } from '../spec/operation.js';
import { aliyunApi } from '../vendor/aliyun.js';

/**
 * A scope: no semicolon (the vendor's separator) and no control character (C0, DEL, C1), so a
 * scope can never bend a log line or a dead-letter attribute. Spelled as escapes without the
 * `u` flag so that openapi.json's pattern means the same to any ECMA-262 regex engine.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what the pattern refuses.
const SCOPE = /^[^;\u0000-\u001f\u007f-\u009f]+$/;

/** Alibaba Cloud IMS ProvisionExternalApplication (documented under RAM): installs an external application. */
export const imsProvisionExternalApplication = defineOperation({
  name: 'ims:ProvisionExternalApplication',
  functionName: 'ims-provision-external-application',
  route: '/v1/aliyun/ims/external-applications',
  summary: 'Install an external application in the Alibaba Cloud account',
  vendor: 'aliyun',
  api: aliyunApi,
  endpoint: 'ALIYUN_IMS_ENDPOINT',
  triggers: [http(), sqs(), eventBridge()],
  action: 'ProvisionExternalApplication',
  version: '2019-08-15',
  style: 'RPC',
  paramsIn: 'query',
  request: z.strictObject({
    appId: z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[\w-]+$/)),
    scopes: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(128), z.regex(SCOPE))).check(z.minLength(1), z.maxLength(50))),
  }),
  // Events are not callers of the caller policy: the scopes they may ask for are configured.
  eventLimits: { scopes: 'EVENT_ALLOWED_SCOPES' },
  // The vendor takes scopes as one string separated by semicolons.
  toParams: (body) => ({ AppId: body.appId, Scopes: body.scopes?.join(';') }),
  response: {
    field: 'ExternalApplication',
    data: z.object({
      foreignAppId: z.string(),
      displayName: z.optional(z.string()),
      appPrincipalName: z.optional(z.string()),
      tenantId: z.optional(z.string()),
      createDate: z.optional(z.string()),
      updateDate: z.optional(z.string()),
      delegatedScope: z.optional(
        z.object({
          predefinedScopes: z.optional(
            z.object({
              predefinedScope: z.optional(z.array(z.object({ name: z.string(), description: z.optional(z.string()) }))),
            }),
          ),
        }),
      ),
    }),
  },
  // Provisioning twice is not an error for an event-driven caller when the app is there as
  // asked; one already there with other scopes is a failure to report, never to drop.
  alreadyDone: (vendorCode) => vendorCode.startsWith('EntityAlreadyExists'),
  reconcile: {
    action: 'GetExternalApplication',
    toParams: (body) => ({ AppId: body.appId }),
    differs: (body, current) => {
      const granted = new Set(current.delegatedScope?.predefinedScopes?.predefinedScope?.map((scope) => scope.name) ?? []);
      const missing = (body.scopes ?? []).filter((scope) => !granted.has(scope));
      // A count, never the names: the reason reaches logs and dead-letter attributes.
      return missing.length === 0 ? undefined : `the application is installed without ${missing.length} of the scopes asked for`;
    },
  },
});
