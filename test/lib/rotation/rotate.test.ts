/**
 * The rotation's steps and run against the real SSM and DynamoDB clients (the fake SSM, the
 * local table) and an in-memory key API (test/support/memory-key-api.ts): a whole rotation, a
 * schedule that finds the key fresh or old, a crash after each step and a rerun, two runs at
 * once, a dead holder's lock, and keys the broker does not know.
 * @module
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRotationHandler } from '../../../lib/rotation/handler.js';
import { pendingParameter } from '../../../lib/rotation/key-parameter.js';
import { readRunState, runStateKey } from '../../../lib/rotation/run-state.js';
import type { Checkpoint } from '../../../lib/rotation/steps.js';
import { tableClient } from '../../../lib/state/token-table.js';
import type { AliyunKeys } from '../../../lib/vendor/aliyun.js';
import { SIMULATOR_DEFAULT_KEYS } from '../../../sim/vendor-simulator.js';
import { KEY_PARAMETERS, TOKEN_TABLE, useBrokerEnv } from '../../support/broker-env.js';
import { emfProblems } from '../../support/emf.js';
import { latch } from '../../support/latch.js';
import { captureLogs } from '../../support/log-capture.js';
import { CRASH_POINTS, type MemoryKeyApi, memoryKeyApi } from '../../support/memory-key-api.js';

const broker = useBrokerEnv({
  table: true,
  env: { KEYS_CACHE_SECONDS: '0', ROTATION_RETIRE_MARGIN_SECONDS: '0', ROTATION_GRACE_SECONDS: '0', ROTATION_TEST_SECONDS: '5' },
});
const PARAMETER = KEY_PARAMETERS.aliyun;
const FUNCTION = 'aliyun-rotate-master-key';
const ORIGINAL = SIMULATOR_DEFAULT_KEYS.aliyun;
const NOW = { rotateMasterKey: 'now' };

let vendor: MemoryKeyApi;
/** Every key id the key parameter held at a checkpoint of any run: none may be untested. */
let seen: string[];

const stored = (): AliyunKeys & Record<string, unknown> => JSON.parse(broker.ssm.get(PARAMETER)!);

/** Asserts at every change of a run that the key parameter holds the original or a tested key, one the vendor accepts. */
function observe(point: Checkpoint) {
  const keys = stored();
  seen.push(`${point}:${keys.accessKeyId}`);
  expect(keys.accessKeyId === ORIGINAL.accessKeyId || vendor.tested.includes(keys.accessKeyId)).toBe(true);
  expect(vendor.accepts(keys)).toBe(true);
}

/** A handler whose run dies (throws) at the listed checkpoints, each once, in order. */
function handler(crashAt: readonly Checkpoint[] = []) {
  const crashes = [...crashAt];
  return createRotationHandler(vendor.api, {
    checkpoint: (point) => {
      observe(point);
      if (crashes[0] === point) {
        crashes.shift();
        throw new Error(`injected crash after ${point}`);
      }
    },
  });
}

beforeEach(() => {
  vendor = memoryKeyApi();
  vendor.add(ORIGINAL.accessKeyId, ORIGINAL.accessKeySecret, { createdAt: Date.now() - 100 * 86_400_000 });
  seen = [];
  // Another field of the key parameter, which a rotation must keep.
  broker.ssm.put(PARAMETER, { ...ORIGINAL, stsRoleArn: 'acs:ram::1234567890123456:role/broker' });
  broker.ssm.delete(pendingParameter(PARAMETER));
});

let logs: ReturnType<typeof captureLogs> | undefined;
afterEach(() => logs?.restore());

/** Runs `run` until it answers `done` (at most `max` runs), returning the answers. */
async function untilDone(run: () => Promise<{ step: string }>, max = 6) {
  const answers: { step: string }[] = [];
  for (let i = 0; i < max; i++) {
    const answer = await run();
    answers.push(answer);
    if (answer.step === 'done') return answers;
  }
  throw new Error(`not done after ${max} runs: ${JSON.stringify(answers)}`);
}

/** The end of every rotation: one key, the new one, Active and tested, in the parameter with its other fields; no pending key. */
function expectRotated(previousKeyId = ORIGINAL.accessKeyId) {
  const keys = stored();
  expect(keys.accessKeyId).not.toBe(previousKeyId);
  expect(keys.stsRoleArn).toBe('acs:ram::1234567890123456:role/broker');
  expect(vendor.keys()).toEqual([{ keyId: keys.accessKeyId, status: 'Active' }]);
  expect(vendor.tested).toContain(keys.accessKeyId);
  expect(vendor.accepts(keys)).toBe(true);
  expect(broker.ssm.get(pendingParameter(PARAMETER))).toBeUndefined();
  return keys.accessKeyId;
}

