import { GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import type { Operation } from '../spec/operation.js';
import { openData, sealData, Unopenable } from './token-seal.js';
import { conditionalWrite, type Item, N, numberOf, S, withTable } from './token-table.js';

/**
 * Token items of the table (docs/contracts.md, "Shared state"): one item per operation and
 * body, `pk = <function>#token#<body hash>`, holding the current credentials and, while one
 * instance fetches new ones, that instance's lease. Every write is conditional, so items only
 * move forward: a lease is taken only when no live lease and no servable token is there, and
 * a token is written only over an older one. A token's `data` is stored sealed
 * (lib/state/token-seal.ts): the item holds `sealedData` and `dataKey`, never the credentials.
 */

/** Credentials as the table (and memory) hold them. */
export const storedTokenSchema = z.object({
  data: z.unknown(),
  expiresAt: z.iso.datetime(),
  fetchedAt: z.iso.datetime(),
  vendorRequestId: z.optional(z.string()),
});
/** Credentials as the table holds them (once opened): their data, expiry, fetch time and vendor request id. */
export type StoredToken = z.infer<typeof storedTokenSchema>;

/** A lease not renewed for this long is dead: another instance may take it over. */
export const LEASE_MS = 3_000;
/** A holder renews its lease this often while its vendor call runs. */
export const LEASE_RENEW_MS = 1_000;
/** How long an item that never got a token (its holder failed) stays before DynamoDB removes it. */
const LEASE_ITEM_TTL_S = 3_600;

/** The HTTPS path serves cached credentials while at least this share of their lifetime is left. */
export const SERVE_WHILE_LEFT = 0.25;

/** The table key of the token item of `op` for the body (and scope) hashed as `hash`. */
export function tokenKey(op: Pick<Operation, 'functionName'>, hash: string): string {
  return `${op.functionName}#token#${hash}`;
}

/** When the HTTPS path stops serving a token (epoch ms): a quarter of its lifetime before expiry. */
export function refreshAt(token: Pick<StoredToken, 'fetchedAt' | 'expiresAt'>): number {
  const fetched = Date.parse(token.fetchedAt);
  const expires = Date.parse(token.expiresAt);
  return Math.floor(expires - SERVE_WHILE_LEFT * Math.max(0, expires - fetched));
}

/** Share of the lifetime between a token's `refreshAfter` and its expiry (docs/contracts.md, "refreshAfter"). */
export const REFRESH_MARGIN = 1 / 8;

/**
 * When a client should ask again (epoch ms): an eighth of the lifetime before expiry. Tokens
 * are served only while a quarter is left, so whatever a client gets at or after this moment
 * has its own `refreshAfter` no earlier than this token's expiry (for tokens of the same
 * lifetime, as every token of one cache key is).
 */
export function refreshAfter(token: Pick<StoredToken, 'fetchedAt' | 'expiresAt'>): number {
  const fetched = Date.parse(token.fetchedAt);
  const expires = Date.parse(token.expiresAt);
  return Math.floor(expires - REFRESH_MARGIN * Math.max(0, expires - fetched));
}

/** A token item as read from the table: its token, or why it cannot be served, and its lease. */
export interface TokenItem {
  /** Absent when the item holds none, or nothing that reads as one. */
  token?: StoredToken;
  /**
   * Present when the item holds credentials that cannot be served: sealed under a key or for
   * an item they do not open for (`sealedData`, the value a replacing write may overwrite), or
   * stored in plaintext by an older version, or junk. writeToken may replace such an item.
   */
  unreadable?: { sealedData?: Uint8Array };
  leaseOwner?: string;
  /** Epoch ms at which the lease dies unless renewed. */
  leaseUntil?: number;
}

/** Throws KmsFailure when KMS cannot be used: the caller handles it as a table failure. */
async function parseItem(pk: string, item: Item): Promise<TokenItem> {
  const out: TokenItem = {};
  const leaseOwner = item.leaseOwner?.S;
  const leaseUntil = numberOf(item.leaseUntil);
  if (leaseOwner !== undefined && leaseUntil !== undefined) Object.assign(out, { leaseOwner, leaseUntil });
  const sealedData = item.sealedData?.B;
  const dataKey = item.dataKey?.B;
  if (sealedData === undefined || dataKey === undefined) {
    // Plaintext `data` from before items were sealed, or junk: never served, replaced by the next write.
    if (item.data !== undefined || item.refreshAt !== undefined || sealedData !== undefined) out.unreadable = {};
    return out;
  }
  let data: unknown;
  try {
    data = await openData(pk, { sealedData, dataKey });
  } catch (error) {
    if (!(error instanceof Unopenable) && !(error instanceof SyntaxError)) throw error;
    out.unreadable = { sealedData };
    return out;
  }
  const parsed = z.safeParse(storedTokenSchema, {
    data,
    expiresAt: item.expiresAt?.S,
    fetchedAt: item.fetchedAt?.S,
    ...(item.vendorRequestId?.S !== undefined && { vendorRequestId: item.vendorRequestId.S }),
  });
  if (parsed.success) out.token = parsed.data;
  else out.unreadable = { sealedData };
  return out;
}

/** The item, or undefined when there is none. `consistent` reads see every write that came before. */
export async function readTokenItem(table: string, pk: string, consistent: boolean): Promise<TokenItem | undefined> {
  const { Item: item } = await withTable((client, options) =>
    client.send(new GetItemCommand({ TableName: table, Key: { pk: S(pk) }, ConsistentRead: consistent }), options),
  );
  return item === undefined ? undefined : parseItem(pk, item);
}

/** Whether `item` carries a lease that has not yet run out at `now`. */
export function leaseLive(item: TokenItem | undefined, now = Date.now()): boolean {
  return item?.leaseUntil !== undefined && item.leaseUntil >= now;
}

/**
 * Takes the lease on a body's item for `owner`: only when no servable token is there and no
 * live lease (a dead holder's lease has expired). True when taken.
 */
export async function takeLease(table: string, pk: string, owner: string, now = Date.now()): Promise<boolean> {
  return conditionalWrite(
    new UpdateItemCommand({
      TableName: table,
      Key: { pk: S(pk) },
      UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until, #ttl = if_not_exists(#ttl, :ttl)',
      ConditionExpression:
        '(attribute_not_exists(refreshAt) OR refreshAt < :now) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
      ExpressionAttributeNames: { '#ttl': 'ttl' },
      ExpressionAttributeValues: {
        ':owner': S(owner),
        ':until': N(now + LEASE_MS),
        ':now': N(now),
        ':ttl': N(Math.ceil(now / 1000) + LEASE_ITEM_TTL_S),
      },
    }),
  );
}

/** Extends a held lease; false when it is no longer `owner`'s (taken over, or a token replaced it). */
export async function renewLease(table: string, pk: string, owner: string, now = Date.now()): Promise<boolean> {
  return conditionalWrite(
    new UpdateItemCommand({
      TableName: table,
      Key: { pk: S(pk) },
      UpdateExpression: 'SET leaseUntil = :until',
      ConditionExpression: 'leaseOwner = :owner',
      ExpressionAttributeValues: { ':owner': S(owner), ':until': N(now + LEASE_MS) },
    }),
  );
}

/** Gives a lease up without a token (the vendor call failed), so the next request need not wait for it to expire. */
export async function releaseLease(table: string, pk: string, owner: string): Promise<void> {
  // False when it is not ours any more (taken over, or a token replaced it): nothing to give up.
  await conditionalWrite(
    new UpdateItemCommand({
      TableName: table,
      Key: { pk: S(pk) },
      UpdateExpression: 'REMOVE leaseOwner, leaseUntil',
      ConditionExpression: 'leaseOwner = :owner',
      ExpressionAttributeValues: { ':owner': S(owner) },
    }),
  );
}

/**
 * Writes a token, sealed, over whatever the item holds, its lease included, unless the item
 * already holds a sealed one that expires no earlier: the table never goes back in time. An
 * unreadable item (TokenItem's `unreadable`, passed as `replacing`) is replaced whatever its
 * expiry, and so is one without sealed data (plaintext, a lease alone, junk). True when
 * written; throws KmsFailure when no data key can be had (nothing is written).
 */
export async function writeToken(table: string, pk: string, token: StoredToken, replacing?: TokenItem['unreadable']): Promise<boolean> {
  const expires = Date.parse(token.expiresAt);
  const { sealedData, dataKey } = await sealData(pk, token.data);
  const item: Item = {
    pk: S(pk),
    sealedData: { B: sealedData },
    dataKey: { B: dataKey },
    expiresAt: S(token.expiresAt),
    fetchedAt: S(token.fetchedAt),
    refreshAt: N(refreshAt(token)),
    // DynamoDB removes the item on its own once the credentials are dead.
    ttl: N(Math.ceil(expires / 1000)),
    ...(token.vendorRequestId !== undefined && { vendorRequestId: S(token.vendorRequestId) }),
  };
  return conditionalWrite(
    new PutItemCommand({
      TableName: table,
      Item: item,
      // Only what this module wrote has sealedData: anything else (plaintext, a lease alone, junk) is replaced.
      // ISO 8601 instants in one format (toISOString) order as strings do.
      ConditionExpression: `attribute_not_exists(sealedData) OR NOT attribute_type(expiresAt, :string) OR expiresAt < :expiresAt${
        replacing?.sealedData === undefined ? '' : ' OR sealedData = :unreadable'
      }`,
      ExpressionAttributeValues: {
        ':string': S('S'),
        ':expiresAt': S(token.expiresAt),
        ...(replacing?.sealedData !== undefined && { ':unreadable': { B: replacing.sealedData } }),
      },
    }),
  );
}
