import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as bpstudio } from '../../functions/bpstudio-get-token.js';
import { handler as cams } from '../../functions/cams-get-upload-authorization.js';
import { handler as ufile } from '../../functions/ufile-describe-token.js';
import { camsGetUploadAuthorization } from '../../lib/operations/cams-get-upload-authorization.js';
import { ufileDescribeToken } from '../../lib/operations/ufile-describe-token.js';
import { bodyKey } from '../../lib/state/body-key.js';
import { refreshAt, tokenKey } from '../../lib/state/token-lease.js';
import { httpApiEvent, lambdaContext } from '../../sim/lambda-events.js';
import { type TableItems, tableItems } from '../../sim/table-items.js';
import { useBrokerEnv } from '../support/broker-env.js';
import { type HttpAnswer, invokeHttp } from '../support/invoke-http.js';
import { captureLogs, stringsIn } from '../support/log-capture.js';

/**
 * Token items are sealed (docs/contracts.md, "Shared state"): what the table holds, what a
 * reader of it without the KMS key can learn, and how the broker lives with KMS failing.
 */
const CAMS = '/v1/aliyun/cams/upload-authorization';
const ACTION = 'GetChatappUploadAuthorization';
const UNAVAILABLE = 'token table unavailable; serving without it';

const broker = useBrokerEnv();
let items: TableItems;
beforeAll(() => {
  items = tableItems(broker.table!);
});
afterAll(() => items.close());

const ask = (custSpaceId: string) => invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId }), lambdaContext(20_000));
const pkOf = (custSpaceId: string) => tokenKey(camsGetUploadAuthorization, bodyKey({ custSpaceId }));

/** Everything a reader of the raw item sees, binary attributes as UTF-8, base64 and hex. */
function rawText(item: Record<string, unknown>): string {
  return Object.entries(item)
    .map(([name, value]) => {
      if (value instanceof Uint8Array) {
        const bytes = Buffer.from(value);
        return `${name}=${bytes.toString('utf8')} ${bytes.toString('base64')} ${bytes.toString('hex')}`;
      }
      return `${name}=${String(value)}`;
    })
    .join('\n');
}

/** With the broker's logs captured: what `run` returns, and the log records. */
async function withLogs<T>(run: () => Promise<T>): Promise<{ value: T; records: Record<string, unknown>[] }> {
  const logs = captureLogs();
  try {
    const value = await run();
    return { value, records: logs.records() };
  } finally {
    logs.restore();
  }
}

const tokenItems = async () => (await items.keys()).filter((pk) => pk.includes('#token#'));

describe('a reader of the table without the KMS key', () => {
  it('learns nothing of the credentials: no returned value is in any item, only sealedData and its KMS-encrypted dataKey', async () => {
    const answers: HttpAnswer[] = [
      await ask('sealed'),
      await invokeHttp(ufile, httpApiEvent('/v1/ucloud/ufile/tokens', {})),
      await invokeHttp(bpstudio, httpApiEvent('/v1/aliyun/bpstudio/token', {})),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200]);
    const keys = await tokenItems();
    expect(keys).toHaveLength(3);
    const raw = (await Promise.all(keys.map((pk) => items.get(pk)))).map((item) => item!);
    const text = raw.map(rawText).join('\n');
    // Every string the vendors returned (secrets, key ids, buckets, URLs), not just the secret-named ones.
    const returned = answers.flatMap((a) => stringsIn(a.json.data)).filter((value) => value.length >= 6);
    expect(returned).toEqual(expect.arrayContaining([answers[0]!.json.data.accessKeySecret, answers[1]!.json.data[0].privateKey]));
    for (const value of returned) expect(text).not.toContain(value);
    for (const item of raw) {
      expect(item.data).toBeUndefined();
      expect(item.sealedData).toBeInstanceOf(Uint8Array);
      expect(item.dataKey).toBeInstanceOf(Uint8Array);
    }
    // The broker, which has the key, opens them: a cold instance serves them from the table.
    broker.coldStart();
    const again = await ask('sealed');
    expect(again.json.data).toEqual(answers[0]!.json.data);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(1);
  });

  it('asks KMS for data keys in the function’s own encryption context, one key for many items, one Decrypt per key', async () => {
    for (const id of ['a', 'b', 'c', 'd']) expect((await ask(`ctx-${id}`)).statusCode).toBe(200);
    const made = broker.kms.requests.filter((r) => r.target === 'GenerateDataKey');
    expect(made).toEqual([
      { target: 'GenerateDataKey', keyId: broker.env.TOKEN_KEY_ID, encryptionContext: { function: 'cams-get-upload-authorization' } },
    ]);
    broker.coldStart();
    broker.kms.clearRequests();
    const served = await Promise.all(['a', 'b', 'c', 'd'].map((id) => ask(`ctx-${id}`)));
    expect(served.map((a) => a.statusCode)).toEqual([200, 200, 200, 200]);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(4);
    expect(broker.kms.requests).toEqual([{ target: 'Decrypt', encryptionContext: { function: 'cams-get-upload-authorization' } }]);
  });
});

