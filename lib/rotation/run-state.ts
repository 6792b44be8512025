/**
 * The run state of one key parameter's rotation: one item of the shared table whose pk begins
 * with the rotation function's name (so its role's dynamodb:LeadingKeys confinement holds). It
 * records the intent before a key is created (when, and which keys existed), the new and
 * previous key ids and the time of each step; never a secret. The same item carries the lock
 * (lib/rotation/lock.ts); every write here is conditional on holding it, so a run whose lock
 * was taken over cannot write.
 * @module
 */
import { type AttributeValue, ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import { BrokerError } from '../core/errors.js';
import { tableClient } from '../state/token-table.js';

/** The steps of a rotation, in order; `done` when none is under way. */
export const ROTATION_STEPS = ['create', 'test', 'promote', 'retire', 'done'] as const;
/** A step of a rotation: the next one to do. */
export type RotationStep = (typeof ROTATION_STEPS)[number];

const keyId = z.string().check(z.minLength(1), z.maxLength(256));
const iso = z.iso.datetime();

/** What the item records of a rotation (ids and times only). */
export const runStateSchema = z.object({
  step: z.enum(ROTATION_STEPS),
  /** When this rotation started (its intent). */
  startedAt: iso,
  /** The key the parameter held when the rotation started: the one it retires. */
  previousKeyId: keyId,
  /** Every key of the user when the intent was recorded, before CreateAccessKey: a later key that is not the pending one is our orphan. */
  keysBefore: z.optional(z.array(keyId).check(z.maxLength(10))),
  /** The key CreateAccessKey made (known once the pending key is stored). */
  newKeyId: z.optional(keyId),
  testedAt: z.optional(iso),
  promotedAt: z.optional(iso),
  /** When the previous key was set Inactive. */
  inactiveAt: z.optional(iso),
  finishedAt: z.optional(iso),
});

/** A rotation's recorded state. */
export type RunState = z.infer<typeof runStateSchema>;

/** The item's pk: `<function name>#rotation#<key parameter>`. */
export function runStateKey(functionName: string, keysParameter: string): string {
  return `${functionName}#rotation#${keysParameter}`;
}

/** Where a run keeps its state: the table, the item, and the lock owner every write is conditional on. */
export interface RunStateStore {
  tableName: string;
  pk: string;
  owner: string;
}

const FIELDS = Object.keys(runStateSchema.def.shape) as (keyof RunState)[];

/** The recorded state, or undefined when this parameter was never rotated; an unreadable record is an error, never a fresh start. */
export async function readRunState(store: Pick<RunStateStore, 'tableName' | 'pk'>): Promise<RunState | undefined> {
  const { Item } = await tableClient().send(
    new GetItemCommand({ TableName: store.tableName, Key: { pk: { S: store.pk } }, ConsistentRead: true }),
  );
  return fromItem(Item);
}

/** The state held in an item's attributes (undefined when it holds none, e.g. only a lock). */
export function fromItem(item: Record<string, AttributeValue> | undefined): RunState | undefined {
  if (item?.step?.S === undefined) return undefined;
  const raw: Record<string, unknown> = {};
  for (const field of FIELDS) {
    const value = item[field];
    if (value?.S !== undefined) raw[field] = value.S;
    else if (value?.L !== undefined) raw[field] = value.L.map((entry) => entry.S);
  }
  const parsed = z.safeParse(runStateSchema, raw);
  if (!parsed.success)
    throw new BrokerError('ConfigurationError', 'The rotation state item is malformed; see docs/runbook.md#master-key-rotation-failed.');
  return parsed.data;
}

/** Writes the whole state, if this run still holds the lock; a lost lock is an error (the other run goes on). */
export async function saveRunState(store: RunStateStore, state: RunState): Promise<void> {
  const checked = runStateSchema.parse(state);
  const names: Record<string, string> = { '#owner': 'owner' };
  const values: Record<string, AttributeValue> = { ':owner': { S: store.owner } };
  const set: string[] = [];
  const remove: string[] = [];
  for (const field of FIELDS) {
    names[`#${field}`] = field;
    const value = checked[field];
    if (value === undefined) remove.push(`#${field}`);
    else {
      values[`:${field}`] = Array.isArray(value) ? { L: value.map((S) => ({ S })) } : { S: value };
      set.push(`#${field} = :${field}`);
    }
  }
  try {
    await tableClient().send(
      new UpdateItemCommand({
        TableName: store.tableName,
        Key: { pk: { S: store.pk } },
        UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw new LockLost();
    throw error;
  }
}

/** This run no longer holds the lock (it ran past its expiry and another run took over): it stops writing. */
export class LockLost extends Error {
  override readonly name = 'LockLost';
  constructor() {
    super('the rotation lock was taken over by another run');
  }
}