describe('a rotation by hand', () => {
  it('creates, tests, promotes and retires in one run when nothing needs waiting for, answering ids only', async () => {
    logs = captureLogs();
    const answer = await handler()(NOW);
    const keyId = expectRotated();
    expect(answer).toEqual({ step: 'done', keyId, previousKeyId: ORIGINAL.accessKeyId });
    expect(seen.map((s) => s.split(':')[0])).toEqual([
      'intent-recorded',
      'key-created',
      'pending-stored',
      'tested',
      'promoted',
      'pending-deleted',
      'inactivated',
      'deleted',
    ]);
    const state = await readRunState({ tableName: TOKEN_TABLE, pk: runStateKey(FUNCTION, PARAMETER) });
    expect(state).toMatchObject({ step: 'done', newKeyId: keyId, previousKeyId: ORIGINAL.accessKeyId, keysBefore: [ORIGINAL.accessKeyId] });
    expect(JSON.stringify(state)).not.toContain('secret');
    // No secret in any line: the new key's, the old key's.
    const text = logs.lines.join('\n');
    const newSecret = stored().accessKeySecret;
    expect(text).not.toContain(newSecret);
    expect(text).not.toContain(ORIGINAL.accessKeySecret);
    const finished = logs.records().find((r) => r.message === 'master-key rotation finished')!;
    expect(finished).toMatchObject({ step: 'done', keyId, MasterKeyRotationRuns: 1, MasterKeyRotated: 1 });
    // Valid EMF, by the rotation function's name as `operation`.
    expect(emfProblems(finished)).toEqual([]);
    expect(finished.operation).toBe(FUNCTION);
  });

  it('waits for the vendor to propagate a new key: the test step answers and the next run goes on', async () => {
    vendor.propagationMs = 60_000;
    process.env.ROTATION_TEST_SECONDS = '1';
    try {
      const first = await handler()(NOW);
      expect(first.step).toBe('test');
      // The broker still uses the original key, which still works.
      expect(stored().accessKeyId).toBe(ORIGINAL.accessKeyId);
      expect(vendor.calls.filter((c) => c === 'probe').length).toBeGreaterThanOrEqual(1);
      vendor.propagate();
      const second = await handler()(NOW);
      expect(second.step).toBe('done');
      expectRotated();
    } finally {
      process.env.ROTATION_TEST_SECONDS = '5';
    }
  });

  it('leaves the old key Active until KEYS_CACHE_SECONDS plus the margin, then Inactive for the grace, then deletes it', async () => {
    let clock = Date.now();
    const at = () => clock;
    const api = memoryKeyApi(at);
    vendor = api;
    api.add(ORIGINAL.accessKeyId, ORIGINAL.accessKeySecret, { createdAt: clock });
    Object.assign(process.env, { KEYS_CACHE_SECONDS: '300', ROTATION_RETIRE_MARGIN_SECONDS: '60', ROTATION_GRACE_SECONDS: '86400' });
    try {
      const run = createRotationHandler(api.api, { now: at });
      const promoted = await run(NOW);
      expect(promoted).toMatchObject({ step: 'retire', previousKeyId: ORIGINAL.accessKeyId });
      expect(api.keys()).toContainEqual({ keyId: ORIGINAL.accessKeyId, status: 'Active' });
      clock += 359_000;
      expect((await run({ rotateMasterKey: 'scheduled' })).step).toBe('retire');
      expect(api.keys()).toContainEqual({ keyId: ORIGINAL.accessKeyId, status: 'Active' });
      clock += 2_000;
      expect((await run({ rotateMasterKey: 'scheduled' })).step).toBe('retire');
      expect(api.keys()).toContainEqual({ keyId: ORIGINAL.accessKeyId, status: 'Inactive' });
      // By hand during the grace: nothing new starts, the answer says where it is.
      expect((await run(NOW)).step).toBe('retire');
      clock += 86_400_000;
      expect(await run({ rotateMasterKey: 'scheduled' })).toMatchObject({ step: 'done', previousKeyId: ORIGINAL.accessKeyId });
      expectRotated();
    } finally {
      Object.assign(process.env, { KEYS_CACHE_SECONDS: '0', ROTATION_RETIRE_MARGIN_SECONDS: '0', ROTATION_GRACE_SECONDS: '0' });
    }
  });
});

