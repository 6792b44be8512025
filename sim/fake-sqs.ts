/**
 * A small SQS speaking the protocol of the real @aws-sdk/client-sqs (AWS JSON 1.0,
 * `X-Amz-Target: AmazonSQS.<Operation>`, awsQueryCompatible error codes) over real HTTP, for the
 * client pointed at it through AWS_ENDPOINT_URL_SQS. It covers what the broker does with SQS:
 * GetQueueUrl and SendMessage, to a dead-letter queue. Queues exist only once created
 * (createQueue), as in SQS; what is sent is kept in memory, per queue, for tests to read.
 *
 * It requires a SigV4 Authorization header (a client with no credentials is refused) but does
 * not verify the signature: any dummy credentials work. It computes MD5OfMessageBody, which the
 * client checks, and MD5OfMessageAttributes as SQS does.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { type AwsJsonBody, parseAwsJsonBody, replyAwsJson } from './aws-json.js';
import { listenOnLoopback, readBody } from './loopback-server.js';

/** A message attribute as SendMessage carries it in JSON (BinaryValue base64). */
export interface FakeSqsAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export interface FakeSqsMessage {
  messageId: string;
  body: string;
  attributes: Record<string, FakeSqsAttribute>;
  md5OfBody: string;
  md5OfAttributes?: string;
  /** Epoch ms at which it was stored. */
  sentAt: number;
}

export interface FakeSqsRequest {
  /** The operation, e.g. 'SendMessage' (X-Amz-Target without the `AmazonSQS.` prefix). */
  target: string;
  /** The queue it named, when it named one. */
  queueName?: string;
}

export interface FakeSqs {
  url: string;
  port: number;
  /** Creates a queue (no-op when it exists) and returns its URL. */
  createQueue(name: string): string;
  /** The messages sent to a queue, oldest first (empty for an unknown queue). */
  messages(queueName: string): FakeSqsMessage[];
  queueNames(): string[];
  requests: FakeSqsRequest[];
  /** Empties every queue and the request log; the queues stay. */
  clear(): void;
  close(): Promise<void>;
}

type Body = AwsJsonBody;

/** A service error: `__type` maps to the SDK's exception class, `x-amzn-query-error` to its awsQueryCompatible code. */
class SqsError extends Error {
  constructor(
    readonly type: string,
    readonly queryCode: string,
    message: string,
  ) {
    super(message);
  }
}

