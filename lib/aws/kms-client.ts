/**
 * The two KMS commands token sealing uses (lib/state/token-seal.ts), imported by name so the bundle
 * holds only them: lib/state/token-seal.ts loads this module on first use, and a namespace import of
 * the whole client there would keep every command.
 * @module
 */
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { awsClientConfig } from './client-config.js';

export { DecryptCommand, GenerateDataKeyCommand };

/** A client with the broker's region and credentials; AWS_ENDPOINT_URL_KMS reaches a local fake KMS. */
export function createKmsClient(): KMSClient {
  return new KMSClient(awsClientConfig());
}
