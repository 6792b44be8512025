import { SSMClient } from '@aws-sdk/client-ssm';

let client: SSMClient | undefined;

/**
 * One SSM client per instance, for the keys and the caller policy (through Powertools
 * Parameters): each client resolves its configuration and credentials on first use, which a
 * cold start should pay once. Created on first use, never at import.
 */
export function ssmClient(): SSMClient {
  client ??= new SSMClient({});
  return client;
}
