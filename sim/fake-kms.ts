/**
 * A small AWS KMS speaking the AWS JSON 1.1 protocol (`X-Amz-Target: TrentService.<Operation>`)
 * over real HTTP, for the real @aws-sdk/client-kms pointed at it through AWS_ENDPOINT_URL_KMS.
 * No npm package emulates KMS as a server, so this covers what the broker uses:
 * GenerateDataKey, Decrypt and Encrypt on symmetric keys it knows by id, ARN, alias name or
 * alias ARN.
 *
 * Like KMS, a ciphertext is bound to its key and to the encryption context it was made with:
 * Decrypt with another context, or of a blob it did not make, fails with
 * InvalidCiphertextException; an unknown key is NotFoundException. Each key's material is
 * random per server, so a blob from another fake (or a restart) does not open either.
 *
 * It requires a SigV4 Authorization header (as the real service does) but does not verify the
 * signature: any dummy credentials work. A request carrying an `Origin` header is refused: no
 * web page may use it.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { type AwsJsonBody, parseAwsJsonBody, replyAwsJson } from './aws-json.js';
import { listenOnLoopback, readBody } from './loopback-server.js';

/** The key a local world seals token items with: the alias TOKEN_KEY_ID names. */
export const LOCAL_TOKEN_KEY_ALIAS = 'alias/cloud-token-broker-local-tokens';

const ACCOUNT = '123456789012';
const MAGIC = Buffer.from('fkms1');
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface FakeKmsRequest {
  /** The operation, e.g. 'GenerateDataKey' (X-Amz-Target without `TrentService.`). */
  target: string;
  /** The KeyId asked for, as sent (absent for a Decrypt without one). */
  keyId?: string;
  encryptionContext?: Record<string, string>;
}

export interface FakeKms {
  url: string;
  port: number;
  /** The ARN of the key an alias or key id names, or undefined. */
  keyArn(keyIdOrAlias: string): string | undefined;
  /** Creates a key (and an alias for it, when given); returns its key id. */
  createKey(alias?: string): string;
  /** Every request answered or refused since the last clearRequests. */
  requests: FakeKmsRequest[];
  clearRequests(): void;
  /** From now on, answer `operation` (default every one) with this error type, e.g. 'KMSInternalException'; undefined: serve it (or, without `operation`, everything) again. */
  failWith(error: string | undefined, operation?: string): void;
  close(): Promise<void>;
}

type Body = AwsJsonBody;

/** A service error: the SDK maps `__type` to its exception classes. */
class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

interface Key {
  id: string;
  material: Buffer;
}

interface State {
  keys: Map<string, Key>;
  aliases: Map<string, string>;
  region: string;
}

const arnOf = (id: string, region: string) => `arn:aws:kms:${region}:${ACCOUNT}:key/${id}`;

/** Finds a key by id, key ARN, alias name or alias ARN, as KMS does; NotFoundException otherwise. */
function findKey(state: State, keyId: string): Key {
  let id = keyId;
  const arn = /^arn:aws:kms:[^:]+:\d{12}:(key\/.+|alias\/.+)$/.exec(keyId)?.[1];
  if (arn !== undefined) id = arn.startsWith('key/') ? arn.slice(4) : arn;
  if (id.startsWith('alias/')) {
    const target = state.aliases.get(id);
    if (target === undefined) throw new KmsError('NotFoundException', `Alias ${arnOfAlias(id, state.region)} is not found.`);
    id = target;
  }
  const key = state.keys.get(id);
  if (key === undefined) throw new KmsError('NotFoundException', `Key '${arnOf(id, state.region)}' does not exist`);
  return key;
}

const arnOfAlias = (alias: string, region: string) => `arn:aws:kms:${region}:${ACCOUNT}:${alias}`;

/** The context as associated data: its pairs sorted, so member order does not matter (as in KMS). */
function contextBytes(context: Record<string, string>): Buffer {
  return Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

function encrypt(key: Key, plaintext: Buffer, context: Record<string, string>): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.material, iv);
  cipher.setAAD(contextBytes(context));
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const id = Buffer.from(key.id);
  return Buffer.concat([MAGIC, Buffer.from([id.length]), id, iv, sealed, cipher.getAuthTag()]);
}

function invalidCiphertext(): KmsError {
  return new KmsError('InvalidCiphertextException', '');
}

function decrypt(state: State, blob: Buffer, context: Record<string, string>, keyId: string | undefined): { key: Key; plaintext: Buffer } {
  if (blob.length < MAGIC.length + 1 || !blob.subarray(0, MAGIC.length).equals(MAGIC)) throw invalidCiphertext();
  const idLength = blob[MAGIC.length]!;
  const idStart = MAGIC.length + 1;
  const ivStart = idStart + idLength;
  if (blob.length < ivStart + IV_BYTES + TAG_BYTES) throw invalidCiphertext();
  const key = state.keys.get(blob.subarray(idStart, ivStart).toString());
  if (key === undefined) throw invalidCiphertext();
  if (keyId !== undefined && findKey(state, keyId).id !== key.id) {
    throw new KmsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
  }
  const iv = blob.subarray(ivStart, ivStart + IV_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key.material, iv);
  decipher.setAAD(contextBytes(context));
  decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
  try {
    return {
      key,
      plaintext: Buffer.concat([decipher.update(blob.subarray(ivStart + IV_BYTES, blob.length - TAG_BYTES)), decipher.final()]),
    };
  } catch {
    throw invalidCiphertext();
  }
}

