/**
 * A small SSM Parameter Store speaking the AWS JSON 1.1 protocol over real HTTP, for the
 * real @aws-sdk/client-ssm pointed at it through AWS_ENDPOINT_URL_SSM. No npm package
 * emulates SSM as a server (none on npm does), so this covers what the broker uses.
 *
 * It requires a SigV4 Authorization header (like the real service, a client with no
 * credentials is refused) but does not verify the signature: any dummy credentials work.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { type AwsJsonBody, parseAwsJsonBody, replyAwsJson } from './aws-json.js';
import { listenOnLoopback, readBody } from './loopback-server.js';

export type ParameterType = 'String' | 'SecureString' | 'StringList';

export interface FakeSsmRequest {
  /** The operation, e.g. 'GetParameters' (X-Amz-Target without the `AmazonSSM.` prefix). */
  target: string;
  /** Names asked for (Name, Names, or the Path of GetParametersByPath). */
  names: string[];
}

export interface FakeSsm {
  url: string;
  port: number;
  /** Stores a parameter directly (objects are JSON-stringified); bumps Version if it exists. */
  put(name: string, value: string | object, type?: ParameterType): void;
  /** The raw stored value, or undefined. */
  get(name: string): string | undefined;
  delete(name: string): boolean;
  names(): string[];
  requests: FakeSsmRequest[];
  clearRequests(): void;
  close(): Promise<void>;
}

interface StoredParameter {
  name: string;
  type: ParameterType;
  value: string;
  version: number;
  lastModified: Date;
  dataType: string;
}

type Store = Map<string, StoredParameter>;
type Body = AwsJsonBody;

/** A service error: the SDK maps `__type` to its exception classes. */
class SsmError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const TYPES: ParameterType[] = ['String', 'SecureString', 'StringList'];
const ACCOUNT = '123456789012';
const MAX_VALUE = 4096;

// ---------------------------------------------------------------------------
// Stored parameters and how they are shown
// ---------------------------------------------------------------------------

function store(params: Store, name: string, value: string, type: ParameterType, dataType = 'text'): StoredParameter {
  const previous = params.get(name);
  const parameter = { name, type, value, version: (previous?.version ?? 0) + 1, lastModified: new Date(), dataType };
  params.set(name, parameter);
  return parameter;
}

/**
 * What a caller that forgot WithDecryption sees for a SecureString: base64 that looks like
 * a KMS ciphertext blob, not the value.
 */
function ciphertextOf(parameter: StoredParameter): string {
  const digest = createHash('sha256').update(`${parameter.name}\0${parameter.version}\0${parameter.value}`).digest();
  return Buffer.concat([Buffer.from('AQICAHgsimfakekms'), digest, digest.subarray(0, 16)]).toString('base64');
}

function arnOf(name: string, region: string): string {
  return `arn:aws:ssm:${region}:${ACCOUNT}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
}

function view(parameter: StoredParameter, decrypt: boolean, region: string) {
  const value = parameter.type === 'SecureString' && !decrypt ? ciphertextOf(parameter) : parameter.value;
  return {
    Name: parameter.name,
    Type: parameter.type,
    Value: value,
    Version: parameter.version,
    LastModifiedDate: parameter.lastModified.getTime() / 1000,
    ARN: arnOf(parameter.name, region),
    DataType: parameter.dataType,
  };
}

// ---------------------------------------------------------------------------
// Input checks
// ---------------------------------------------------------------------------

function validation(message: string): SsmError {
  return new SsmError('ValidationException', message);
}

function requireString(body: Body, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw validation(
      `1 validation error detected: Value null at '${field[0]!.toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function optionalBoolean(body: Body, field: string): boolean {
  const value = body[field];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new SsmError('SerializationException', `${field} must be a boolean`);
  return value;
}

function checkName(name: string): void {
  if (/^\/?(aws|ssm)/i.test(name)) throw validation(`Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive).`);
  if (name.includes('/') && !name.startsWith('/')) throw validation('Parameter name must be a fully qualified name.');
  if (name.length > 2048) throw validation('Parameter name is too long.');
}

function requireFound(params: Store, name: string): StoredParameter {
  const parameter = params.get(name);
  if (!parameter) throw new SsmError('ParameterNotFound', `Parameter ${name} not found.`);
  return parameter;
}

// ---------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------

interface OperationContext {
  params: Store;
  region: string;
  record(names: string[]): void;
}

type Operation = (body: Body, ctx: OperationContext) => Body;

const getParameter: Operation = (body, ctx) => {
  const name = requireString(body, 'Name');
  ctx.record([name]);
  return { Parameter: view(requireFound(ctx.params, name), optionalBoolean(body, 'WithDecryption'), ctx.region) };
};

const getParameters: Operation = (body, ctx) => {
  const names = body.Names;
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) throw validation("Value at 'names' must be a list of strings.");
  ctx.record(names as string[]);
  if (names.length < 1 || names.length > 10) {
    throw validation(
      `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10`,
    );
  }
  const decrypt = optionalBoolean(body, 'WithDecryption');
  const unique = [...new Set(names as string[])];
  const found = unique.filter((n) => ctx.params.has(n));
  return {
    Parameters: found.map((n) => view(ctx.params.get(n)!, decrypt, ctx.region)),
    InvalidParameters: unique.filter((n) => !ctx.params.has(n)),
  };
};

/** NextToken is opaque to callers; here it carries the last name returned. */
function encodeToken(lastName: string): string {
  return Buffer.from(JSON.stringify({ after: lastName })).toString('base64url');
}

