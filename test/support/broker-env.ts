import { afterAll, beforeAll, beforeEach } from 'vitest';
import { clearKeys } from '../../lib/keys.js';
import { clearTokenMemory } from '../../lib/token-cache.js';
import { type FakeSsm, startFakeSsm } from '../../sim/fake-ssm.js';
import { SIMULATOR_DEFAULT_KEYS, type SimulatorOptions, startVendorSimulator, type VendorSimulator } from '../../sim/vendor-simulator.js';

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
  const sim = await startVendorSimulator(options.simulator);
  const ssm = await startFakeSsm();
  ssm.put(KEY_PARAMETERS.aliyun, SIMULATOR_DEFAULT_KEYS.aliyun);
  ssm.put(KEY_PARAMETERS.ucloud, { ...SIMULATOR_DEFAULT_KEYS.ucloud, projectId: 'org-sim' });
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL_SSM: ssm.url,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'fake-ssm-access-key',
    AWS_SECRET_ACCESS_KEY: 'fake-ssm-secret-key',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ALIYUN_KEYS_PARAMETER: KEY_PARAMETERS.aliyun,
    UCLOUD_KEYS_PARAMETER: KEY_PARAMETERS.ucloud,
    ALIYUN_BPSTUDIO_ENDPOINT: sim.url,
    ALIYUN_CAMS_ENDPOINT: sim.url,
    ALIYUN_IMS_ENDPOINT: sim.url,
    UCLOUD_API_ENDPOINT: sim.url,
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
      await Promise.all([sim.close(), ssm.close()]);
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
