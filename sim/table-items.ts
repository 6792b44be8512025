import {
  type AttributeValue,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { readTokenItem, refreshAt, type TokenItem } from '../lib/state/token-lease.js';
import { sealData } from '../lib/state/token-seal.js';
import type { LocalTable } from './local-table.js';

/** Reads and writes the local token table behind the broker's back, as a test needs to. */
export interface TableItems {
  /** The item under `pk`, its attributes as plain values (numbers as numbers), or undefined. */
  get(pk: string): Promise<Record<string, unknown> | undefined>;
  put(item: Record<string, string | number | Uint8Array>): Promise<void>;
  /**
   * A token item as the broker writes it, sealed with the broker's own KMS client and
   * TOKEN_KEY_ID (the environment the test set), with `left` (0..1) of `lifetimeMs` remaining.
   */
  putToken(pk: string, left: number, lifetimeMs: number, data: unknown, vendorRequestId?: string): Promise<void>;
  /** The item as the broker reads it: its `data` opened (the broker's KMS client and environment). */
  token(pk: string): Promise<TokenItem | undefined>;
  keys(): Promise<string[]>;
  delete(pk: string): Promise<void>;
  clear(): Promise<void>;
  close(): void;
}

function plain(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.B !== undefined) return value.B;
  if (value.NULL) return null;
  return value;
}

function attribute(value: string | number | Uint8Array): AttributeValue {
  if (value instanceof Uint8Array) return { B: value };
  return typeof value === 'number' ? { N: String(value) } : { S: value };
}

export function tableItems(table: LocalTable): TableItems {
  const client = new DynamoDBClient({
    endpoint: table.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const TableName = table.tableName;
  const keys = async () => {
    const found: string[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName, ExclusiveStartKey: start, ProjectionExpression: 'pk' }));
      for (const item of page.Items ?? []) found.push(item.pk!.S!);
      start = page.LastEvaluatedKey;
    } while (start);
    return found;
  };
  const put = async (item: Record<string, string | number | Uint8Array>) => {
    await client.send(new PutItemCommand({ TableName, Item: Object.fromEntries(Object.entries(item).map(([k, v]) => [k, attribute(v)])) }));
  };
  const remove = async (pk: string) => {
    await client.send(new DeleteItemCommand({ TableName, Key: { pk: { S: pk } } }));
  };
  return {
    async get(pk) {
      const { Item } = await client.send(new GetItemCommand({ TableName, Key: { pk: { S: pk } }, ConsistentRead: true }));
      return Item && Object.fromEntries(Object.entries(Item).map(([k, v]) => [k, plain(v)]));
    },
    put,
    async putToken(pk, left, lifetimeMs, data, vendorRequestId) {
      const expires = Date.now() + left * lifetimeMs;
      const token = { expiresAt: new Date(expires).toISOString(), fetchedAt: new Date(expires - lifetimeMs).toISOString() };
      await put({
        pk,
        ...(await sealData(pk, data)),
        ...token,
        refreshAt: refreshAt(token),
        ttl: Math.ceil(expires / 1000),
        ...(vendorRequestId !== undefined && { vendorRequestId }),
      });
    },
    token: (pk) => readTokenItem(TableName, pk, true),
    keys,
    delete: remove,
    async clear() {
      for (const pk of await keys()) await remove(pk);
    },
    close: () => client.destroy(),
  };
}
