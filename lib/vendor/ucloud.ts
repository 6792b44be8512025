/**
 * UCloud: its master key, variables, signer (SHA-1 over sorted parameters) and RetCode classes,
 * in one place (docs/vendors.md, "UCloud").
 * @module
 */
import * as z from 'zod/mini';
import { accountList } from '../access/account.js';
import { baseUrl, keysParameter } from '../core/config.js';
import {
  defineVendor,
  type FailureClass,
  parseJsonObject,
  type ResponseHeaders,
  retryAfterMs,
  type VendorAdapter,
  type VendorOutcome,
} from './api.js';
import { flattenUcloudParams, ucloudSignature } from './signing/ucloud-sha1.js';

const ucloudKeysSchema = z.object({
  publicKey: z.string().check(z.minLength(1)),
  privateKey: z.string().check(z.minLength(1)),
  projectId: z.optional(z.string().check(z.minLength(1))),
  /** Kept for the shape every account's key parameter may have (docs/contracts.md, "Accounts"); UCloud has no STS route to use them. */
  stsRoleArn: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
  externalId: z.optional(z.string().check(z.minLength(2), z.maxLength(1224))),
});
/** A UCloud API key pair, with an optional default project. */
export type UcloudKeys = z.infer<typeof ucloudKeysSchema>;

/** docs/vendors.md, "UCloud errors (RetCode)": RetCode classes. */
const RETCODE_CLASS: Record<number, FailureClass> = {
  153: 'throttled',
  110: 'transient',
  130: 'transient',
  150: 'transient',
  171: 'key',
  172: 'key',
  174: 'key',
  160: 'bug',
  161: 'bug',
  292: 'notFound',
  293: 'accessDenied',
  294: 'accessDenied',
  295: 'accessDenied',
  299: 'accessDenied',
};

/** The failure class of a non-zero RetCode. */
export function classifyUcloudRetCode(retCode: number): FailureClass {
  return RETCODE_CLASS[retCode] ?? 'rejected';
}

/** Signs UCloud requests (SHA-1 over sorted parameters) and classifies their answers. */
export const ucloudAdapter: VendorAdapter<UcloudKeys> = {
  sign({ endpoint, target, params, keys }) {
    // The key parameter's projectId is the default project; a body's projectId wins.
    const withProject = { ProjectId: keys.projectId, ...params };
    const flat = flattenUcloudParams({ Action: target.action, ...withProject });
    const signature = ucloudSignature(flat, keys.publicKey, keys.privateKey);
    // The official JS SDK posts the flattened parameters as JSON.
    return {
      url: new URL('/', endpoint).toString(),
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ ...flat, PublicKey: keys.publicKey, Signature: signature }),
    };
  },
  classify: classifyUcloudAnswer,
};

/** A UCloud answer as success or one failure class, with its RetCode and request id. */
export function classifyUcloudAnswer(status: number, headers: ResponseHeaders, text: string): VendorOutcome {
  const body = parseJsonObject(text);
  // The official JS SDK reads the request id from this header; some answers also carry it in the body.
  const uuid = headers.get('x-ucloud-request-uuid') ?? (typeof body?.RequestUUID === 'string' ? body.RequestUUID : null);
  const requestUuid = uuid === null ? {} : { vendorRequestId: uuid };
  if (!body || typeof body.RetCode !== 'number') {
    return { kind: status >= 500 ? 'transient' : 'malformed', vendorCode: `HTTP ${status}`, ...requestUuid };
  }
  if (body.RetCode === 0 && status >= 200 && status < 300) return { kind: 'ok', payload: body, ...requestUuid };
  const hint = retryAfterMs(headers);
  return {
    kind: status >= 500 && body.RetCode === 0 ? 'transient' : classifyUcloudRetCode(body.RetCode),
    vendorCode: `RetCode ${body.RetCode}`,
    ...requestUuid,
    ...(hint !== undefined && { retryAfterMs: hint }),
  };
}

/** UCloud, as a spec names it (`api`): one API, no version, parameters in a JSON body. */
export const ucloudApi = defineVendor({
  name: 'ucloud',
  title: 'UCloud',
  keys: ucloudKeysSchema,
  secretFields: ['privateKey'],
  settings: z.object({
    UCLOUD_KEYS_PARAMETER: keysParameter('ucloud'),
    /** The accounts besides `default` (lib/access/account.ts): each with its key parameter `<UCLOUD_KEYS_PARAMETER>/<name>`. */
    UCLOUD_ACCOUNTS: accountList,
    UCLOUD_API_ENDPOINT: z._default(baseUrl, 'https://api.ucloud.cn'),
  }),
  // A deployment sets its accounts per stage (ucloudAccounts).
  deploySettings: ['UCLOUD_ACCOUNTS'],
  describe: () => 'UCloud API',
  adapter: () => ucloudAdapter,
});
