/**
 * The master-key rotation end to end, per vendor with a key API (the rotation registry): the
 * real rotation function and the real operation functions of that vendor, the fake SSM with
 * KEYS_CACHE_SECONDS at 1, the local table and the vendor simulator over real HTTP, whose key
 * APIs hold the 2-key limit and a propagation delay and refuse an Inactive or deleted key on
 * every signed call. While a load runs through every route of the vendor (each request a new
 * caller or body, so it reaches the vendor), the rotation runs by hand until it is done:
 * no request fails, the vendor saw the load signed with the old key and then the new one,
 * the key parameter ends with the new key and the old key is deleted after the (shortened) grace.
 * Then, against the same simulator: a run dying after each step and the reruns that finish it,
 * two runs at once, and a key the broker does not know.
 * @module
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOperations } from '../../lib/operations/index.js';
import { createRotationHandler } from '../../lib/rotation/handler.js';
import { loadRotations } from '../../lib/rotation/index.js';
import { pendingParameter } from '../../lib/rotation/key-parameter.js';
import type { Checkpoint } from '../../lib/rotation/steps.js';
import { clearTokenMemory } from '../../lib/runtime/credentials.js';
import type { LambdaHandler } from '../../lib/spec/operation.js';
import { httpApiEvent, lambdaContext } from '../../sim/lambda-events.js';
import { exampleBody } from '../../sim/local-world.js';
import { SIMULATOR_DEFAULT_KEYS, type SimulatorCall } from '../../sim/vendor-simulator.js';
import { KEY_PARAMETERS, useBrokerEnv } from '../support/broker-env.js';
import { invokeHttp } from '../support/invoke-http.js';
import { latch } from '../support/latch.js';
import { CRASH_POINTS } from '../support/memory-key-api.js';
import { ID_FIELDS } from '../support/request-bodies.js';

const rotations = await loadRotations();
const operations = (await loadOperations()).filter((op) => op.route !== undefined);
const handlers = new Map<string, LambdaHandler>();
for (const name of [...operations, ...rotations].map((entry) => entry.functionName)) {
  handlers.set(name, ((await import(`../../functions/${name}.ts`)) as { handler: LambdaHandler }).handler);
}

const broker = useBrokerEnv({
  callerPolicy: true,
  env: { KEYS_CACHE_SECONDS: '1', ROTATION_RETIRE_MARGIN_SECONDS: '1', ROTATION_GRACE_SECONDS: '2', ROTATION_TEST_SECONDS: '20' },
});

/** The key id a simulator call was signed with, whichever vendor. */
const signedWith = (call: SimulatorCall) => call.accessKeyId ?? call.secretId;
/** The key id of a stored key. */
const keyIdOf = (keys: Record<string, string>): string => (keys.accessKeyId ?? keys.secretId)!;

