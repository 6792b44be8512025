/**
 * One rotation run for one key parameter: take the lock, decide whether a rotation is due (by
 * hand, an unfinished one, or a key older than the maximum age), run the steps as far as they
 * go now, and answer the step reached with the key ids (never a secret). The core takes the
 * key parameter's name, so rotating each vendor account's own parameter is a loop around it.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { BrokerError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Measures } from '../core/metrics.js';
import type { VendorApi } from '../vendor/api.js';
import type { MasterKeyApi } from './api.js';
import { acquireLock, releaseLock } from './lock.js';
import { type RotationStep, type RunState, type RunStateStore, readRunState, runStateKey } from './run-state.js';
import { type RotationSettings, stuckAfterSeconds } from './settings.js';
import { type Checkpoint, currentKeys, RotationStopped, STEPS, type StepContext } from './steps.js';

/** What a run answers (docs/contracts.md, "Master-key rotation"): ids only. */
export interface RotationAnswer {
  step: RotationStep;
  /** The new key while a rotation is under way; otherwise the key the parameter holds. */
  keyId: string;
  previousKeyId?: string;
  /** Set when another run holds the lock: this one changed nothing. */
  busy?: true;
}

/** What a run is asked: by hand (`now`: start a rotation unless one is under way) or by the schedule (only when due). */
export interface RotationRequest<Api extends VendorApi = VendorApi> {
  api: MasterKeyApi<Api>;
  functionName: string;
  keysParameter: string;
  tableName: string;
  trigger: 'now' | 'scheduled';
  settings: RotationSettings;
  keysCacheSeconds: number;
  logger: Logger;
  metrics: Measures;
  /** Epoch milliseconds by which the run stops waiting (the invocation's own deadline, less a margin). */
  deadline: number;
  now?: () => number;
  checkpoint?: (point: Checkpoint) => void | Promise<void>;
}

const DAY_MS = 86_400_000;

/** Runs the rotation of `request.keysParameter` as far as it goes now. Throws when a step fails or the rotation must stop. */
export async function runRotation<Api extends VendorApi>(request: RotationRequest<Api>): Promise<RotationAnswer> {
  const now = request.now ?? Date.now;
  const store: RunStateStore = {
    tableName: request.tableName,
    pk: runStateKey(request.functionName, request.keysParameter),
    owner: randomUUID(),
  };
  const ctx: StepContext<Api> = {
    api: request.api,
    keysParameter: request.keysParameter,
    store,
    settings: request.settings,
    keysCacheSeconds: request.keysCacheSeconds,
    logger: request.logger,
    now,
    deadline: request.deadline,
    ...(request.checkpoint && { checkpoint: request.checkpoint }),
  };
  const lock = await acquireLock(store, request.settings.ROTATION_LOCK_SECONDS, now());
  if (!lock.held) {
    const state = await readRunState(store);
    request.logger.info('rotation: another run holds the lock; this one changes nothing', { step: state?.step });
    const current = state === undefined ? undefined : answerOf(state, state.previousKeyId);
    return { ...(current ?? { step: 'done', keyId: request.api.keyIdOf(await currentKeys(ctx)) }), busy: true };
  }
  try {
    let state = lock.state;
    if (state !== undefined && state.step !== 'done') {
      const age = now() - Date.parse(state.startedAt);
      if (age > stuckAfterSeconds(request.settings, request.keysCacheSeconds) * 1000) {
        request.metrics.count('MasterKeyRotationStuck');
        request.logger.error('rotation: stuck, started long ago and not finished; docs/runbook.md#master-key-rotation-stuck', {
          step: state.step,
          startedAt: state.startedAt,
        });
      }
    } else {
      const current = await currentKeys(ctx);
      const keyId = request.api.keyIdOf(current);
      const ageMs = await keyAge(ctx, current, keyId, state);
      if (ageMs !== undefined) request.metrics.sample('MasterKeyAge', ageMs / 1000);
      const due = request.trigger === 'now' || ageMs === undefined || ageMs > request.settings.ROTATION_MAX_KEY_AGE_DAYS * DAY_MS;
      if (!due) return { step: 'done', keyId, ...(state && { previousKeyId: state.previousKeyId }) };
      request.logger.info('rotation: starting', {
        trigger: request.trigger,
        keyId,
        ageDays: ageMs === undefined ? null : Math.floor(ageMs / DAY_MS),
      });
      state = undefined;
    }
    let step: RotationStep = state?.step ?? 'create';
    while (step !== 'done') {
      const result = await STEPS[step](ctx as unknown as StepContext, state as RunState);
      if (result.kind === 'stopped') {
        request.metrics.count('MasterKeyUnknown');
        throw new RotationStopped(result.reason, result.keyIds);
      }
      state = result.state;
      step = state.step;
      if (result.kind === 'wait') {
        request.logger.info('rotation: waiting for the next run', { step, reason: result.reason });
        break;
      }
    }
    if (state!.step === 'done') request.metrics.count('MasterKeyRotated');
    return answerOf(state!, state!.previousKeyId);
  } finally {
    await releaseLock(store).catch((error: unknown) => request.logger.warn('rotation: could not release the lock; it expires', { error }));
  }
}

function answerOf(state: RunState, previousKeyId: string): RotationAnswer {
  return { step: state.step, keyId: state.newKeyId ?? previousKeyId, previousKeyId };
}

/** How old the key is: the vendor's creation time, else when a rotation of ours promoted it; undefined when unknown (rotate). */
async function keyAge<Api extends VendorApi>(
  ctx: StepContext<Api>,
  current: Parameters<MasterKeyApi<Api>['list']>[0],
  keyId: string,
  state: RunState | undefined,
): Promise<number | undefined> {
  const listed = (await ctx.api.list(current)).find((key) => key.keyId === keyId);
  const created = listed?.createdAt ?? (state?.newKeyId === keyId ? state.promotedAt : undefined);
  if (created === undefined) return undefined;
  const at = Date.parse(created);
  if (Number.isNaN(at)) throw new BrokerError('VendorError', 'The vendor listed a key creation time that is not a date.');
  return Math.max(0, ctx.now() - at);
}
