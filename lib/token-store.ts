import { GetParameterCommand, ParameterNotFound, PutParameterCommand } from '@aws-sdk/client-ssm';
import * as z from 'zod/mini';
import { ssmClient as ssm } from './ssm-client.js';

/**
 * Current credentials kept in SSM (SecureString) by scheduled rotation, so that any
 * instance, warm or cold, can answer without calling the vendor.
 */
export const storedTokenSchema = z.object({
  data: z.unknown(),
  expiresAt: z.iso.datetime(),
  fetchedAt: z.iso.datetime(),
  vendorRequestId: z.optional(z.string()),
});
export type StoredToken = z.infer<typeof storedTokenSchema>;

/** The stored token, or undefined when there is none or it cannot be read as one. */
export async function readStoredToken(name: string): Promise<StoredToken | undefined> {
  try {
    const { Parameter } = await ssm().send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    const parsed = z.safeParse(storedTokenSchema, JSON.parse(Parameter?.Value ?? 'null'));
    return parsed.success ? parsed.data : undefined;
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
}

export async function writeStoredToken(name: string, token: StoredToken): Promise<void> {
  await ssm().send(
    new PutParameterCommand({
      Name: name,
      Value: JSON.stringify(token),
      Type: 'SecureString',
      Overwrite: true,
      // A UFile token set can pass the 4 KB standard-tier limit; SSM then moves it up by itself.
      Tier: 'Intelligent-Tiering',
    }),
  );
}
