/**
 * The hostile suites' world: the local world of sim/ (vendor simulator, fake SSM and SQS,
 * local table), master keys of this run's own (set at the simulator and in SSM, so a leak of either
 * these or the simulator's defaults is found), the function host running the deployment
 * bundles, and a secret scanner that knows the keys.
 */
import { randomBytes } from 'node:crypto';
import { keyParametersUnder, type LocalWorld, startLocalWorld } from '../../../sim/local-world.js';
import { SIMULATOR_DEFAULT_KEYS } from '../../../sim/vendor-simulator.js';
import type { NamedVendor } from '../../support/broker-env.js';
import { type FunctionHost, startFunctionHost } from './host.js';
import { SecretScan } from './secrets.js';

/** `/cloud-token-broker/hostile/keys/<vendor>` for every vendor. */
export const KEY_PARAMETERS = keyParametersUnder('/cloud-token-broker/hostile/keys') as Record<string, string> &
  Record<NamedVendor, string>;
export const UCLOUD_PROJECT = 'org-hostile';
export const TABLE_NAME = 'cloud-token-broker-hostile-tokens';

export interface HostileKeys {
  aliyun: { accessKeyId: string; accessKeySecret: string };
  ucloud: { publicKey: string; privateKey: string };
  tencent: { secretId: string; secretKey: string };
}

/** Fresh master keys for one run. */
export function hostileKeys(): HostileKeys {
  const hex = () => randomBytes(12).toString('hex');
  return {
    aliyun: { accessKeyId: `hostile-aliyun-id-${hex()}`, accessKeySecret: `hostile-aliyun-secret-${hex()}` },
    ucloud: { publicKey: `hostile-ucloud-public-${hex()}`, privateKey: `hostile-ucloud-private-${hex()}` },
    tencent: { secretId: `hostile-tencent-id-${hex()}`, secretKey: `hostile-tencent-secret-${hex()}` },
  };
}

/** The keys put where the functions read them (SSM); the simulator is told separately. */
export function seedKeys(world: Pick<LocalWorld, 'ssm'>, keys: HostileKeys): void {
  world.ssm.put(KEY_PARAMETERS.aliyun, keys.aliyun);
  world.ssm.put(KEY_PARAMETERS.ucloud, { ...keys.ucloud, projectId: UCLOUD_PROJECT });
  world.ssm.put(KEY_PARAMETERS.tencent, keys.tencent);
}

export interface HostileWorld {
  world: LocalWorld;
  keys: HostileKeys;
  host: FunctionHost;
  scan: SecretScan;
  close(): Promise<void>;
}

export interface HostileWorldOptions {
  /** Variables for the functions on top of the world's. */
  env?: Record<string, string>;
  timeoutMs?: number;
  functions?: string[];
  maxInstances?: number;
  table?: boolean;
  /** Queues the fake SQS holds (the functions' dead-letter queues). */
  queues?: string[];
  /** Seed the local caller policy (sim/local-world.ts localCallerPolicy) and set POLICY_PARAMETER: the STS routes refuse without one. */
  callerPolicy?: boolean;
}

export async function startHostileWorld(options: HostileWorldOptions = {}): Promise<HostileWorld> {
  const world = await startLocalWorld({
    keyParameters: KEY_PARAMETERS,
    ucloudProjectId: UCLOUD_PROJECT,
    region: 'eu-west-1',
    ...(options.table !== false && { tableName: TABLE_NAME }),
    ...(options.queues !== undefined && { queues: options.queues }),
    ...(options.callerPolicy === true && { policyParameter: '/cloud-token-broker/hostile/policy' }),
  });
  try {
    const keys = hostileKeys();
    world.sim.setKeys({ aliyun: [keys.aliyun], ucloud: [keys.ucloud], tencent: [keys.tencent] });
    seedKeys(world, keys);
    const scan = new SecretScan();
    for (const secret of [
      SIMULATOR_DEFAULT_KEYS.aliyun.accessKeySecret,
      SIMULATOR_DEFAULT_KEYS.ucloud.privateKey,
      SIMULATOR_DEFAULT_KEYS.tencent.secretKey,
      keys.aliyun.accessKeySecret,
      keys.ucloud.privateKey,
      keys.tencent.secretKey,
    ]) {
      scan.addMasterKey(secret);
    }
    const host = await startFunctionHost({
      env: { ...world.env, KEYS_CACHE_SECONDS: '300', ...options.env },
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      ...(options.functions !== undefined && { functions: options.functions }),
      ...(options.maxInstances !== undefined && { maxInstances: options.maxInstances }),
    });
    return {
      world,
      keys,
      host,
      scan,
      async close() {
        await host.close();
        await world.close();
      },
    };
  } catch (error) {
    await world.close();
    throw error;
  }
}

/** The audit records among the host's lines, by request id. */
export function auditRecords(lines: readonly string[]): Map<string, { source?: string; outcome?: { status?: number; code?: string } }> {
  const records = new Map();
  for (const line of lines) {
    if (!line.includes('"type":"audit"')) continue;
    const record = JSON.parse(line) as { requestId: string };
    records.set(record.requestId, record);
  }
  return records;
}

/** Lines that are not one JSON object each (every log line must be). */
export function nonJsonLines(lines: readonly string[]): string[] {
  return lines.filter((line) => {
    try {
      const value: unknown = JSON.parse(line);
      return value === null || typeof value !== 'object' || Array.isArray(value);
    } catch {
      return true;
    }
  });
}
