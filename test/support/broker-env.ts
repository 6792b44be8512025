import { afterAll, beforeAll, beforeEach } from 'vitest';
import { clearKeys } from '../../lib/keys.js';
import { clearTokenMemory } from '../../lib/token-cache.js';
import type { FakeSsm } from '../../sim/fake-ssm.js';
import { startLocalWorld } from '../../sim/local-world.js';
import type { SimulatorOptions, VendorSimulator } from '../../sim/vendor-simulator.js';

export const KEY_PARAMETERS = {
  aliyun: '/cloud-token-broker/test/keys/aliyun',
  ucloud: '/cloud-token-broker/test/keys/ucloud',
} as const;

export const TOKEN_STORE_PREFIX = '/cloud-token-broker/test/tokens';

/** A vendor simulator and a fake SSM on loopback, seeded with keys, and the environment that points the broker at them. */
export interface BrokerEnv {
  sim: VendorSimulator;
  ssm: FakeSsm;
  env: Record<string, string>;
  /** Forget every module-wide cache: what a cold start does. */
  coldStart(): void;
  close(): Promise<void>;
}

export interface BrokerEnvOptions {
  simulator?: SimulatorOptions;
  env?: Record<string, string>;
}

export async function startBrokerEnv(options: BrokerEnvOptions = {}): Promise<BrokerEnv> {
  const world = await startLocalWorld({
    keyParameters: KEY_PARAMETERS,
    ucloudProjectId: 'org-sim',
    region: 'eu-west-1',
    ...(options.simulator && { simulator: options.simulator }),
  });
  const { sim, ssm } = world;
  const env: Record<string, string> = {
    // The fake SSM, the key parameters and every endpoint variable of the registry.
    ...world.env,
    TOKEN_STORE_PREFIX,
    KEYS_CACHE_SECONDS: '300',
    ...options.env,
  };
  const previous = { ...process.env };
  Object.assign(process.env, env);
  const coldStart = () => {
    clearKeys();
    clearTokenMemory();
  };
  coldStart();
  return {
    sim,
    ssm,
    env,
    coldStart,
    async close() {
      coldStart();
      for (const key of Object.keys(env)) {
        if (previous[key] === undefined) delete process.env[key];
        else process.env[key] = previous[key];
      }
      await world.close();
    },
  };
}

/**
 * One broker env for a whole test file: started in beforeAll, closed in afterAll and, unless
 * `resetEach` is false, given a cold start with a cleared simulator before each test. The
 * returned object's fields reach the env once it is started (read them inside hooks and tests).
 */
export function useBrokerEnv(options: BrokerEnvOptions = {}, { resetEach = true }: { resetEach?: boolean } = {}): BrokerEnv {
  let broker: BrokerEnv | undefined;
  const started = (): BrokerEnv => {
    if (!broker) throw new Error('useBrokerEnv: the broker env is read before beforeAll has started it');
    return broker;
  };
  beforeAll(async () => {
    broker = await startBrokerEnv(options);
  });
  afterAll(() => broker?.close());
  if (resetEach) {
    beforeEach(() => {
      started().sim.reset();
      started().coldStart();
    });
  }
  return {
    get sim() {
      return started().sim;
    },
    get ssm() {
      return started().ssm;
    },
    get env() {
      return started().env;
    },
    get coldStart() {
      const env = started();
      return () => env.coldStart();
    },
    get close() {
      const env = started();
      return () => env.close();
    },
  };
}
