import { SSMClient } from '@aws-sdk/client-ssm';
import { awsClientConfig } from './client-config.js';

let client: SSMClient | undefined;

/**
 * One SSM client per instance, for the keys and the caller policy (through Powertools
 * Parameters): each client resolves its configuration and credentials on first use, which a
 * cold start should pay once. Created on first use, never at import; the region and the
 * role's credentials come from the environment (lib/aws/client-config.ts).
 */
export function ssmClient(): SSMClient {
  client ??= new SSMClient(awsClientConfig());
  return client;
}
