/**
 * Tencent Cloud STS credentials refreshed by `refreshAfter`, from the broker
 * (`tencentStsCredentials`) or a running credentials agent (`agentTencentCredentials`), and as the
 * credential object tencentcloud-sdk-nodejs clients take (`tencentCloudCredential`: anything with
 * `getCredential()`, asked before each request). COS: client/cos.ts.
 * @module
 */
import * as z from 'zod/mini';
import { fromAgent } from './agent-source.js';
import type { RequestBody } from './broker-api.js';
import type { BrokerClient } from './broker-client.js';
import { type RefreshingCredentials, type RefreshOptions, refreshingCredentials } from './refreshing-credentials.js';

const ROUTE = '/v1/tencent/sts/assume-role';

/** Tencent Cloud temporary credentials. */
export interface TencentStsData {
  tmpSecretId: string;
  tmpSecretKey: string;
  token: string;
}

/** Credentials from the broker's `/v1/tencent/sts/assume-role`, asked with `body`. */
export function tencentStsCredentials(
  client: BrokerClient,
  body: RequestBody<typeof ROUTE> = {},
  options?: RefreshOptions,
): RefreshingCredentials<TencentStsData> {
  return refreshingCredentials(async () => {
    const answer = await client.post(ROUTE, body);
    if (!answer.data) throw new Error(`the broker answered ${ROUTE} without credentials`);
    const { tmpSecretId, tmpSecretKey, token } = answer.data.credentials;
    return { data: { tmpSecretId, tmpSecretKey, token }, expiresAt: answer.expiresAt, refreshAfter: answer.refreshAfter };
  }, options);
}

/** The agent's `/tencent/credentials` answer. */
const agentAnswer = z.object({
  TmpSecretId: z.string().check(z.minLength(1)),
  TmpSecretKey: z.string().check(z.minLength(1)),
  Token: z.string().check(z.minLength(1)),
  ExpiredTime: z.int().check(z.positive()),
});

/** Credentials from a running agent's `/tencent/credentials` (e.g. `http://127.0.0.1:9911/tencent/credentials`). */
export function agentTencentCredentials(endpoint: string, options?: RefreshOptions): RefreshingCredentials<TencentStsData> {
  return fromAgent(
    endpoint,
    (json) => {
      const parsed = agentAnswer.safeParse(json);
      if (!parsed.success) throw new Error('the credentials agent answered /tencent/credentials without the credentials');
      const { TmpSecretId, TmpSecretKey, Token, ExpiredTime } = parsed.data;
      return { data: { tmpSecretId: TmpSecretId, tmpSecretKey: TmpSecretKey, token: Token }, expiresAt: ExpiredTime * 1000 };
    },
    options,
  );
}

/** What tencentcloud-sdk-nodejs accepts as `credential` (its `DynamicCredential`). */
export interface TencentCloudCredential {
  getCredential(): Promise<{ secretId: string; secretKey: string; token: string }>;
}

/** A tencentcloud-sdk-nodejs `credential`: the SDK asks it before each request; it answers from the held credentials. */
export function tencentCloudCredential(credentials: RefreshingCredentials<TencentStsData>): TencentCloudCredential {
  return {
    async getCredential() {
      const { data } = await credentials.get();
      return { secretId: data.tmpSecretId, secretKey: data.tmpSecretKey, token: data.token };
    },
  };
}