describe('a vendor that refuses', () => {
  it('a key-API refusal fails the run as VendorAccessDenied with the vendor code, changing nothing, its secret in no line', async () => {
    broker.ssm.put(PARAMETER, { ...ORIGINAL, accessKeySecret: 'a-wrong-secret-of-some-length' });
    logs = captureLogs();
    await expect(handler()(NOW)).rejects.toMatchObject({ code: 'VendorAccessDenied', vendorCode: 'SignatureDoesNotMatch' });
    expect(vendor.keys()).toEqual([{ keyId: ORIGINAL.accessKeyId, status: 'Active' }]);
    expect(await readRunState({ tableName: TOKEN_TABLE, pk: runStateKey(FUNCTION, PARAMETER) })).toBeUndefined();
    const failed = logs.records().find((r) => r.message === 'master-key rotation failed')!;
    expect(failed).toMatchObject({ code: 'VendorAccessDenied', vendorCode: 'SignatureDoesNotMatch', MasterKeyRotationFailed: 1 });
    expect(logs.lines.join('\n')).not.toContain('a-wrong-secret-of-some-length');
  });
});

describe('the schedule', () => {
  it('leaves a key younger than the maximum age alone, and rotates an older one', async () => {
    vendor = memoryKeyApi();
    vendor.add(ORIGINAL.accessKeyId, ORIGINAL.accessKeySecret, { createdAt: Date.now() - 89 * 86_400_000 });
    logs = captureLogs();
    expect(await handler()({ rotateMasterKey: 'scheduled' })).toEqual({ step: 'done', keyId: ORIGINAL.accessKeyId });
    expect(vendor.calls).toEqual(['list']);
    expect(stored().accessKeyId).toBe(ORIGINAL.accessKeyId);
    const age = logs.records().find((r) => r.message === 'master-key rotation finished')!.MasterKeyAge as number;
    expect(age).toBeGreaterThan(89 * 86_400 - 60);
    vendor = memoryKeyApi();
    vendor.add(ORIGINAL.accessKeyId, ORIGINAL.accessKeySecret, { createdAt: Date.now() - 91 * 86_400_000 });
    expect((await handler()({ rotateMasterKey: 'scheduled' })).step).toBe('done');
    expectRotated();
  });

  it('refuses any other event before reading a key', async () => {
    for (const event of [{}, { rotateMasterKey: 'later' }, { rotate: [] }, { rotateMasterKey: 'now', extra: 1 }, 'now', null]) {
      await expect(handler()(event)).rejects.toMatchObject({ code: 'InvalidRequest' });
    }
    expect(vendor.calls).toEqual([]);
  });
});

describe('a run that dies', () => {
  it.each(CRASH_POINTS.map((crashAt) => [crashAt.join(' then '), crashAt] as const))(
    'after %s is finished by the next runs: no orphan key, the broker never saw an untested key',
    async (_name, crashAt) => {
      const run = handler(crashAt);
      let failures = 0;
      const answers = await untilDone(async () => {
        try {
          return await run(NOW);
        } catch (error) {
          expect(String((error as Error).cause ?? error)).toMatch(/injected crash/);
          failures++;
          return { step: 'crashed' };
        }
      });
      expect(failures).toBe(crashAt.length);
      expect(answers.at(-1)!.step).toBe('done');
      expectRotated();
    },
  );

  it('holding the lock is taken over once the lock expires; a live holder makes the other run change nothing', async () => {
    const pk = runStateKey(FUNCTION, PARAMETER);
    const lock = (expiresAt: number) =>
      tableClient().send(
        new PutItemCommand({
          TableName: TOKEN_TABLE,
          Item: { pk: { S: pk }, owner: { S: 'a-run-that-died' }, lockExpiresAt: { N: String(expiresAt) } },
        }),
      );
    await lock(Date.now() + 60_000);
    const busy = await handler()(NOW);
    expect(busy).toEqual({ step: 'done', keyId: ORIGINAL.accessKeyId, busy: true });
    expect(vendor.calls).toEqual([]);
    await lock(Date.now() - 1);
    expect((await handler()(NOW)).step).toBe('done');
    expectRotated();
  });
});

describe('two runs at once', () => {
  it('one proceeds, the other changes nothing and says so', async () => {
    // The first run is held inside its create step until the second has answered.
    const held = latch();
    const inside = latch();
    const first = createRotationHandler(vendor.api, {
      checkpoint: async (point) => {
        observe(point);
        if (point === 'intent-recorded') {
          inside.open();
          await held.wait;
        }
      },
    })(NOW);
    await inside.wait;
    const callsBefore = vendor.calls.length;
    const second = await handler()(NOW);
    expect(second).toEqual({ step: 'create', keyId: ORIGINAL.accessKeyId, previousKeyId: ORIGINAL.accessKeyId, busy: true });
    expect(vendor.calls.length).toBe(callsBefore);
    held.open();
    expect((await first).step).toBe('done');
    expectRotated();
  });
});

