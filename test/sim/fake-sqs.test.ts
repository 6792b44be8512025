import { createHash } from 'node:crypto';
import {
  GetQueueUrlCommand,
  InvalidMessageContents,
  QueueDoesNotExist,
  SendMessageCommand,
  SQSClient,
  type SQSServiceException,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeSqs, startFakeSqs } from '../../sim/fake-sqs.js';

const QUEUE = 'cloud-token-broker-test-fn-dlq';

let sqs: FakeSqs;
let client: SQSClient;
const savedEndpoint = process.env.AWS_ENDPOINT_URL_SQS;

beforeAll(async () => {
  sqs = await startFakeSqs({ queues: [QUEUE] });
  // The broker reaches SQS only through the SDK's own endpoint variable: use exactly that.
  process.env.AWS_ENDPOINT_URL_SQS = sqs.url;
  client = new SQSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'dummy-id', secretAccessKey: 'dummy-secret' } });
});

afterAll(async () => {
  client.destroy();
  await sqs.close();
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_SQS;
  else process.env.AWS_ENDPOINT_URL_SQS = savedEndpoint;
});

afterEach(() => sqs.clear());

async function rejection(promise: Promise<unknown>): Promise<SQSServiceException> {
  try {
    await promise;
  } catch (error) {
    return error as SQSServiceException;
  }
  throw new Error('expected the call to fail');
}

const queueUrl = async (name = QUEUE) => (await client.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;

describe('fake SQS with the real SQSClient', () => {
  it('gives a created queue a URL on its own origin, under one account', async () => {
    expect(await queueUrl()).toBe(`${sqs.url}/123456789012/${QUEUE}`);
    expect(sqs.queueNames()).toEqual([QUEUE]);
    expect(sqs.requests).toEqual([{ target: 'GetQueueUrl', queueName: QUEUE }]);
  });

  it('keeps what SendMessage sends, body and attributes, and answers with the MD5s the client checks', async () => {
    const body = '{"appId":"4035506116466040001","scopes":["openid"]} ✓';
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl: await queueUrl(),
        MessageBody: body,
        MessageAttributes: {
          errorCode: { DataType: 'String', StringValue: 'VendorRejected' },
          receiveCount: { DataType: 'Number', StringValue: '3' },
          blob: { DataType: 'Binary', BinaryValue: Uint8Array.from([0, 1, 2]) },
        },
      }),
    );
    const [stored, ...more] = sqs.messages(QUEUE);
    expect(more).toEqual([]);
    expect(stored).toMatchObject({
      messageId: sent.MessageId,
      body,
      attributes: {
        errorCode: { DataType: 'String', StringValue: 'VendorRejected' },
        receiveCount: { DataType: 'Number', StringValue: '3' },
        blob: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2]).toString('base64') },
      },
    });
    // The client compares MD5OfMessageBody itself (a wrong one fails the send); here it is plain MD5.
    expect(sent.MD5OfMessageBody).toBe(createHash('md5').update(body, 'utf8').digest('hex'));
    // SQS's attribute digest, spelled out: per attribute in name order, 4-byte lengths before name, type and value,
    // and a transport byte (1 string, 2 binary) before the value.
    const field = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
    const encoded = Buffer.concat([
      field(Buffer.from('blob')),
      field(Buffer.from('Binary')),
      Buffer.from([2]),
      field(Buffer.from([0, 1, 2])),
      field(Buffer.from('errorCode')),
      field(Buffer.from('String')),
      Buffer.from([1]),
      field(Buffer.from('VendorRejected')),
      field(Buffer.from('receiveCount')),
      field(Buffer.from('Number')),
      Buffer.from([1]),
      field(Buffer.from('3')),
    ]);
    expect(sent.MD5OfMessageAttributes).toBe(createHash('md5').update(encoded).digest('hex'));
  });

  it('raises QueueDoesNotExist for a queue never created, by name and by URL', async () => {
    const byName = await rejection(client.send(new GetQueueUrlCommand({ QueueName: 'no-such-queue' })));
    expect(byName).toBeInstanceOf(QueueDoesNotExist);
    const byUrl = await rejection(
      client.send(new SendMessageCommand({ QueueUrl: `${sqs.url}/123456789012/no-such-queue`, MessageBody: 'x' })),
    );
    expect(byUrl).toBeInstanceOf(QueueDoesNotExist);
    expect(sqs.messages('no-such-queue')).toEqual([]);
  });

  it('refuses what SQS refuses: an empty or too large message, characters it cannot carry, bad attributes', async () => {
    const QueueUrl = await queueUrl();
    const send = (input: Omit<ConstructorParameters<typeof SendMessageCommand>[0], 'QueueUrl'>) =>
      rejection(client.send(new SendMessageCommand({ QueueUrl, ...input })));
    expect((await send({ MessageBody: '' })).name).toBe('MissingParameter');
    expect(await send({ MessageBody: 'a\u0000b' })).toBeInstanceOf(InvalidMessageContents);
    expect((await send({ MessageBody: 'x'.repeat(262_145) })).message).toMatch(/shorter than 262144 bytes/);
    const string = (value: string) => ({ DataType: 'String', StringValue: value });
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, string('v')]));
    expect((await send({ MessageBody: 'x', MessageAttributes: eleven })).message).toMatch(/exceeds the allowed maximum/);
    expect((await send({ MessageBody: 'x', MessageAttributes: { 'AWS.reserved': string('v') } })).message).toMatch(/name/);
    expect((await send({ MessageBody: 'x', MessageAttributes: { n: { DataType: 'Number', StringValue: 'three' } } })).message).toMatch(
      /number/,
    );
    expect((await send({ MessageBody: 'x', MessageAttributes: { t: { DataType: 'Text', StringValue: 'v' } } })).message).toMatch(/type/);
    expect(sqs.messages(QUEUE)).toEqual([]);
  });

  it('requires a SigV4 Authorization header and knows only its own operations', async () => {
    const post = async (headers: Record<string, string>) => {
      const response = await fetch(sqs.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.0', ...headers },
        body: '{}',
      });
      return { status: response.status, body: (await response.json()) as { __type: string } };
    };
    expect(await post({ 'x-amz-target': 'AmazonSQS.SendMessage' })).toMatchObject({
      status: 400,
      body: { __type: 'com.amazonaws.sqs#MissingAuthenticationToken' },
    });
    expect(
      await post({
        'x-amz-target': 'AmazonSQS.PurgeQueue',
        authorization: 'AWS4-HMAC-SHA256 Credential=x/20260101/eu-west-1/sqs/aws4_request',
      }),
    ).toMatchObject({
      status: 400,
      body: { __type: 'com.amazonaws.sqs#UnsupportedOperation' },
    });
  });

  it('clear() empties the queues and keeps them', async () => {
    await client.send(new SendMessageCommand({ QueueUrl: await queueUrl(), MessageBody: 'x' }));
    expect(sqs.messages(QUEUE)).toHaveLength(1);
    sqs.clear();
    expect(sqs.messages(QUEUE)).toEqual([]);
    expect(sqs.queueNames()).toEqual([QUEUE]);
    expect(sqs.requests).toEqual([]);
  });
});
