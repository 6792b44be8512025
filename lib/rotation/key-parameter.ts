/**
 * The key parameter and the pending key in SSM, read and written by the rotation directly
 * (never through the serving path's cache: each step must see what SSM holds now). The pending
 * key lives at `<key parameter>/_pending`: `_` cannot begin an account name
 * (`^[a-z0-9-]{1,32}$` under the key parameter), and no broker function reads it.
 * @module
 */
import { DeleteParameterCommand, GetParameterCommand, ParameterNotFound, PutParameterCommand } from '@aws-sdk/client-ssm';
import * as z from 'zod/mini';
import { ssmClient } from '../aws/ssm-client.js';
import { BrokerError } from '../core/errors.js';
import { registerSecret } from '../core/logger.js';
import type { KeysOf, VendorApi } from '../vendor/api.js';

/** Where the pending key of `keysParameter` is stored until it is promoted. */
export function pendingParameter(keysParameter: string): string {
  return `${keysParameter}/_pending`;
}

/** A key parameter's value as its vendor's schema reads it; undefined when the parameter does not exist. */
export async function readKeyParameter<Api extends VendorApi>(vendor: Api, name: string): Promise<KeysOf<Api> | undefined> {
  return (await readStoredKey(vendor, name))?.keys;
}

/** A stored key: as the vendor's schema reads it, and the whole JSON object (fields the schema does not know included). */
export interface StoredKey<Api extends VendorApi> {
  keys: KeysOf<Api>;
  json: Record<string, unknown>;
}

/** A key parameter's value, read and checked; undefined when the parameter does not exist. */
export async function readStoredKey<Api extends VendorApi>(vendor: Api, name: string): Promise<StoredKey<Api> | undefined> {
  let text: string | undefined;
  try {
    const { Parameter } = await ssmClient().send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    text = Parameter?.Value;
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw new BrokerError('KeysUnavailable', `The ${vendor.name} key parameter could not be read from SSM.`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text ?? '');
  } catch {
    throw new BrokerError('KeysUnavailable', `The ${vendor.name} key parameter is not JSON.`);
  }
  const parsed = z.safeParse(vendor.keys, json);
  if (!parsed.success) throw new BrokerError('KeysUnavailable', `The ${vendor.name} key parameter is malformed.`);
  const keys = parsed.data as KeysOf<Api>;
  registerSecret(keys[vendor.secretFields[0]] as string | undefined);
  return { keys, json: json as Record<string, unknown> };
}

/**
 * Writes a key as a SecureString at `name` (Overwrite: the key parameter keeps its name and
 * type), encrypted with `kmsKeyId` when given (a parameter under a customer managed key stays
 * under it; without, SSM uses the account's aws/ssm).
 */
export async function writeKeyParameter<Api extends VendorApi>(
  vendor: Api,
  name: string,
  value: KeysOf<Api> | Record<string, unknown>,
  kmsKeyId?: string,
): Promise<void> {
  registerSecret(value[vendor.secretFields[0]] as string | undefined);
  await ssmClient().send(
    new PutParameterCommand({
      Name: name,
      Value: JSON.stringify(value),
      Type: 'SecureString',
      Overwrite: true,
      ...(kmsKeyId !== undefined && { KeyId: kmsKeyId }),
    }),
  );
}

/** Deletes the pending key; one already gone is fine. */
export async function deletePending(keysParameter: string): Promise<void> {
  try {
    await ssmClient().send(new DeleteParameterCommand({ Name: pendingParameter(keysParameter) }));
  } catch (error) {
    if (!(error instanceof ParameterNotFound)) throw error;
  }
}
