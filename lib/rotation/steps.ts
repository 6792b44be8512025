/**
 * The four steps of a master-key rotation (after AWS Secrets Manager's create, set/test and
 * finish), each idempotent: it reads what the vendor, SSM and the run state hold now, does
 * what is left of it and records the next step. A run that dies anywhere is finished by the
 * next one:
 *   create:  the keys are listed; a key the broker does not know that is Active stops the
 *            rotation (nothing changes); an Inactive one not used within the grace makes room;
 *            the intent (when, which keys existed) is recorded BEFORE CreateAccessKey, so a key
 *            created later that is not the pending one is recognised as this rotation's orphan
 *            and removed; the new key is stored as the pending SecureString at once.
 *   test:    a signed read-only call with the pending key, retried while the vendor propagates it.
 *   promote: the key parameter gets the tested key (its other JSON fields kept); the old key stays Active.
 *   retire:  after KEYS_CACHE_SECONDS plus a margin the old key is set Inactive; after the grace, deleted.
 * @module
 */
import { sleep } from '../core/backoff.js';
import { BrokerError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { KeysOf, VendorApi } from '../vendor/api.js';
import { type AccessKeyInfo, KeyApiError, type MasterKeyApi } from './api.js';
import { deletePending, pendingParameter, readKeyParameter, readStoredKey, writeKeyParameter } from './key-parameter.js';
import { type RotationStep, type RunState, type RunStateStore, saveRunState } from './run-state.js';
import type { RotationSettings } from './settings.js';

/** Named points of a run, after the change each names: a test may make the run die there. */
export type Checkpoint =
  | 'intent-recorded'
  | 'orphan-removed'
  | 'key-created'
  | 'pending-stored'
  | 'tested'
  | 'promoted'
  | 'pending-deleted'
  | 'inactivated'
  | 'deleted';

/** What a step needs: the vendor's key API, where the key and the state live, the settings, a clock. */
export interface StepContext<Api extends VendorApi = VendorApi> {
  api: MasterKeyApi<Api>;
  keysParameter: string;
  store: RunStateStore;
  settings: RotationSettings;
  keysCacheSeconds: number;
  logger: Logger;
  /** Epoch milliseconds. */
  now(): number;
  /** Epoch milliseconds by which a waiting step (the test's retries) gives up for this run. */
  deadline: number;
  /** Called after each change (tests inject a crash here); never set in a deployment. */
  checkpoint?: (point: Checkpoint) => void | Promise<void>;
}

/** What a step ended with: the state it recorded (go on), a wait (the next run goes on), or a stop (an operator must look). */
export type StepResult =
  | { kind: 'next'; state: RunState }
  | { kind: 'wait'; state: RunState; reason: string }
  | { kind: 'stopped'; reason: 'unknownKey' | 'inactiveKeyInUse'; keyIds: string[] };

/** Why a run stopped, as its error says it. */
export class RotationStopped extends BrokerError {
  /** `reason`: the rule that stopped it; `keyIds`: the keys it is about (ids only). */
  constructor(
    readonly reason: 'unknownKey' | 'inactiveKeyInUse',
    readonly keyIds: string[],
  ) {
    super(
      'ConfigurationError',
      reason === 'unknownKey'
        ? `Rotation stopped, nothing changed: the user has an Active key the broker does not know (${keyIds.join(', ')}); docs/runbook.md#master-key-unknown.`
        : `Rotation stopped, nothing changed: an Inactive key was used within the grace period (${keyIds.join(', ')}); docs/runbook.md#master-key-unknown.`,
    );
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

async function save(ctx: StepContext, state: RunState): Promise<RunState> {
  await saveRunState(ctx.store, state);
  return state;
}

async function checkpoint(ctx: StepContext, point: Checkpoint): Promise<void> {
  await ctx.checkpoint?.(point);
}

/** Deletes a key: Inactive first (a vendor may refuse deleting an Active one); one already gone is fine. */
async function removeKey<Api extends VendorApi>(ctx: StepContext<Api>, keys: KeysOf<Api>, key: AccessKeyInfo): Promise<void> {
  try {
    if (key.status === 'Active') await ctx.api.setStatus(keys, key.keyId, 'Inactive');
    await ctx.api.remove(keys, key.keyId);
  } catch (error) {
    if (!(error instanceof KeyApiError && error.failure === 'notFound')) throw error;
  }
}

/** The key parameter's value now; a missing parameter is no rotation at all. */
export async function currentKeys<Api extends VendorApi>(ctx: StepContext<Api>): Promise<KeysOf<Api>> {
  const keys = await readKeyParameter(ctx.api.vendor, ctx.keysParameter);
  if (keys === undefined) throw new BrokerError('KeysUnavailable', `The ${ctx.api.vendor.name} key parameter does not exist.`);
  return keys;
}

/** create: see the module comment. `state` is this rotation's record when its intent is already recorded. */
export async function create<Api extends VendorApi>(ctx: StepContext<Api>, state: RunState | undefined): Promise<StepResult> {
  const current = await currentKeys(ctx);
  const currentId = ctx.api.keyIdOf(current);
  let keys = await ctx.api.list(current);
  if (!keys.some((key) => key.keyId === currentId)) {
    throw new BrokerError(
      'ConfigurationError',
      `The vendor does not list the key parameter's own key (${currentId}) among its user's keys.`,
    );
  }
  const intent = state?.step === 'create' && state.keysBefore !== undefined ? { ...state, keysBefore: state.keysBefore } : undefined;
  const pending = await readKeyParameter(ctx.api.vendor, pendingParameter(ctx.keysParameter));
  if (intent !== undefined) {
    const pendingId = pending && ctx.api.keyIdOf(pending);
    const ours = (id: string) => id !== currentId && !intent.keysBefore.includes(id);
    // Died after storing the pending key but before recording it: the key is ours and its secret is safe.
    if (pendingId !== undefined && ours(pendingId) && keys.some((key) => key.keyId === pendingId)) {
      ctx.logger.info('rotation: adopting the stored pending key', { keyId: pendingId });
      return { kind: 'next', state: await save(ctx, { ...intent, step: 'test', newKeyId: pendingId }) };
    }
    // Keys created after the intent that are not the pending one: this rotation's orphans, their secrets lost.
    for (const orphan of keys.filter((key) => ours(key.keyId))) {
      await removeKey(ctx, current, orphan);
      ctx.logger.warn('rotation: removed its own orphan key (created by a run that died before storing it)', { keyId: orphan.keyId });
      await checkpoint(ctx, 'orphan-removed');
    }
    keys = keys.filter((key) => !ours(key.keyId));
  }
  const others = keys.filter((key) => key.keyId !== currentId);
  const active = others.filter((key) => key.status === 'Active');
  if (active.length > 0) return { kind: 'stopped', reason: 'unknownKey', keyIds: active.map((key) => key.keyId) };
  // A pending key no intent claims is left from nothing this rotation knows: it is not promoted.
  if (pending !== undefined) await deletePending(ctx.keysParameter);
  // An Inactive key is deleted only to make room, and only when not used within the grace.
  for (const inactive of others) {
    const lastUsed = await ctx.api.lastUsed(current, inactive.keyId);
    if (lastUsed !== undefined && ctx.now() - Date.parse(lastUsed) < ctx.settings.ROTATION_GRACE_SECONDS * 1000) {
      return { kind: 'stopped', reason: 'inactiveKeyInUse', keyIds: [inactive.keyId] };
    }
  }
  for (const inactive of others) {
    await removeKey(ctx, current, inactive);
    ctx.logger.info('rotation: deleted an Inactive key not used within the grace, to make room', { keyId: inactive.keyId });
  }
  // What is left is the current key alone: any other key that appears from here on is this rotation's.
  const recorded =
    intent ?? (await save(ctx, { step: 'create', startedAt: iso(ctx.now()), previousKeyId: currentId, keysBefore: [currentId] }));
  await checkpoint(ctx, 'intent-recorded');
  const created = await ctx.api.create(current);
  await checkpoint(ctx, 'key-created');
  await writeKeyParameter(
    ctx.api.vendor,
    pendingParameter(ctx.keysParameter),
    ctx.api.withNewKey(current, created.keyId, created.secret),
    ctx.settings.ROTATION_KEYS_KMS_KEY_ID,
  );
  await checkpoint(ctx, 'pending-stored');
  ctx.logger.info('rotation: created a key, stored as pending', { keyId: created.keyId, previousKeyId: currentId });
  return { kind: 'next', state: await save(ctx, { ...recorded, step: 'test', newKeyId: created.keyId }) };
}

/** A step that finds its pending key gone goes back to create, whose intent then removes the key as an orphan. */
async function pendingLost(ctx: StepContext, state: RunState): Promise<StepResult> {
  ctx.logger.warn('rotation: the pending key is gone; its key is removed and a new one created', { keyId: state.newKeyId });
  const { newKeyId: _lost, testedAt: _tested, ...rest } = state;
  return { kind: 'next', state: await save(ctx, { ...rest, step: 'create' }) };
}

/** Failures of the probe that a wait can cure: the vendor has not propagated the key yet, or is busy. */
const RETRY_TEST = new Set(['notYetValid', 'throttled', 'transient']);

/** test: see the module comment. */
export async function test<Api extends VendorApi>(ctx: StepContext<Api>, state: RunState): Promise<StepResult> {
  const pending = await readKeyParameter(ctx.api.vendor, pendingParameter(ctx.keysParameter));
  if (pending === undefined || ctx.api.keyIdOf(pending) !== state.newKeyId) return pendingLost(ctx, state);
  const giveUp = Math.min(ctx.deadline, ctx.now() + ctx.settings.ROTATION_TEST_SECONDS * 1000);
  for (let attempt = 0; ; attempt++) {
    try {
      await ctx.api.probe(pending);
      break;
    } catch (error) {
      if (!(error instanceof KeyApiError && RETRY_TEST.has(error.failure))) throw error;
      const wait = Math.min(5_000, 250 * 2 ** attempt);
      if (ctx.now() + wait > giveUp) {
        return { kind: 'wait', state, reason: `the vendor does not accept the new key yet (${error.vendorCode})` };
      }
      await sleep(wait);
    }
  }
  await checkpoint(ctx, 'tested');
  ctx.logger.info('rotation: the pending key works', { keyId: state.newKeyId });
  return { kind: 'next', state: await save(ctx, { ...state, step: 'promote', testedAt: iso(ctx.now()) }) };
}

/** promote: see the module comment. */
export async function promote<Api extends VendorApi>(ctx: StepContext<Api>, state: RunState): Promise<StepResult> {
  const stored = await readStoredKey(ctx.api.vendor, ctx.keysParameter);
  if (stored === undefined) throw new BrokerError('KeysUnavailable', `The ${ctx.api.vendor.name} key parameter does not exist.`);
  const current = stored.keys;
  const currentId = ctx.api.keyIdOf(current);
  if (currentId !== state.newKeyId) {
    if (currentId !== state.previousKeyId) {
      throw new BrokerError(
        'ConfigurationError',
        `The key parameter changed during the rotation (it holds ${currentId}, neither ${state.previousKeyId} nor ${state.newKeyId}).`,
      );
    }
    const pending = await readKeyParameter(ctx.api.vendor, pendingParameter(ctx.keysParameter));
    if (pending === undefined || ctx.api.keyIdOf(pending) !== state.newKeyId) return pendingLost(ctx, state);
    const secret = pending[ctx.api.vendor.secretFields[0]] as string;
    // From the parameter as it is now, so a field changed since the create (stsRoleArn, say) is kept, and
    // so is any field its vendor's schema does not know.
    await writeKeyParameter(
      ctx.api.vendor,
      ctx.keysParameter,
      { ...stored.json, ...ctx.api.withNewKey(current, state.newKeyId!, secret) },
      ctx.settings.ROTATION_KEYS_KMS_KEY_ID,
    );
  }
  await checkpoint(ctx, 'promoted');
  const next = await save(ctx, { ...state, step: 'retire', promotedAt: iso(ctx.now()) });
  await deletePending(ctx.keysParameter);
  await checkpoint(ctx, 'pending-deleted');
  ctx.logger.info('rotation: the key parameter holds the new key', { keyId: state.newKeyId, previousKeyId: state.previousKeyId });
  return { kind: 'next', state: next };
}

/** retire: see the module comment. */
export async function retire<Api extends VendorApi>(ctx: StepContext<Api>, state: RunState): Promise<StepResult> {
  const inactiveFrom =
    Date.parse(state.promotedAt ?? state.startedAt) + (ctx.keysCacheSeconds + ctx.settings.ROTATION_RETIRE_MARGIN_SECONDS) * 1000;
  if (ctx.now() < inactiveFrom) return { kind: 'wait', state, reason: 'instances may still hold the previous key' };
  const current = await currentKeys(ctx);
  const old = (await ctx.api.list(current)).find((key) => key.keyId === state.previousKeyId);
  let next = state;
  if (old !== undefined && state.inactiveAt === undefined) {
    if (old.status === 'Active') await ctx.api.setStatus(current, old.keyId, 'Inactive');
    next = await save(ctx, { ...state, inactiveAt: iso(ctx.now()) });
    ctx.logger.info('rotation: the previous key is Inactive', { keyId: old.keyId });
    await checkpoint(ctx, 'inactivated');
  }
  if (old !== undefined) {
    const deleteFrom = Date.parse(next.inactiveAt!) + ctx.settings.ROTATION_GRACE_SECONDS * 1000;
    if (ctx.now() < deleteFrom) return { kind: 'wait', state: next, reason: 'the previous key is Inactive for the grace period' };
    await removeKey(ctx, current, { ...old, status: 'Inactive' });
    ctx.logger.info('rotation: deleted the previous key', { keyId: old.keyId });
    await checkpoint(ctx, 'deleted');
  }
  return { kind: 'next', state: await save(ctx, { ...next, step: 'done', finishedAt: iso(ctx.now()) }) };
}

/** Each step by name (`done` has none). */
export const STEPS: Record<Exclude<RotationStep, 'done'>, (ctx: StepContext, state: RunState) => Promise<StepResult>> = {
  create,
  test,
  promote,
  retire,
};
