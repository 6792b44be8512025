import { type AttributeValue, DynamoDBClient, PutItemCommand, type UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { awsClientConfig } from '../aws/client-config.js';
import { readConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Measures } from '../core/metrics.js';

/**
 * The DynamoDB table of shared state (docs/contracts.md, "Shared state"): the client, and how
 * the broker lives with the table failing. The table is an optimisation for serving: when a
 * call to it fails, the caller goes on without it, the table is left alone for a few seconds
 * (so a dead table costs one failed call per instance, not one per request), and each kind
 * of failure is logged once until the table answers again.
 */

let client: DynamoDBClient | undefined;

/**
 * One client per instance, created on first use, never at import; AWS_ENDPOINT_URL_DYNAMODB reaches a
 * local table. Region and credentials from the environment (lib/aws/client-config.ts).
 */
export function tableClient(): DynamoDBClient {
  client ??= new DynamoDBClient(awsClientConfig());
  return client;
}

/** After a failure the serving path leaves the table alone this long. */
export const TABLE_REST_MS = 5_000;

let restUntil = 0;
const reported = new Set<string>();

/** The table's name when the serving path should use it now: configured, and not resting after a failure. */
export function usableTable(now = Date.now()): string | undefined {
  const name = readConfig().TOKEN_TABLE;
  return name !== undefined && now >= restUntil ? name : undefined;
}

/** What a failure is called in the logs: the SDK's exception name, or the network error's code. */
export function causeOf(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const { code, name } = error as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && code) return code;
    if (typeof name === 'string' && name) return name;
  }
  return 'Error';
}

/** A table call failed: rest the table, count it (every time) and warn once per cause until it answers again. */
export function tableFailed(error: unknown, logger: Logger, action: string, metrics?: Measures): void {
  restUntil = Date.now() + TABLE_REST_MS;
  metrics?.count('TableFaults');
  const cause = causeOf(error);
  if (reported.has(cause)) return;
  reported.add(cause);
  logger.warn('token table unavailable; serving without it', { cause, action, error });
}

/** A table call succeeded: a later failure is news again. */
export function tableWorked(logger: Logger): void {
  if (reported.size === 0) return;
  logger.info('token table available again', { causes: [...reported] });
  reported.clear();
}

/** Forget the table's failures and the client (tests; a cold start does the same). */
export function resetTable(): void {
  restUntil = 0;
  reported.clear();
  client?.destroy();
  client = undefined;
}

function isConditionFailed(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

/**
 * One conditional write (a PutItem or UpdateItem with a ConditionExpression), bounded like
 * every table call: true when it was made, false when its condition did not hold; any other
 * failure is thrown.
 */
export async function conditionalWrite(command: PutItemCommand | UpdateItemCommand): Promise<boolean> {
  try {
    await withTable((client, options) =>
      command instanceof PutItemCommand ? client.send(command, options) : client.send(command, options),
    );
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}

/**
 * Runs one table call, `(client, options) => client.send(command, options)`, bounded by
 * TOKEN_TABLE_TIMEOUT_MS: a hung table must not eat the invocation's deadline.
 */
export async function withTable<T>(call: (client: DynamoDBClient, options: { abortSignal: AbortSignal }) => Promise<T>): Promise<T> {
  // A plain timer, as for vendor calls: AbortSignal.timeout() costs more per call.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), readConfig().TOKEN_TABLE_TIMEOUT_MS);
  try {
    return await call(tableClient(), { abortSignal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

/** A DynamoDB item. */
export type Item = Record<string, AttributeValue>;

/** A DynamoDB string attribute. */
export const S = (value: string): AttributeValue => ({ S: value });
/** A DynamoDB number attribute. */
export const N = (value: number): AttributeValue => ({ N: String(value) });

/** A number attribute's value, or undefined when the attribute is absent or not a number. */
export function numberOf(value: AttributeValue | undefined): number | undefined {
  if (value?.N === undefined) return undefined;
  const parsed = Number(value.N);
  return Number.isFinite(parsed) ? parsed : undefined;
}
