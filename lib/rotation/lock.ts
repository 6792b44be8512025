/**
 * The rotation lock: a conditional write of an owner and an expiry on the run-state item
 * (lib/rotation/run-state.ts). Two runs at once (the schedule and a hand): one takes it, the
 * other changes nothing. A lock past its expiry belonged to a run that died (the expiry is
 * longer than the function's timeout) and is taken over.
 * @module
 */
import { ConditionalCheckFailedException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { tableClient } from '../state/token-table.js';
import { fromItem, type RunState, type RunStateStore } from './run-state.js';

/** What taking the lock found: held (with the recorded state), or busy (another run holds it). */
export type LockResult = { held: true; state: RunState | undefined } | { held: false };

/** Takes the lock on `store.pk` for `lockSeconds` unless a live run holds it; returns the state it guards. */
export async function acquireLock(store: RunStateStore, lockSeconds: number, now = Date.now()): Promise<LockResult> {
  try {
    const { Attributes } = await tableClient().send(
      new UpdateItemCommand({
        TableName: store.tableName,
        Key: { pk: { S: store.pk } },
        UpdateExpression: 'SET #owner = :owner, #lockExpiresAt = :expires',
        // `owner = :owner` too: the SDK retries a call whose answer was lost, and that retry must not
        // find its own first attempt's lock and call it another run's (the lock would stay held).
        ConditionExpression: 'attribute_not_exists(#lockExpiresAt) OR #lockExpiresAt < :now OR #owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner', '#lockExpiresAt': 'lockExpiresAt' },
        ExpressionAttributeValues: {
          ':owner': { S: store.owner },
          ':expires': { N: String(now + lockSeconds * 1000) },
          ':now': { N: String(now) },
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { held: true, state: fromItem(Attributes) };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return { held: false };
    throw error;
  }
}

/** Lets the lock go (expiry 0) if this run still holds it; a lock already taken over is left alone. */
export async function releaseLock(store: RunStateStore): Promise<void> {
  try {
    await tableClient().send(
      new UpdateItemCommand({
        TableName: store.tableName,
        Key: { pk: { S: store.pk } },
        UpdateExpression: 'SET #lockExpiresAt = :zero',
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner', '#lockExpiresAt': 'lockExpiresAt' },
        ExpressionAttributeValues: { ':owner': { S: store.owner }, ':zero': { N: '0' } },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}