describe('an item that does not open is a miss, fetched afresh, never served', () => {
  it('a sealed value moved to another body of the same function, or to another function', async () => {
    const source = await ask('source');
    const moved = (await items.get(pkOf('source')))!;
    const targets = [pkOf('target'), tokenKey(ufileDescribeToken, bodyKey({}))];
    for (const pk of targets) await items.put({ ...(moved as Record<string, string | number | Uint8Array>), pk });
    broker.coldStart();
    const { value: answers, records } = await withLogs(() =>
      Promise.all([ask('target'), invokeHttp(ufile, httpApiEvent('/v1/ucloud/ufile/tokens', {}))]),
    );
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200]);
    expect(answers[0]!.json.data.accessKeySecret).not.toBe(source.json.data.accessKeySecret);
    expect(answers[1]!.json.data).toEqual(expect.any(Array));
    expect(broker.sim.callsTo(ACTION).map((c) => c.params.CustSpaceId)).toEqual(['source', 'target']);
    expect(broker.sim.callsTo('DescribeUFileToken')).toHaveLength(1);
    // Each moved item was replaced by what was fetched, which opens where it is.
    expect((await items.token(targets[0]!))?.token?.data).toEqual(answers[0]!.json.data);
    expect((await items.token(targets[1]!))?.token?.data).toEqual(answers[1]!.json.data);
    const warned = records.filter((r) => r.message === 'token item unreadable; replacing it with fresh credentials');
    expect(warned).toHaveLength(2);
    expect(JSON.stringify(records)).not.toContain(source.json.data.accessKeySecret);
  });

  it('an item holding plaintext data (written before sealing) is not served, and is replaced sealed', async () => {
    const pk = pkOf('legacy');
    const now = Date.now();
    const token = { fetchedAt: new Date(now).toISOString(), expiresAt: new Date(now + 3_600_000).toISOString() };
    await items.put({
      pk,
      data: JSON.stringify({ accessKeyId: 'legacy-id', accessKeySecret: 'legacy-plaintext-secret', securityToken: 'legacy-token' }),
      ...token,
      refreshAt: refreshAt(token),
      ttl: Math.ceil((now + 3_600_000) / 1000),
    });
    const answer = await ask('legacy');
    expect(answer.statusCode).toBe(200);
    expect(answer.json.data.accessKeyId).not.toBe('legacy-id');
    expect(broker.sim.callsTo(ACTION)).toHaveLength(1);
    const raw = (await items.get(pk))!;
    expect(raw.data).toBeUndefined();
    expect(rawText(raw)).not.toContain('legacy-plaintext-secret');
    expect((await items.token(pk))?.token?.data).toEqual(answer.json.data);
  });
});

describe('TOKEN_TABLE without TOKEN_KEY_ID', () => {
  it('keeps tokens in memory only, never in the table, and warns once', async () => {
    const keyId = process.env.TOKEN_KEY_ID;
    delete process.env.TOKEN_KEY_ID;
    broker.coldStart();
    try {
      const { value: answers, records } = await withLogs(async () => [await ask('m1'), await ask('m2'), await ask('m1')]);
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200]);
      expect(answers[2]!.json.data).toEqual(answers[0]!.json.data);
      expect(broker.sim.callsTo(ACTION)).toHaveLength(2);
      expect(await tokenItems()).toEqual([]);
      expect(broker.kms.requests).toEqual([]);
      const warnings = records.filter((r) => r.level === 'warn' && String(r.message).includes('TOKEN_KEY_ID'));
      expect(warnings).toHaveLength(1);
    } finally {
      process.env.TOKEN_KEY_ID = keyId;
    }
  });
});

describe('KMS failing degrades like the table failing: served by the vendor, never unsealed, never 500', () => {
  it('no data key to be had (GenerateDataKey refused): answered, nothing stored, the lease given back, one warning', async () => {
    broker.kms.failWith('KMSInternalException', 'GenerateDataKey');
    const { value: answers, records } = await withLogs(() => Promise.all([ask('k1'), ask('k2'), ask('k1')]));
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200]);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(2);
    for (const pk of await tokenItems()) {
      const raw = (await items.get(pk))!;
      expect(raw.sealedData ?? raw.data).toBeUndefined();
      expect(raw.leaseOwner).toBeUndefined();
    }
    const warnings = records.filter((r) => r.message === UNAVAILABLE);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ cause: 'kms:KMSInternalException', action: 'write token' });
  });

  it('a data key that cannot be opened now (Decrypt refused): the vendor answers instead', async () => {
    const first = await ask('d1');
    broker.coldStart();
    broker.kms.failWith('AccessDeniedException', 'Decrypt');
    const { value: answer, records } = await withLogs(() => ask('d1'));
    expect(answer.statusCode).toBe(200);
    expect(answer.json.data.accessKeyId).not.toBe(first.json.data.accessKeyId);
    expect(broker.sim.callsTo(ACTION)).toHaveLength(2);
    expect(records.filter((r) => r.message === UNAVAILABLE)).toEqual([
      expect.objectContaining({ cause: 'kms:AccessDeniedException', action: 'read token' }),
    ]);
    // The stored item was not touched: it opens again once KMS does.
    broker.kms.failWith(undefined);
    broker.coldStart();
    expect((await ask('d1')).json.data).toEqual(first.json.data);
  });

  it('KMS unreachable: answered by the vendor; scheduled rotation, whose job is the table, fails the body', async () => {
    const endpoint = process.env.AWS_ENDPOINT_URL_KMS;
    // A port nothing listens on: connection refused.
    process.env.AWS_ENDPOINT_URL_KMS = 'http://127.0.0.1:9';
    broker.coldStart();
    try {
      const answer = await ask('u1');
      expect(answer.statusCode).toBe(200);
      expect((await items.get(pkOf('u1')))?.sealedData).toBeUndefined();
      await expect(cams({ rotate: [{ custSpaceId: 'u2' }] }, lambdaContext(20_000))).rejects.toThrow();
      expect((await items.get(pkOf('u2')))?.sealedData).toBeUndefined();
    } finally {
      process.env.AWS_ENDPOINT_URL_KMS = endpoint;
    }
  });
});
