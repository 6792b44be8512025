import { afterAll, beforeAll, beforeEach } from 'vitest';
import { clearKeys } from '../../lib/keys.js';
import { clearTokenMemory } from '../../lib/token-cache.js';
import type { FakeSsm } from '../../sim/fake-ssm.js';
import type { LocalTable } from '../../sim/local-table.js';
import { keyParametersUnder, startLocalWorld } from '../../sim/local-world.js';
import type { SimulatorOptions, VendorSimulator } from '../../sim/vendor-simulator.js';

/** `/cloud-token-broker/test/keys/<vendor>` for every vendor. */
export const KEY_PARAMETERS = keyParametersUnder('/cloud-token-broker/test/keys');

export const TOKEN_TABLE = 'cloud-token-broker-test-tokens';

/**
 * A vendor simulator, a fake SSM seeded with keys and a local token table, all on loopback,
 * and the environment that points the broker at them.
 */
export interface BrokerEnv {
  sim: VendorSimulator;
  ssm: FakeSsm;
  /** Undefined when started with `table: false` (memory only). */
  table: LocalTable | undefined;
  env: Record<string, string>;
  /** Forget every module-wide cache: what a cold start does. */
  coldStart(): void;
  close(): Promise<void>;
}

export interface BrokerEnvOptions {
  simulator?: SimulatorOptions;
  env?: Record<string, string>;
  /** Start the local token table and set TOKEN_TABLE (default true); false: memory only. */
  table?: boolean;
}

export async function startBrokerEnv(options: BrokerEnvOptions = {}): Promise<BrokerEnv> {
  const world = await startLocalWorld({
    keyParameters: KEY_PARAMETERS,
    ucloudProjectId: 'org-sim',
    region: 'eu-west-1',
    ...(options.simulator && { simulator: options.simulator }),
    ...(options.table !== false && { tableName: TOKEN_TABLE }),
  });
  const { sim, ssm, table } = world;
  const env: Record<string, string> = {
    // The fake SSM, the key parameters, every endpoint variable of the registry, the table.
    ...world.env,
    KEYS_CACHE_SECONDS: '300',
    // More than the deployed 1 s: on a loaded test machine a slow table call is no table fault.
    TOKEN_TABLE_TIMEOUT_MS: '3000',
    ...options.env,
  };
  const previous = { ...process.env };
  if (!table) delete process.env.TOKEN_TABLE;
  Object.assign(process.env, env);
  const coldStart = () => {
    clearKeys();
    clearTokenMemory();
  };
  coldStart();
  return {
    sim,
    ssm,
    table,
    env,
    coldStart,
    async close() {
      coldStart();
      for (const key of [...Object.keys(env), 'TOKEN_TABLE']) {
        if (previous[key] === undefined) delete process.env[key];
        else process.env[key] = previous[key];
      }
      await world.close();
    },
  };
}

/**
 * One broker env for a whole test file: started in beforeAll, closed in afterAll and, unless
 * `resetEach` is false, given a cold start with a cleared simulator and an empty table before each test. The
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
    beforeEach(async () => {
      started().sim.reset();
      started().coldStart();
      await started().table?.clear();
    });
  }
  return {
    get sim() {
      return started().sim;
    },
    get ssm() {
      return started().ssm;
    },
    get table() {
      return started().table;
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
