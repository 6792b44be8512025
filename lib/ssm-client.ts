import { SSMClient } from '@aws-sdk/client-ssm';

let client: SSMClient | undefined;

/**
 * One SSM client per instance, for the keys and the caller policy (through @middy/ssm): each
 * client resolves its configuration and credentials on first use, which a cold start should
 * pay once. Created on first use, never at import.
 */
export function ssmClient(): SSMClient {
  client ??= new SSMClient({});
  return client;
}

/**
 * For @middy/ssm's `AwsClient` option, which it calls with `new`: a constructor that
 * returns an object makes `new` yield that object, here the shared client.
 */
export const SharedSsmClient = function SharedSsmClient() {
  return ssmClient();
} as unknown as typeof SSMClient;