describe('keys the broker does not know', () => {
  it('two Active keys, one unknown: the rotation stops, alarms (metric and log) and changes nothing', async () => {
    vendor.add('someone-elses-key', 'someone-elses-secret');
    logs = captureLogs();
    const failure = await handler()(NOW).catch((error: unknown) => error);
    expect(failure).toMatchObject({
      code: 'ConfigurationError',
      message: expect.stringContaining('someone-elses-key'),
    });
    expect(vendor.calls.every((call) => call === 'list')).toBe(true);
    expect(vendor.keys()).toEqual([
      { keyId: ORIGINAL.accessKeyId, status: 'Active' },
      { keyId: 'someone-elses-key', status: 'Active' },
    ]);
    expect(stored().accessKeyId).toBe(ORIGINAL.accessKeyId);
    expect(broker.ssm.get(pendingParameter(PARAMETER))).toBeUndefined();
    expect(await readRunState({ tableName: TOKEN_TABLE, pk: runStateKey(FUNCTION, PARAMETER) })).toBeUndefined();
    const failed = logs.records().find((r) => r.message === 'master-key rotation failed')!;
    expect(failed).toMatchObject({ MasterKeyUnknown: 1, MasterKeyRotationFailed: 1, code: 'ConfigurationError' });
    expect(logs.lines.join('\n')).not.toContain('someone-elses-secret');
  });

  it('an Inactive key not used within the grace is deleted to make room; one used within it stops the rotation', async () => {
    process.env.ROTATION_GRACE_SECONDS = '3600';
    try {
      vendor.add('old-inactive', 'old-secret', { status: 'Inactive', lastUsed: Date.now() - 600_000 });
      await expect(handler()(NOW)).rejects.toMatchObject({ message: expect.stringContaining('old-inactive') });
      expect(vendor.keys()).toHaveLength(2);
      vendor.add('old-inactive', 'old-secret', { status: 'Inactive', lastUsed: Date.now() - 7_200_000 });
      expect((await handler()(NOW)).step).toBe('retire');
      expect(vendor.keys().map((k) => k.keyId)).not.toContain('old-inactive');
    } finally {
      process.env.ROTATION_GRACE_SECONDS = '0';
    }
  });
});

describe('vendor accounts', () => {
  const ACME = `${PARAMETER}/acme`;
  beforeEach(() => {
    process.env.ALIYUN_ACCOUNTS = 'acme';
  });
  afterEach(() => {
    delete process.env.ALIYUN_ACCOUNTS;
  });

  it("rotates the account the event names, in that account's own key parameter, and leaves default's alone", async () => {
    // Another account is another vendor account: its own user, with its own keys.
    const acme = memoryKeyApi();
    acme.add('acme-key', 'acme-secret', { createdAt: Date.now() - 100 * 86_400_000 });
    broker.ssm.put(ACME, { accessKeyId: 'acme-key', accessKeySecret: 'acme-secret' });
    broker.ssm.delete(pendingParameter(ACME));
    const run = createRotationHandler(acme.api);
    const answers = await untilDone(() => run({ ...NOW, account: 'acme' }));
    const rotated = JSON.parse(broker.ssm.get(ACME)!) as AliyunKeys;
    expect(rotated.accessKeyId).not.toBe('acme-key');
    expect(answers[0]).toMatchObject({ keyId: rotated.accessKeyId, previousKeyId: 'acme-key' });
    expect(acme.tested).toContain(rotated.accessKeyId);
    expect(acme.keys()).toEqual([{ keyId: rotated.accessKeyId, status: 'Active' }]);
    expect(stored().accessKeyId).toBe(ORIGINAL.accessKeyId);
    expect(vendor.calls).toEqual([]);
  });

  it('refuses an account this deployment does not configure, before any parameter is read or key API called', async () => {
    broker.ssm.clearRequests();
    await expect(handler()({ ...NOW, account: 'globex' })).rejects.toMatchObject({ code: 'Forbidden' });
    await expect(handler()({ ...NOW, account: 'Not An Account' })).rejects.toMatchObject({ code: 'InvalidRequest' });
    expect(broker.ssm.requests).toEqual([]);
    expect(vendor.calls).toEqual([]);
  });
});
