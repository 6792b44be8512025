import { createServer } from 'node:http';
import { DynamoDBClient, ProvisionedThroughputExceededException, ThrottlingException } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler as cams } from '../../functions/cams-get-upload-authorization.js';
import { httpApiEvent, lambdaContext } from '../../sim/lambda-events.js';
import { listenOnLoopback } from '../../sim/loopback-server.js';
import { useBrokerEnv } from '../support/broker-env.js';
import { type HttpAnswer, invokeHttp } from '../support/invoke-http.js';
import { captureLogs } from '../support/log-capture.js';

const CAMS = '/v1/aliyun/cams/upload-authorization';
const ACTION = 'GetChatappUploadAuthorization';
const UNAVAILABLE = 'token table unavailable; serving without it';

const broker = useBrokerEnv();

/** Runs `requests` with the broker's logs captured; the answers and the warnings about the table. */
async function withLogs(requests: () => Promise<HttpAnswer[]>) {
  const logs = captureLogs();
  let answers: HttpAnswer[];
  try {
    answers = await requests();
  } finally {
    logs.restore();
  }
  const warnings = logs.records().filter((r) => r.message === UNAVAILABLE);
  return { answers, warnings };
}

const ask = (custSpaceId: string, context = lambdaContext()) => invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId }), context);

describe('the token table is an optimisation', () => {
  let ddb: ReturnType<typeof mockClient>;
  beforeAll(() => {
    ddb = mockClient(DynamoDBClient);
  });
  afterEach(() => ddb.reset());
  afterAll(() => ddb.restore());

  it('throttled (a fault the local table cannot show): every request is answered by the vendor, with one warning per cause', async () => {
    ddb.onAnyCommand().rejects(new ThrottlingException({ message: 'Throughput exceeds the current capacity', $metadata: {} }));
    const { answers, warnings } = await withLogs(async () => [
      ...(await Promise.all(Array.from({ length: 12 }, (_, i) => ask(`throttled-${i % 6}`)))),
      // After the failures above: the table is left alone for a while, not asked once per request.
      ...(await Promise.all(Array.from({ length: 4 }, (_, i) => ask(`throttled-later-${i}`)))),
    ]);
    expect(answers.map((a) => a.statusCode)).toEqual(Array(16).fill(200));
    // One vendor call per body: single flight still holds inside the instance.
    expect(broker.sim.callsTo(ACTION)).toHaveLength(10);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', cause: 'ThrottlingException' });
    // At most the six first reads, in flight together before the first failure came back.
    expect(ddb.calls().length).toBeLessThanOrEqual(6);
  });

  it('a second cause is warned about once too; the rate limit falls back to each instance', async () => {
    ddb.onAnyCommand().rejects(new ProvisionedThroughputExceededException({ message: 'exceeded', $metadata: {} }));
    const { answers, warnings } = await withLogs(() =>
      Promise.all(Array.from({ length: 7 }, (_, i) => ask(`provisioned-${i}`, lambdaContext(20_000)))),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(Array(7).fill(200));
    expect(warnings.map((w) => w.cause)).toEqual(['ProvisionedThroughputExceededException']);
    // The per-instance limiter: no more than 5 of the 7 calls in any second.
    const times = broker.sim.callsTo(ACTION).map((c) => c.receivedAt);
    expect(times[5]! - times[0]!).toBeGreaterThanOrEqual(950);
  });
});

describe('the token table down', () => {
  it('hanging: a request waits at most the table timeout, then calls the vendor', async () => {
    const hung = await listenOnLoopback(createServer(() => undefined));
    const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = hung.url;
    const timeout = process.env.TOKEN_TABLE_TIMEOUT_MS;
    // The deployed default; the suites otherwise allow more, so a loaded machine is no table fault.
    process.env.TOKEN_TABLE_TIMEOUT_MS = '1000';
    broker.coldStart(); // a new client, for the new endpoint
    try {
      const started = Date.now();
      const { answers, warnings } = await withLogs(async () => [await ask('hung')]);
      expect(answers[0]!.statusCode).toBe(200);
      expect(Date.now() - started).toBeLessThan(1_000 + 1_500);
      expect(warnings).toHaveLength(1);
    } finally {
      process.env.TOKEN_TABLE_TIMEOUT_MS = timeout;
      process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
      await hung.close();
    }
  });

  // Last: the table stays down for the rest of the file.
  it('unreachable: requests still work by calling the vendor; rotation, whose job is the table, fails', async () => {
    // Warm: the keys are in memory, and the table answered.
    expect((await ask('first')).statusCode).toBe(200);
    await broker.table!.close();

    const { answers, warnings } = await withLogs(() => Promise.all([ask('second'), ask('third'), ask('second')]));
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200]);
    expect(
      broker.sim
        .callsTo(ACTION)
        .map((c) => c.params.CustSpaceId)
        .sort(),
    ).toEqual(['first', 'second', 'third']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ cause: 'ECONNREFUSED' });

    const rotation = await cams({ rotate: [{ custSpaceId: 'rotated' }] }, lambdaContext()).catch((e: unknown) => e);
    expect(rotation).toMatchObject({ name: 'RotationFailed', report: { failed: [{ code: 'InternalError' }] } });
  });
});
