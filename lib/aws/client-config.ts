/**
 * What the broker's AWS SDK clients (SSM, DynamoDB) are given rather than left to find: the
 * region and the function role's credentials, which Lambda puts in the environment
 * (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). Given directly, a
 * client's first call does not walk its credential chain or look for shared config files
 * to learn them. With AWS_PROFILE set (a developer's machine), the SDK's own chain decides, as
 * it would.
 * @module
 */

/** Static credentials, as the SDK's `credentials` option takes them. */
export interface EnvironmentCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The function role's credentials from the environment, when Lambda (or a test) put them there. */
export function environmentCredentials(env: NodeJS.ProcessEnv = process.env): EnvironmentCredentials | undefined {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) };
}

/** The options every client of the broker starts from; empty where the environment says nothing. */
export function awsClientConfig(env: NodeJS.ProcessEnv = process.env): { region?: string; credentials?: EnvironmentCredentials } {
  const credentials = env.AWS_PROFILE ? undefined : environmentCredentials(env);
  return {
    ...(env.AWS_REGION && { region: env.AWS_REGION }),
    ...(credentials && { credentials }),
  };
}
