import { afterAll, beforeAll, beforeEach } from 'vitest';
import { clearTokenMemory } from '../../lib/runtime/credentials.js';
import { resetDeadLetterQueue } from '../../lib/runtime/triggers/dead-letter.js';
import { clearKeys } from '../../lib/vendor/keys.js';
import type { FakeKms } from '../../sim/fake-kms.js';
import type { FakeSqs } from '../../sim/fake-sqs.js';
import type { FakeSsm } from '../../sim/fake-ssm.js';
import type { LocalTable } from '../../sim/local-table.js';
import { keyParametersUnder, startLocalWorld } from '../../sim/local-world.js';
import type { SimulatorOptions, VendorSimulator } from '../../sim/vendor-simulator.js';

/** The vendors tests address by name; every vendor of the registry has its parameter all the same. */
export type NamedVendor = 'aliyun' | 'ucloud' | 'tencent';

/** `/cloud-token-broker/test/keys/<vendor>` for every vendor. */
export const KEY_PARAMETERS = keyParametersUnder('/cloud-token-broker/test/keys') as Record<string, string> & Record<NamedVendor, string>;

export const TOKEN_TABLE = 'cloud-token-broker-test-tokens';
/** The dead-letter queue the SQS trigger sends refused messages to (DEAD_LETTER_QUEUE), held by the fake SQS. */
export const DEAD_LETTER_QUEUE = 'cloud-token-broker-test-ims-provision-external-application-dlq';

/**
 * A vendor simulator, a fake SSM seeded with keys, a fake SQS holding the dead-letter queue and
 * a local token table, all on loopback, and the environment that points the broker at them.
 */
export interface BrokerEnv {
  sim: VendorSimulator;
  ssm: FakeSsm;
  sqs: FakeSqs;
  /** The KMS that seals the table's token items (TOKEN_KEY_ID). */
  kms: FakeKms;
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
  /**
   * Seed the local world's caller policy (sim/local-world.ts `localCallerPolicy`) and set
   * POLICY_PARAMETER: what a test needs that calls every route, the STS ones included, which
   * refuse without a policy.
   */
  callerPolicy?: boolean;
}

/** Where `callerPolicy: true` puts the local caller policy. */
export const LOCAL_POLICY_PARAMETER = '/cloud-token-broker/test/policy';

export async function startBrokerEnv(options: BrokerEnvOptions = {}): Promise<BrokerEnv> {
  const world = await startLocalWorld({
    keyParameters: KEY_PARAMETERS,
    ucloudProjectId: 'org-sim',
    region: 'eu-west-1',
    ...(options.simulator && { simulator: options.simulator }),
    ...(options.table !== false && { tableName: TOKEN_TABLE }),
    queues: [DEAD_LETTER_QUEUE],
    ...(options.callerPolicy && { policyParameter: LOCAL_POLICY_PARAMETER }),
  });
  const { sim, ssm, sqs, kms, table } = world;
  const env: Record<string, string> = {
    // The fake SSM, the key parameters, every endpoint variable of the registry, the table.
    ...world.env,
    KEYS_CACHE_SECONDS: '300',
    // More than the deployed 1 s: on a loaded test machine a slow table call is no table fault.
    TOKEN_TABLE_TIMEOUT_MS: '3000',
    // As deployed: the SQS function knows its dead-letter queue (infra/functions.cjs).
    DEAD_LETTER_QUEUE,
    ...options.env,
  };
  const previous = { ...process.env };
  if (!table) {
    delete process.env.TOKEN_TABLE;
    delete process.env.TOKEN_KEY_ID;
  }
  Object.assign(process.env, env);
  const coldStart = () => {
    clearKeys();
    clearTokenMemory();
    resetDeadLetterQueue();
  };
  coldStart();
  return {
    sim,
    ssm,
    sqs,
    kms,
    table,
    env,
    coldStart,
    async close() {
      coldStart();
      for (const key of [...Object.keys(env), 'TOKEN_TABLE', 'TOKEN_KEY_ID']) {
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
      started().sqs.clear();
      started().kms.failWith(undefined);
      started().kms.clearRequests();
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
    get sqs() {
      return started().sqs;
    },
    get kms() {
      return started().kms;
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