describe.each(rotations.map((rotation) => [rotation.vendor, rotation] as const))('%s master key', (vendor, rotation) => {
  it('rotates while a load runs through every route of the vendor: zero failed requests, the old key deleted after the grace', async () => {
    const seed = SIMULATOR_DEFAULT_KEYS[vendor as 'aliyun' | 'tencent'];
    broker.sim.setKeys({ [vendor]: [seed] });
    broker.ssm.put(KEY_PARAMETERS[vendor]!, { ...seed });
    const oldKeyId = keyIdOf(seed as unknown as Record<string, string>);
    const routes = operations.filter((op) => op.vendor === vendor && op.triggers.some((t) => t.kind === 'http'));
    expect(routes.length).toBeGreaterThan(0);

    let rotating = true;
    const failures: string[] = [];
    let requests = 0;
    // Two callers at a time, each request a new caller (and a new id where the body has one), so
    // the token cache cannot answer it: every request reaches the vendor with the key of the moment.
    const load = async (worker: number) => {
      for (let i = 0; rotating; i++) {
        for (const op of routes) {
          const body = exampleBody(op);
          for (const field of Object.keys(body)) if (ID_FIELDS.has(field)) body[field] = `load-${worker}-${i}`;
          clearTokenMemory();
          const answer = await invokeHttp(
            handlers.get(op.functionName)!,
            httpApiEvent(op.route!, body, { authorizer: { iam: { userArn: `arn:aws:iam::123456789012:user/load-${worker}-${i}` } } }),
            lambdaContext(30_000),
          );
          requests++;
          if (answer.statusCode !== 200) failures.push(`${op.functionName} ${answer.statusCode} ${answer.json.error?.code}`);
        }
      }
    };
    const loads = [load(0), load(1)];

    const rotate = handlers.get(rotation.functionName)!;
    const answers: { step: string; keyId: string; previousKeyId?: string; busy?: true }[] = [];
    const deadline = Date.now() + 90_000;
    try {
      while (Date.now() < deadline) {
        const answer = (await rotate({ rotateMasterKey: 'now' }, lambdaContext(60_000))) as (typeof answers)[number];
        answers.push(answer);
        if (answer.step === 'done') break;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    } finally {
      // A last stretch of load on the new key alone.
      await new Promise((resolve) => setTimeout(resolve, 500));
      rotating = false;
      await Promise.all(loads);
    }

    expect(failures).toEqual([]);
    // One run after another: none may find the lock held (a lost lock would stall the rotation for its expiry).
    expect(answers.filter((a) => a.busy)).toEqual([]);
    expect(requests).toBeGreaterThan(20);
    const last = answers.at(-1)!;
    expect(last.step).toBe('done');
    expect(last.previousKeyId).toBe(oldKeyId);
    expect(answers.map((a) => a.step)).toContain('retire');
    const newKeyId = last.keyId;
    expect(newKeyId).not.toBe(oldKeyId);
    // The key parameter holds the new key; the pending one is gone; the vendor has the new key alone.
    expect(keyIdOf(JSON.parse(broker.ssm.get(KEY_PARAMETERS[vendor]!)!))).toBe(newKeyId);
    expect(broker.ssm.get(pendingParameter(KEY_PARAMETERS[vendor]!))).toBeUndefined();
    expect(broker.sim.accessKeys(vendor as 'aliyun' | 'tencent').map((k) => [k.keyId, k.status])).toEqual([[newKeyId, 'Active']]);
    // The load went through the vendor on the old key and then on the new one.
    const actions = new Set(routes.map((op) => op.action));
    const loadCalls = broker.sim.calls.filter((call) => actions.has(call.action));
    expect(loadCalls.filter((call) => signedWith(call) === oldKeyId).length).toBeGreaterThan(0);
    expect(loadCalls.filter((call) => signedWith(call) === newKeyId).length).toBeGreaterThan(0);
  }, 150_000);
});

/** No waits: the key cache, the retire margin and the grace at 0, a new key accepted at once. */
const QUICK = { KEYS_CACHE_SECONDS: '0', ROTATION_RETIRE_MARGIN_SECONDS: '0', ROTATION_GRACE_SECONDS: '0' };

describe.each(rotations.map((rotation) => [rotation.vendor, rotation] as const))(
  '%s rotation against the simulator',
  (vendor, rotation) => {
    const seed = SIMULATOR_DEFAULT_KEYS[vendor as 'aliyun' | 'tencent'] as unknown as Record<string, string>;
    const parameter = () => KEY_PARAMETERS[vendor]!;
    const stored = () => JSON.parse(broker.ssm.get(parameter())!) as Record<string, string>;
    const keysAtVendor = () => broker.sim.accessKeys(vendor as 'aliyun' | 'tencent').map((k) => [k.keyId, k.status]);
    let saved: Record<string, string | undefined>;
    let tested: string[];

    beforeEach(() => {
      saved = Object.fromEntries(Object.keys(QUICK).map((name) => [name, process.env[name]]));
      Object.assign(process.env, QUICK);
      broker.sim.setKeys({ [vendor]: [seed] });
      broker.sim.setKeyPropagationMs(0);
      broker.ssm.put(parameter(), { ...seed, externalId: 'kept-through-rotation' });
      broker.ssm.delete(pendingParameter(parameter()));
      tested = [];
    });
    afterEach(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });

    /** At every change: the key parameter holds the original key or a tested one, and the vendor accepts it. */
    async function observe(point: Checkpoint) {
      if (point === 'tested') tested.push(keyIdOf(JSON.parse(broker.ssm.get(pendingParameter(parameter()))!)));
      const keys = stored();
      expect([keyIdOf(seed), ...tested]).toContain(keyIdOf(keys));
      await expect(rotation.api.probe(keys as never)).resolves.toBeUndefined();
    }

    /** The end: the vendor has the new key alone, Active; the parameter holds it with its other fields; no pending key. */
    function expectRotated() {
      const keys = stored();
      expect(keyIdOf(keys)).not.toBe(keyIdOf(seed));
      expect(tested).toContain(keyIdOf(keys));
      expect(keys.externalId).toBe('kept-through-rotation');
      expect(keysAtVendor()).toEqual([[keyIdOf(keys), 'Active']]);
      expect(broker.ssm.get(pendingParameter(parameter()))).toBeUndefined();
    }

    it.each(CRASH_POINTS.map((points) => [points.join(' then '), points] as const))(
      'a run dying after %s is finished by the next: no orphan key, no untested key',
      async (_name, crashAt) => {
        const crashes = [...crashAt];
        const run = createRotationHandler(rotation.api, {
          checkpoint: async (point) => {
            await observe(point);
            if (crashes[0] === point) {
              crashes.shift();
              throw new Error(`injected crash after ${point}`);
            }
          },
        });
        let failures = 0;
        let last = '';
        for (let i = 0; i < 6 && last !== 'done'; i++) {
          last = await run({ rotateMasterKey: 'now' }, lambdaContext(60_000)).then(
            (answer) => answer.step,
            () => {
              failures++;
              return 'crashed';
            },
          );
        }
        expect(failures).toBe(crashAt.length);
        expect(last).toBe('done');
        expectRotated();
      },
    );

    it('two runs at once: one proceeds, the other changes nothing and says so', async () => {
      const held = latch();
      const inside = latch();
      const first = createRotationHandler(rotation.api, {
        checkpoint: async (point) => {
          await observe(point);
          if (point === 'intent-recorded') {
            inside.open();
            await held.wait;
          }
        },
      })({ rotateMasterKey: 'now' }, lambdaContext(60_000));
      await inside.wait;
      const before = broker.sim.calls.length;
      const second = await handlers.get(rotation.functionName)!({ rotateMasterKey: 'now' }, lambdaContext(60_000));
      expect(second).toMatchObject({ step: 'create', busy: true });
      // The busy run reads the table and SSM only: no vendor call.
      expect(broker.sim.calls.length).toBe(before);
      held.open();
      expect((await first).step).toBe('done');
      expectRotated();
    });

    it('two Active keys, one unknown to the broker: the rotation stops, changes nothing, and says which', async () => {
      const unknown = broker.sim.seedAccessKey(vendor as 'aliyun' | 'tencent');
      const before = keysAtVendor();
      await expect(handlers.get(rotation.functionName)!({ rotateMasterKey: 'now' }, lambdaContext(60_000))).rejects.toMatchObject({
        code: 'ConfigurationError',
        message: expect.stringContaining(unknown.keyId),
      });
      expect(keysAtVendor()).toEqual(before);
      expect(keyIdOf(stored())).toBe(keyIdOf(seed));
      expect(broker.ssm.get(pendingParameter(parameter()))).toBeUndefined();
      expect(broker.sim.callsTo('CreateAccessKey')).toEqual([]);
      expect(broker.sim.callsTo('UpdateAccessKey')).toEqual([]);
      expect(broker.sim.callsTo('DeleteAccessKey')).toEqual([]);
    });
  },
);
