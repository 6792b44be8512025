/**
 * The rotation lock on the local table: one owner at a time, the same owner again (a retried
 * call) still holds it, a released or expired lock is taken, and the run state is written only
 * by the lock's holder.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { acquireLock, releaseLock } from '../../../lib/rotation/lock.js';
import { LockLost, type RunState, readRunState, saveRunState } from '../../../lib/rotation/run-state.js';
import { useLocalTable } from '../../support/local-table-env.js';

const local = useLocalTable();
let n = 0;
const stores = () => {
  const pk = `aliyun-rotate-master-key#rotation#/test/keys/aliyun-${n++}`;
  return [
    { tableName: local.table.tableName, pk, owner: 'run-a' },
    { tableName: local.table.tableName, pk, owner: 'run-b' },
  ] as const;
};
const state: RunState = { step: 'create', startedAt: new Date().toISOString(), previousKeyId: 'old', keysBefore: ['old'] };

describe('the rotation lock', () => {
  it('is held by one run at a time; the same run asking again (a retried call) still holds it', async () => {
    const [a, b] = stores();
    expect(await acquireLock(a, 60)).toEqual({ held: true, state: undefined });
    expect(await acquireLock(a, 60)).toEqual({ held: true, state: undefined });
    expect(await acquireLock(b, 60)).toEqual({ held: false });
    await releaseLock(a);
    expect((await acquireLock(b, 60)).held).toBe(true);
  });

  it('is taken over once expired, and the run that lost it can no longer write the state', async () => {
    const [a, b] = stores();
    const now = Date.now();
    expect((await acquireLock(a, 1, now)).held).toBe(true);
    await saveRunState(a, state);
    expect(await acquireLock(b, 60, now + 500)).toEqual({ held: false });
    expect(await acquireLock(b, 60, now + 1_500)).toEqual({ held: true, state });
    await expect(saveRunState(a, { ...state, step: 'test', newKeyId: 'new' })).rejects.toBeInstanceOf(LockLost);
    // A late release by the old holder leaves the new holder's lock alone.
    await releaseLock(a);
    expect(await acquireLock(a, 60)).toEqual({ held: false });
    expect(await readRunState(b)).toEqual(state);
  });
});