const ACCOUNT = '123456789012';
/** The maximum message size (body and attributes) the fake enforces: SQS's classic limit of 256 KiB. */
const MAX_MESSAGE_BYTES = 262_144;
const MAX_ATTRIBUTES = 10;
/** Characters SQS accepts in a body or a string attribute: #x9 #xA #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF. */
const ALLOWED_TEXT = /^[\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

const invalidValue = (message: string) => new SqsError('InvalidParameterValue', 'InvalidParameterValue', message);
const missing = (field: string) => new SqsError('MissingParameter', 'MissingParameter', `The request must contain the parameter ${field}.`);

function requireString(body: Body, field: string): string {
  const value = body[field];
  if (value === undefined || value === null || value === '') throw missing(field);
  if (typeof value !== 'string') throw new SqsError('SerializationException', 'SerializationException', `${field} must be a string`);
  return value;
}

// ---------------------------------------------------------------------------
// Message attributes and their MD5, as SQS computes it
// ---------------------------------------------------------------------------

function checkAttributeName(name: string): void {
  const valid =
    /^[\w.-]{1,256}$/.test(name) && !/^(aws|amazon)\./i.test(name) && !name.startsWith('.') && !name.endsWith('.') && !name.includes('..');
  if (!valid) throw invalidValue(`Message attribute name '${name}' is invalid.`);
}

function checkAttributes(raw: unknown): Record<string, FakeSqsAttribute> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidValue('MessageAttributes must be a map.');
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_ATTRIBUTES)
    throw invalidValue(`Number of message attributes [${entries.length}] exceeds the allowed maximum [10].`);
  const attributes: Record<string, FakeSqsAttribute> = {};
  for (const [name, value] of entries) {
    checkAttributeName(name);
    const { DataType, StringValue, BinaryValue } = (value ?? {}) as Partial<FakeSqsAttribute>;
    const type = typeof DataType === 'string' ? /^(String|Number|Binary)(\.[\w.-]+)?$/.exec(DataType)?.[1] : undefined;
    if (type === undefined) throw invalidValue(`The message attribute '${name}' has an invalid message attribute type.`);
    if (type === 'Binary') {
      if (typeof BinaryValue !== 'string' || BinaryValue === '')
        throw invalidValue(`The message attribute '${name}' must contain a non-empty value.`);
      attributes[name] = { DataType: DataType!, BinaryValue };
      continue;
    }
    if (typeof StringValue !== 'string' || StringValue === '')
      throw invalidValue(`The message attribute '${name}' must contain a non-empty value.`);
    if (!ALLOWED_TEXT.test(StringValue)) throw invalidValue(`The message attribute '${name}' contains invalid characters.`);
    if (type === 'Number' && !/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(StringValue)) {
      throw invalidValue(`Can't cast the value of message attribute '${name}' to a number.`);
    }
    attributes[name] = { DataType: DataType!, StringValue };
  }
  return attributes;
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** SQS's MD5OfMessageAttributes: name, type, transport byte (1 string, 2 binary) and value of each, sorted by name. */
export function md5OfAttributes(attributes: Record<string, FakeSqsAttribute>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const hash = createHash('md5');
  for (const name of names) {
    const { DataType, StringValue, BinaryValue } = attributes[name]!;
    const binary = BinaryValue !== undefined;
    hash.update(lengthPrefixed(Buffer.from(name, 'utf8')));
    hash.update(lengthPrefixed(Buffer.from(DataType, 'utf8')));
    hash.update(Buffer.from([binary ? 2 : 1]));
    hash.update(lengthPrefixed(binary ? Buffer.from(BinaryValue, 'base64') : Buffer.from(StringValue ?? '', 'utf8')));
  }
  return hash.digest('hex');
}

/** The bytes a message counts against the size limit: body, and each attribute's name, type and value. */
function messageBytes(body: string, attributes: Record<string, FakeSqsAttribute>): number {
  let bytes = Buffer.byteLength(body, 'utf8');
  for (const [name, { DataType, StringValue, BinaryValue }] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(DataType);
    bytes += BinaryValue !== undefined ? Buffer.from(BinaryValue, 'base64').length : Buffer.byteLength(StringValue ?? '');
  }
  return bytes;
}

// ---------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------

type Queues = Map<string, FakeSqsMessage[]>;

interface OperationContext {
  queues: Queues;
  /** The URL a queue has here: this server's origin, the account, the name (as SQS's own are shaped). */
  urlOf(name: string): string;
  record(queueName?: string): void;
}

type Operation = (body: Body, ctx: OperationContext) => Body;

