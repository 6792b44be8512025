/**
 * The AWS SDK's default credential chain as a Lambda function needs it, for the deployment
 * bundles only: scripts/build.mjs resolves `@aws-sdk/credential-provider-node` to this file.
 * Lambda hands every function its role's credentials in the environment, so the rest of the
 * SDK's chain (SSO, shared config files, credential_process, web identity, the container and
 * instance metadata endpoints, with the STS, SSO and sign-in clients they bring) never
 * answers there; left out, it is about 90 KB less to load on every cold start. Tests and
 * `npm start` run the sources, with the SDK's own chain.
 *
 * The clients are normally given these credentials directly (lib/aws/client-config.ts); this
 * chain answers only a client built without them.
 * @module
 */
import { environmentCredentials } from './client-config.js';

/** The chain: the environment, or an error saying what is missing. Never names a value. */
export const defaultProvider = () => async () => {
  const credentials = environmentCredentials();
  if (credentials) return credentials;
  const error = new Error(
    'No AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): Lambda sets them for the function role; this bundle reads nothing else.',
  );
  error.name = 'CredentialsProviderError';
  return Promise.reject(error);
};

/** What `@aws-sdk/credential-provider-node` exports besides the chain. */
export const credentialsWillNeedRefresh = (credentials?: { expiration?: Date }) => credentials?.expiration !== undefined;
/** Whether credentials expire within five minutes: the SDK then fetches new ones first. */
export const credentialsTreatedAsExpired = (credentials?: { expiration?: Date }) =>
  credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