// ---------------------------------------------------------------------------
// Input checks
// ---------------------------------------------------------------------------

function requireString(body: Body, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw new KmsError(
      'ValidationException',
      `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function blobOf(body: Body, field: string): Buffer {
  const bytes = Buffer.from(requireString(body, field), 'base64');
  if (bytes.length === 0) throw new KmsError('ValidationException', `${field} must not be empty`);
  return bytes;
}

function contextOf(body: Body): Record<string, string> {
  const value = body.EncryptionContext;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new KmsError('SerializationException', 'EncryptionContext must be a map of strings');
  }
  return value as Record<string, string>;
}

function dataKeyBytes(body: Body): number {
  if (body.KeySpec !== undefined && body.NumberOfBytes !== undefined) {
    throw new KmsError('ValidationException', 'Please specify either number of bytes or key spec.');
  }
  if (body.KeySpec === 'AES_256') return 32;
  if (body.KeySpec === 'AES_128') return 16;
  if (body.KeySpec !== undefined) throw new KmsError('ValidationException', "Value at 'keySpec' failed to satisfy constraint");
  const bytes = body.NumberOfBytes;
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 1 || bytes > 1024) {
    throw new KmsError('ValidationException', 'Please specify either number of bytes or key spec.');
  }
  return bytes;
}

// ---------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------

type Operation = (body: Body, state: State) => Body;

const OPERATIONS: Record<string, Operation> = {
  GenerateDataKey(body, state) {
    const key = findKey(state, requireString(body, 'KeyId'));
    const plaintext = randomBytes(dataKeyBytes(body));
    return {
      KeyId: arnOf(key.id, state.region),
      Plaintext: plaintext.toString('base64'),
      CiphertextBlob: encrypt(key, plaintext, contextOf(body)).toString('base64'),
    };
  },
  Encrypt(body, state) {
    const key = findKey(state, requireString(body, 'KeyId'));
    const plaintext = blobOf(body, 'Plaintext');
    if (plaintext.length > 4096) throw new KmsError('ValidationException', 'Plaintext is at most 4096 bytes');
    return {
      KeyId: arnOf(key.id, state.region),
      CiphertextBlob: encrypt(key, plaintext, contextOf(body)).toString('base64'),
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
  },
  Decrypt(body, state) {
    const keyId = typeof body.KeyId === 'string' ? body.KeyId : undefined;
    const { key, plaintext } = decrypt(state, blobOf(body, 'CiphertextBlob'), contextOf(body), keyId);
    return { KeyId: arnOf(key.id, state.region), Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  },
};

// ---------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------

function parseBody(text: string): Body {
  const body = parseAwsJsonBody(text);
  if (body === undefined) throw new KmsError('SerializationException', 'The request body is not a JSON object.');
  return body;
}

/** Starts a fake KMS on loopback holding one key under `alias` (default LOCAL_TOKEN_KEY_ALIAS), and any created later. */
export async function startFakeKms(options: { port?: number; region?: string; alias?: string } = {}): Promise<FakeKms> {
  const state: State = { keys: new Map(), aliases: new Map(), region: options.region ?? 'eu-west-1' };
  const requests: FakeKmsRequest[] = [];
  const failures = new Map<string, string>();
  const createKey = (alias?: string) => {
    const id = randomUUID();
    state.keys.set(id, { id, material: randomBytes(32) });
    if (alias !== undefined) state.aliases.set(alias, id);
    return id;
  };
  createKey(options.alias ?? LOCAL_TOKEN_KEY_ALIAS);

  const handle = (req: IncomingMessage, text: string): Body => {
    if (req.headers.origin !== undefined) throw new KmsError('AccessDeniedException', 'Requests from web pages are refused.', 403);
    if (!(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256')) {
      throw new KmsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    const name = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : target;
    const operation = req.method === 'POST' ? OPERATIONS[name] : undefined;
    const body = operation ? parseBody(text) : {};
    requests.push({
      target: name,
      ...(typeof body.KeyId === 'string' && { keyId: body.KeyId }),
      ...(body.EncryptionContext !== undefined && { encryptionContext: contextOf(body) }),
    });
    if (!operation) throw new KmsError('UnknownOperationException', `Unknown operation ${target || '(no X-Amz-Target)'}`);
    const failure = failures.get(name) ?? failures.get('*');
    if (failure !== undefined) throw new KmsError(failure, `${failure} (injected)`, failure === 'KMSInternalException' ? 500 : 400);
    return operation(body, state);
  };

  const server = createServer((req, res) => {
    readBody(req)
      .then((raw) => replyAwsJson(res, '1.1', 200, handle(req, raw.toString('utf8'))))
      .catch((error: unknown) => {
        if (error instanceof KmsError) replyAwsJson(res, '1.1', error.status, { __type: error.type, message: error.message });
        else replyAwsJson(res, '1.1', 500, { __type: 'KMSInternalException', message: 'internal error' });
      });
  });
  const loopback = await listenOnLoopback(server, options.port);
  return {
    url: loopback.url,
    port: loopback.port,
    keyArn(keyIdOrAlias) {
      try {
        return arnOf(findKey(state, keyIdOrAlias).id, state.region);
      } catch {
        return undefined;
      }
    },
    createKey,
    requests,
    clearRequests() {
      requests.length = 0;
    },
    failWith(error, operation) {
      if (error !== undefined) failures.set(operation ?? '*', error);
      else if (operation !== undefined) failures.delete(operation);
      else failures.clear();
    },
    close: loopback.close,
  };
}
