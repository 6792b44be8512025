/**
 * Envelope encryption of token items (docs/contracts.md, "Shared state"): a token's whole
 * `data` is sealed with AES-256-GCM under a data key from KMS (GenerateDataKey on
 * TOKEN_KEY_ID), and only the KMS-encrypted data key is stored beside it. The whole object is
 * sealed, not a list of secret fields: then no secret field a vendor adds can be missed.
 *
 * Two bindings: the data key's encryption context names the function (`{"function": <name>}`,
 * the part of `pk` before `#`), so a key policy can confine each role to its own data keys;
 * the ciphertext's associated data is the item's `pk`, so a sealed value moved to another
 * item does not open.
 *
 * Data keys are cached per instance: the sealing key per function for at most
 * DATA_KEY_MAX_AGE_MS and DATA_KEY_MAX_USES seals, opened keys in a small LRU bounded in
 * count and age. @aws-sdk/client-kms is loaded on first use, never at import.
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KMSClient } from '@aws-sdk/client-kms';
import { readConfig } from '../core/config.js';

/** A sealing data key is replaced after this long… */
export const DATA_KEY_MAX_AGE_MS = 5 * 60_000;
/** …or after this many seals, whichever comes first. */
export const DATA_KEY_MAX_USES = 10_000;
/** Most opened data keys an instance keeps (each kept at most DATA_KEY_MAX_AGE_MS). */
export const OPENED_KEYS_MAX = 64;
/** Most functions one instance seals for (one on Lambda; tests run several in one process). */
const SEALING_KEYS_MAX = 16;

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What a token item holds instead of its `data`: the sealed value and the data key it needs, KMS-encrypted. */
export interface Sealed {
  sealedData: Uint8Array;
  dataKey: Uint8Array;
}

/**
 * The sealed value cannot be opened here and never will be: tampered with, moved from
 * another item or function, or sealed under a key this deployment does not have. The item
 * is treated as holding no token.
 */
export class Unopenable extends Error {
  override readonly name = 'Unopenable';
}

/** KMS could not be used (unreachable, throttling, access denied, disabled or unknown key): handled like a table failure. */
export class KmsFailure extends Error {
  override readonly name = 'KmsFailure';
  /** What the logs call it: `kms:` and the SDK's exception name or the network error's code. */
  readonly code: string;
  constructor(cause: unknown) {
    const inner = (cause as { code?: unknown; name?: unknown } | null) ?? {};
    const name = typeof inner.code === 'string' && inner.code ? inner.code : typeof inner.name === 'string' ? inner.name : 'Error';
    super(`KMS call failed: ${name}`, { cause });
    this.code = `kms:${name}`;
  }
}

interface SealingKey {
  key: Buffer;
  blob: Uint8Array;
  created: number;
  uses: number;
}

type Sdk = typeof import('../aws/kms-client.js');
let kms: Promise<{ sdk: Sdk; client: KMSClient }> | undefined;
const sealing = new Map<string, Promise<SealingKey>>();
const opened = new Map<string, { key: Buffer; at: number }>();
/** Decrypts in flight, each removed when it settles: at most one per concurrent request. */
const opening = new Map<string, Promise<Buffer>>();

/** The client, created on first use; AWS_ENDPOINT_URL_KMS reaches a local fake KMS. */
function kmsClient(): Promise<{ sdk: Sdk; client: KMSClient }> {
  kms ??= import('../aws/kms-client.js').then((sdk) => ({ sdk, client: sdk.createKmsClient() }));
  return kms;
}

/**
 * Loads the KMS client now, without waiting: the table path needs it either way (a hit to
 * open the data key, a miss to make one), so its loading overlaps the table read.
 */
export function prepareKms(): void {
  kmsClient().catch(() => undefined);
}

/** The function an item belongs to: its `pk` up to the first `#` (lib/state/token-lease.ts, tokenKey). */
export function functionOf(pk: string): string {
  const end = pk.indexOf('#');
  return end > 0 ? pk.slice(0, end) : pk;
}

/** One KMS call, bounded like a table call; its failures become KmsFailure, but for the ones `keep` lets through. */
async function callKms<T>(
  call: (sdk: Sdk, client: KMSClient, signal: AbortSignal) => Promise<T>,
  keep?: (error: unknown) => boolean,
): Promise<T> {
  const { sdk, client } = await kmsClient();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), readConfig().TOKEN_TABLE_TIMEOUT_MS);
  try {
    return await call(sdk, client, controller.signal);
  } catch (error) {
    if (keep?.(error)) throw error;
    throw new KmsFailure(error);
  } finally {
    clearTimeout(timer);
  }
}

const idOf = (blob: Uint8Array) => Buffer.from(blob).toString('base64');

function remember(blob: Uint8Array, key: Buffer, now = Date.now()): void {
  const id = idOf(blob);
  opened.delete(id);
  opened.set(id, { key, at: now });
  // Oldest first in a Map's order: evict from the front.
  while (opened.size > OPENED_KEYS_MAX) opened.delete(opened.keys().next().value!);
}

