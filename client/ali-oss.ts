/**
 * ali-oss on the broker's Alibaba Cloud STS credentials, refreshed by `refreshAfter`: the options
 * `new OSS({...})` takes for its credentials (`accessKeyId`, `accessKeySecret`, `stsToken`,
 * `refreshSTSToken`, `refreshSTSTokenInterval`), fed by credentials from the broker
 * (`aliyunStsCredentials`) or from a running credentials agent (`agentAliyunCredentials`).
 *
 * ali-oss calls `refreshSTSToken` before a request once `refreshSTSTokenInterval` has passed
 * since its last call (it checks per request, on its own clock). The helper sets that interval
 * short and answers from the held credentials, fetching only once `refreshAfter` has passed: the
 * app states no refresh interval, and ali-oss never signs with credentials past their serving time.
 * @module
 */
import * as z from 'zod/mini';
import { fromAgent } from './agent-source.js';
import type { RequestBody } from './broker-api.js';
import type { BrokerClient } from './broker-client.js';
import { type RefreshingCredentials, type RefreshOptions, refreshingCredentials } from './refreshing-credentials.js';

const ROUTE = '/v1/aliyun/sts/assume-role';

/** Alibaba Cloud STS credentials as the broker answers them (`data`). */
export interface AliyunStsData {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
}

/**
 * How often ali-oss asks `refreshSTSToken` at most. Each call costs a look at the held credentials
 * (no network) unless `refreshAfter` has passed; a second keeps ali-oss at most a second behind them.
 */
export const ALI_OSS_CHECK_INTERVAL_MS = 1_000;

/** Credentials from the broker's `/v1/aliyun/sts/assume-role`, asked with `body`. */
export function aliyunStsCredentials(
  client: BrokerClient,
  body: RequestBody<typeof ROUTE> = {},
  options?: RefreshOptions,
): RefreshingCredentials<AliyunStsData> {
  return refreshingCredentials(async () => {
    const answer = await client.post(ROUTE, body);
    if (!answer.data) throw new Error(`the broker answered ${ROUTE} without credentials`);
    const { accessKeyId, accessKeySecret, securityToken } = answer.data;
    return { data: { accessKeyId, accessKeySecret, securityToken }, expiresAt: answer.expiresAt, refreshAfter: answer.refreshAfter };
  }, options);
}

/** The agent's `/aliyun/credentials` answer: Alibaba Cloud's credentials-URI format. */
const credentialsUriAnswer = z.object({
  Code: z.literal('Success'),
  AccessKeyId: z.string().check(z.minLength(1)),
  AccessKeySecret: z.string().check(z.minLength(1)),
  SecurityToken: z.string().check(z.minLength(1)),
  Expiration: z.iso.datetime(),
});

/** Credentials from a running agent's `/aliyun/credentials` (e.g. `http://127.0.0.1:9911/aliyun/credentials`). */
export function agentAliyunCredentials(endpoint: string, options?: RefreshOptions): RefreshingCredentials<AliyunStsData> {
  return fromAgent(
    endpoint,
    (json) => {
      const parsed = credentialsUriAnswer.safeParse(json);
      // Only whether it parsed: the values are credentials.
      if (!parsed.success) throw new Error('the credentials agent answered /aliyun/credentials without Code "Success" and the credentials');
      const { AccessKeyId, AccessKeySecret, SecurityToken, Expiration } = parsed.data;
      return {
        data: { accessKeyId: AccessKeyId, accessKeySecret: AccessKeySecret, securityToken: SecurityToken },
        expiresAt: Date.parse(Expiration),
      };
    },
    options,
  );
}

/** The credential options of `new OSS({...})`; spread them next to region and bucket. */
export interface AliOssCredentialOptions {
  accessKeyId: string;
  accessKeySecret: string;
  stsToken: string;
  refreshSTSToken: () => Promise<{ accessKeyId: string; accessKeySecret: string; stsToken: string }>;
  refreshSTSTokenInterval: number;
}

/** Reads the first credentials, and returns the options that keep ali-oss on live ones. */
export async function aliOssCredentials(credentials: RefreshingCredentials<AliyunStsData>): Promise<AliOssCredentialOptions> {
  const current = async () => {
    const { data } = await credentials.get();
    return { accessKeyId: data.accessKeyId, accessKeySecret: data.accessKeySecret, stsToken: data.securityToken };
  };
  return { ...(await current()), refreshSTSToken: current, refreshSTSTokenInterval: ALI_OSS_CHECK_INTERVAL_MS };
}