function nonExistentQueue(): SqsError {
  return new SqsError('QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
}

/** The queue a QueueUrl names: its last path segment, under this account. */
function queueOf(queueUrl: string, ctx: OperationContext): { name: string; messages: FakeSqsMessage[] } {
  let path: string[];
  try {
    path = new URL(queueUrl).pathname.split('/').filter(Boolean);
  } catch {
    throw new SqsError('InvalidAddress', 'InvalidAddress', 'The address is not valid for this endpoint.');
  }
  const [account, name] = path;
  ctx.record(name);
  const messages = name === undefined ? undefined : ctx.queues.get(name);
  if (path.length !== 2 || account !== ACCOUNT || messages === undefined) throw nonExistentQueue();
  return { name: name!, messages };
}

const getQueueUrl: Operation = (body, ctx) => {
  const name = requireString(body, 'QueueName');
  ctx.record(name);
  const owner = body.QueueOwnerAWSAccountId;
  if ((owner !== undefined && owner !== ACCOUNT) || !ctx.queues.has(name)) throw nonExistentQueue();
  return { QueueUrl: ctx.urlOf(name) };
};

const sendMessage: Operation = (body, ctx) => {
  const queueUrl = requireString(body, 'QueueUrl');
  const queue = queueOf(queueUrl, ctx);
  const messageBody = requireString(body, 'MessageBody');
  if (!ALLOWED_TEXT.test(messageBody)) {
    throw new SqsError('InvalidMessageContents', 'InvalidMessageContents', 'Invalid characters found in the message body.');
  }
  const attributes = checkAttributes(body.MessageAttributes);
  if (messageBytes(messageBody, attributes) > MAX_MESSAGE_BYTES) {
    throw invalidValue(`One or more parameters are invalid. Reason: Message must be shorter than ${MAX_MESSAGE_BYTES} bytes.`);
  }
  const md5OfBody = createHash('md5').update(messageBody, 'utf8').digest('hex');
  const md5OfAttributesValue = md5OfAttributes(attributes);
  const message: FakeSqsMessage = {
    messageId: randomUUID(),
    body: messageBody,
    attributes,
    md5OfBody,
    ...(md5OfAttributesValue !== undefined && { md5OfAttributes: md5OfAttributesValue }),
    sentAt: Date.now(),
  };
  queue.messages.push(message);
  return {
    MessageId: message.messageId,
    MD5OfMessageBody: md5OfBody,
    ...(md5OfAttributesValue !== undefined && { MD5OfMessageAttributes: md5OfAttributesValue }),
  };
};

const OPERATIONS: Record<string, Operation> = {
  GetQueueUrl: getQueueUrl,
  SendMessage: sendMessage,
};

// ---------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------

function parseBody(text: string): Body {
  const body = parseAwsJsonBody(text);
  if (body === undefined) throw new SqsError('SerializationException', 'SerializationException', 'The request body is not a JSON object.');
  return body;
}

function handle(ctx: OperationContext, requests: FakeSqsRequest[], req: IncomingMessage, text: string): Body {
  if (!(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256')) {
    throw new SqsError('MissingAuthenticationToken', 'MissingClientTokenId', 'Missing Authentication Token');
  }
  const target = String(req.headers['x-amz-target'] ?? '');
  const operationName = target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : target;
  const operation = req.method === 'POST' ? OPERATIONS[operationName] : undefined;
  if (!operation) {
    requests.push({ target: operationName });
    throw new SqsError(
      'UnsupportedOperation',
      'AWS.SimpleQueueService.UnsupportedOperation',
      `Unknown operation ${target || '(no X-Amz-Target)'}`,
    );
  }
  return operation(parseBody(text), {
    ...ctx,
    record: (queueName) => requests.push({ target: operationName, ...(queueName !== undefined && { queueName }) }),
  });
}

export async function startFakeSqs(options: { port?: number; queues?: string[] } = {}): Promise<FakeSqs> {
  const queues: Queues = new Map();
  const requests: FakeSqsRequest[] = [];
  let origin = '';
  const ctx: OperationContext = { queues, urlOf: (name) => `${origin}/${ACCOUNT}/${name}`, record: () => undefined };
  const server = createServer((req, res) => {
    readBody(req)
      .then((raw) => replyAwsJson(res, '1.0', 200, handle(ctx, requests, req, raw.toString('utf8'))))
      .catch((error: unknown) => {
        if (error instanceof SqsError) {
          replyAwsJson(
            res,
            '1.0',
            400,
            { __type: `com.amazonaws.sqs#${error.type}`, message: error.message },
            { 'x-amzn-query-error': `${error.queryCode};Sender` },
          );
        } else replyAwsJson(res, '1.0', 500, { __type: 'com.amazonaws.sqs#InternalError', message: String(error) });
      });
  });
  const loopback = await listenOnLoopback(server, options.port);
  origin = loopback.url;
  const createQueue = (name: string): string => {
    if (!/^(?=.{1,80}$)[\w-]+(\.fifo)?$/.test(name)) throw new Error(`not an SQS queue name: ${name}`);
    if (!queues.has(name)) queues.set(name, []);
    return ctx.urlOf(name);
  };
  for (const name of options.queues ?? []) createQueue(name);

  return {
    url: loopback.url,
    port: loopback.port,
    createQueue,
    messages: (queueName) => [...(queues.get(queueName) ?? [])],
    queueNames: () => [...queues.keys()].sort(),
    requests,
    clear() {
      for (const messages of queues.values()) messages.length = 0;
      requests.length = 0;
    },
    close: loopback.close,
  };
}