async function newSealingKey(context: string): Promise<SealingKey> {
  const keyId = readConfig().TOKEN_KEY_ID;
  if (keyId === undefined) throw new KmsFailure({ name: 'NoTokenKeyId' });
  const answer = await callKms((sdk, client, abortSignal) =>
    client.send(new sdk.GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: { function: context } }), {
      abortSignal,
    }),
  );
  if (answer.Plaintext?.length !== 32 || !answer.CiphertextBlob?.length) throw new KmsFailure({ name: 'MalformedDataKey' });
  const key = Buffer.from(answer.Plaintext);
  remember(answer.CiphertextBlob, key);
  return { key, blob: answer.CiphertextBlob, created: Date.now(), uses: 0 };
}

/** The function's current sealing key: one GenerateDataKey per function at a time, replaced when too old or too used. */
async function sealingKey(context: string): Promise<SealingKey> {
  const current = sealing.get(context);
  if (current !== undefined) {
    const key = await current.catch(() => undefined);
    if (key !== undefined && key.uses < DATA_KEY_MAX_USES && Date.now() - key.created < DATA_KEY_MAX_AGE_MS) {
      key.uses++;
      return key;
    }
    // Another caller may have replaced it meanwhile: take theirs.
    if (sealing.get(context) !== current) return sealingKey(context);
  }
  const next = newSealingKey(context);
  sealing.delete(context);
  sealing.set(context, next);
  while (sealing.size > SEALING_KEYS_MAX) sealing.delete(sealing.keys().next().value!);
  next.catch(() => {
    if (sealing.get(context) === next) sealing.delete(context);
  });
  const key = await next;
  key.uses++;
  return key;
}

/** The plaintext of a stored data key: from the LRU, else one Decrypt (shared by concurrent requests). */
async function openDataKey(blob: Uint8Array, context: string): Promise<Buffer> {
  const id = idOf(blob);
  const held = opened.get(id);
  if (held !== undefined && Date.now() - held.at < DATA_KEY_MAX_AGE_MS) {
    opened.delete(id);
    opened.set(id, held);
    return held.key;
  }
  // The context is part of the id's meaning: a blob asked for under another function must not share its answer.
  const flight = `${context}\0${id}`;
  let pending = opening.get(flight);
  if (pending === undefined) {
    pending = callKms(
      (sdk, client, abortSignal) =>
        client.send(new sdk.DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { function: context } }), { abortSignal }),
      (error) => (error as { name?: unknown } | null)?.name === 'InvalidCiphertextException',
    )
      .then(
        (answer) => {
          if (answer.Plaintext?.length !== 32) throw new Unopenable('The data key is not an AES-256 key.');
          const key = Buffer.from(answer.Plaintext);
          remember(blob, key);
          return key;
        },
        (error: unknown) => {
          if (error instanceof KmsFailure) throw error;
          throw new Unopenable('KMS refused the data key (another function, or not ours).');
        },
      )
      .finally(() => opening.delete(flight));
    opening.set(flight, pending);
  }
  return pending;
}

/** Seals a token's `data` for the item `pk`. Throws KmsFailure when no data key can be had. */
export async function sealData(pk: string, data: unknown): Promise<Sealed> {
  const { key, blob } = await sealingKey(functionOf(pk));
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(pk));
  const body = Buffer.concat([cipher.update(JSON.stringify(data) ?? 'null'), cipher.final()]);
  return { sealedData: Buffer.concat([Buffer.from([VERSION]), iv, body, cipher.getAuthTag()]), dataKey: blob };
}

/** Opens what sealData sealed for `pk`. Throws Unopenable (treat as no token) or KmsFailure (treat as a table failure). */
export async function openData(pk: string, sealed: Sealed): Promise<unknown> {
  const { sealedData, dataKey } = sealed;
  if (sealedData.length < 1 + IV_BYTES + TAG_BYTES || sealedData[0] !== VERSION)
    throw new Unopenable('Not a sealed value of this version.');
  const key = await openDataKey(dataKey, functionOf(pk));
  const bytes = Buffer.from(sealedData);
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(1, 1 + IV_BYTES));
  decipher.setAAD(Buffer.from(pk));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  let text: string;
  try {
    text = Buffer.concat([decipher.update(bytes.subarray(1 + IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new Unopenable('The sealed value does not open for this item.');
  }
  return JSON.parse(text);
}

/** How many data keys this instance holds: sealing keys, opened keys. */
export function dataKeysHeld(): { sealing: number; opened: number } {
  return { sealing: sealing.size, opened: opened.size };
}

/** Forget every data key and the client (tests; a cold start does the same). */
export function clearDataKeys(): void {
  sealing.clear();
  opened.clear();
  opening.clear();
  void kms?.then(({ client }) => client.destroy()).catch(() => undefined);
  kms = undefined;
}