function decodeToken(token: unknown): string | undefined {
  if (token === undefined || token === null) return undefined;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8'));
    const after = (decoded as { after?: unknown }).after;
    if (typeof after === 'string') return after;
  } catch {
    // fall through
  }
  throw new SsmError('InvalidNextToken', "The specified token isn't valid.");
}

function underPath(name: string, path: string, recursive: boolean): boolean {
  const prefix = path.endsWith('/') ? path : `${path}/`;
  if (!name.startsWith(prefix)) return false;
  return recursive || !name.slice(prefix.length).includes('/');
}

function maxResults(body: Body): number {
  const value = body.MaxResults ?? 10;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 10) {
    throw validation(
      `1 validation error detected: Value '${String(value)}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 10`,
    );
  }
  return value;
}

const getParametersByPath: Operation = (body, ctx) => {
  const path = requireString(body, 'Path');
  ctx.record([path]);
  if (!path.startsWith('/')) throw validation('The parameter path must begin with a forward slash (/).');
  if (body.ParameterFilters !== undefined) throw validation('ParameterFilters are not supported by the fake SSM.');
  const limit = maxResults(body);
  const after = decodeToken(body.NextToken);
  const recursive = optionalBoolean(body, 'Recursive');
  const matching = [...ctx.params.keys()]
    .filter((name) => underPath(name, path, recursive))
    .sort()
    .filter((name) => after === undefined || name > after);
  const page = matching.slice(0, limit);
  const decrypt = optionalBoolean(body, 'WithDecryption');
  return {
    Parameters: page.map((name) => view(ctx.params.get(name)!, decrypt, ctx.region)),
    ...(matching.length > limit && { NextToken: encodeToken(page[page.length - 1]!) }),
  };
};

const putParameter: Operation = (body, ctx) => {
  const name = requireString(body, 'Name');
  ctx.record([name]);
  const value = requireString(body, 'Value');
  checkName(name);
  const existing = ctx.params.get(name);
  if (existing && !optionalBoolean(body, 'Overwrite')) {
    throw new SsmError(
      'ParameterAlreadyExists',
      'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
    );
  }
  const type = body.Type ?? existing?.type;
  if (type === undefined) throw validation('A parameter type is required when you create a parameter.');
  if (!TYPES.includes(type as ParameterType)) {
    throw validation(
      `1 validation error detected: Value '${String(type)}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`,
    );
  }
  if (value.length > MAX_VALUE) throw validation(`Standard tier parameters support a maximum parameter value of ${MAX_VALUE} characters.`);
  const dataType = typeof body.DataType === 'string' ? body.DataType : 'text';
  const stored = store(ctx.params, name, value, type as ParameterType, dataType);
  return { Version: stored.version, Tier: 'Standard' };
};

const deleteParameter: Operation = (body, ctx) => {
  const name = requireString(body, 'Name');
  ctx.record([name]);
  requireFound(ctx.params, name);
  ctx.params.delete(name);
  return {};
};

const OPERATIONS: Record<string, Operation> = {
  GetParameter: getParameter,
  GetParameters: getParameters,
  GetParametersByPath: getParametersByPath,
  PutParameter: putParameter,
  DeleteParameter: deleteParameter,
};

// ---------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------

/** The region from the SigV4 credential scope: `Credential=AKID/date/region/ssm/aws4_request`. */
function regionOf(authorization: string): string {
  return /Credential=[^/]+\/\d+\/([^/]+)\//.exec(authorization)?.[1] ?? 'us-east-1';
}

function parseBody(text: string): Body {
  const body = parseAwsJsonBody(text);
  if (body === undefined) throw new SsmError('SerializationException', 'The request body is not a JSON object.');
  return body;
}

function handle(params: Store, requests: FakeSsmRequest[], req: IncomingMessage, text: string): Body {
  const authorization = req.headers.authorization ?? '';
  if (!authorization.startsWith('AWS4-HMAC-SHA256')) {
    throw new SsmError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const target = String(req.headers['x-amz-target'] ?? '');
  const operationName = target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : target;
  const operation = req.method === 'POST' ? OPERATIONS[operationName] : undefined;
  if (!operation) {
    requests.push({ target: operationName, names: [] });
    throw new SsmError('UnknownOperationException', `Unknown operation ${target || '(no X-Amz-Target)'}`);
  }
  const ctx: OperationContext = {
    params,
    region: regionOf(authorization),
    record: (names) => requests.push({ target: operationName, names }),
  };
  return operation(parseBody(text), ctx);
}

export async function startFakeSsm(options: { port?: number } = {}): Promise<FakeSsm> {
  const params: Store = new Map();
  const requests: FakeSsmRequest[] = [];
  const server = createServer((req, res) => {
    readBody(req)
      .then((raw) => replyAwsJson(res, '1.1', 200, handle(params, requests, req, raw.toString('utf8'))))
      .catch((error: unknown) => {
        if (error instanceof SsmError) replyAwsJson(res, '1.1', 400, { __type: error.type, message: error.message });
        else replyAwsJson(res, '1.1', 500, { __type: 'InternalServerError', message: String(error) });
      });
  });
  const loopback = await listenOnLoopback(server, options.port);

  return {
    url: loopback.url,
    port: loopback.port,
    put(name, value, type = 'SecureString') {
      store(params, name, typeof value === 'string' ? value : JSON.stringify(value), type);
    },
    get: (name) => params.get(name)?.value,
    delete: (name) => params.delete(name),
    names: () => [...params.keys()].sort(),
    requests,
    clearRequests() {
      requests.length = 0;
    },
    close: loopback.close,
  };
}
