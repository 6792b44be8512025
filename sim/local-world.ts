/**
 * The local world's wiring: a vendor simulator, a fake SSM seeded with keys, a fake SQS
 * holding the dead-letter queues, a fake KMS whose key seals the token items, and the
 * variables that point the broker at them. Which endpoint variables exist is read from the
 * operation registry (lib/operations), never listed here, so a new operation is wired as
 * soon as its spec exists. Used by `npm start`, scripts/measure-paths.ts and the tests.
 *
 * The simulator and the fake SSM themselves import nothing from lib/ (they must not share
 * the broker's signing code); only this file does.
 *
 * @module
 */
import * as z from 'zod/mini';
import type { EndpointVariable } from '../lib/core/config.js';
import { loadOperations } from '../lib/operations/index.js';
import type { Operation } from '../lib/spec/operation.js';
import { keysParameterVariable, VENDORS, type Vendor } from '../lib/vendor/keys.js';
import { type FakeKms, LOCAL_TOKEN_KEY_ALIAS, startFakeKms } from './fake-kms.js';
import { type FakeSqs, startFakeSqs } from './fake-sqs.js';
import { type FakeSsm, startFakeSsm } from './fake-ssm.js';
import { type LocalTable, startLocalTable } from './local-table.js';
import { SIMULATOR_DEFAULT_KEYS, type SimulatorOptions, startVendorSimulator, type VendorSimulator } from './vendor-simulator.js';

/** The configuration variables that hold a vendor base URL, one per distinct `op.endpoint`, sorted. */
export function endpointVariables(operations: readonly Operation[]): EndpointVariable[] {
  return [...new Set(operations.map((op) => op.endpoint))].sort();
}

/** The role an STS operation assumes in the local world, by vendor: shaped like the vendor's, owned by no one. */
const LOCAL_ROLE_ARNS: Partial<Record<Vendor, string>> = {
  aliyun: 'acs:ram::1234567890123456:role/cloud-token-broker-local',
  tencent: 'qcs::cam::uin/100000000001:roleName/cloud-token-broker-local',
};

/** The role variable of every operation that assumes a role (`assumesRole`), set to a local role of its vendor. */
export function localRoleArns(operations: readonly Operation[]): Record<string, string> {
  const roles: Record<string, string> = {};
  for (const op of operations) {
    if (op.assumesRole === undefined) continue;
    const arn = LOCAL_ROLE_ARNS[op.vendor];
    if (arn === undefined) throw new Error(`${op.functionName}: no local role for the vendor ${op.vendor}`);
    roles[op.assumesRole.roleArn] = arn;
  }
  return roles;
}

/** The session policy each vendor's STS route gives local callers: one folder of one local bucket, never the role's whole reach. */
const LOCAL_SESSION_POLICIES: Partial<Record<Vendor, Record<string, unknown>>> = {
  aliyun: {
    Version: '1',
    Statement: [
      { Effect: 'Allow', Action: ['oss:GetObject', 'oss:PutObject'], Resource: ['acs:oss:*:*:cloud-token-broker-local/uploads/*'] },
    ],
  },
  tencent: {
    version: '2.0',
    statement: [
      {
        effect: 'allow',
        action: ['name/cos:GetObject', 'name/cos:PutObject'],
        resource: ['qcs::cos:ap-guangzhou:uid/1250000000:cloud-token-broker-local-1250000000/uploads/*'],
      },
    ],
  },
};

/** Every kind of caller: `npm start` has no authorizer (anonymous), and a test may pose as any. */
const ANY_CALLER = [{ anonymous: true }, { claims: {} }, { principal: '*' }];

/**
 * The caller policy of the local world (`npm start`): every route answers any local caller as
 * it would with no policy, and each operation that assumes a role is named with a session
 * policy of its vendor (`*` never covers those), so the STS routes serve out of the box and
 * never hand out a role's whole reach.
 */
export function localCallerPolicy(operations: readonly Operation[]): { version: 1; rules: Record<string, unknown>[] } {
  const rules: Record<string, unknown>[] = [{ id: 'local-any-caller', callers: ANY_CALLER, operations: ['*'] }];
  for (const op of operations) {
    if (op.assumesRole === undefined) continue;
    const sessionPolicy = LOCAL_SESSION_POLICIES[op.vendor];
    if (sessionPolicy === undefined) throw new Error(`${op.functionName}: no local session policy for the vendor ${op.vendor}`);
    rules.push({ id: `local-${op.functionName}`, callers: ANY_CALLER, operations: [op.name], sessionPolicy });
  }
  return { version: 1, rules };
}

/** Every endpoint variable of `operations`, set to `url`. */
export function endpointsAt(operations: readonly Operation[], url: string): Record<string, string> {
  return Object.fromEntries(endpointVariables(operations).map((variable) => [variable, url]));
}

type JsonSchema = {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minimum?: number;
  /** A field's own examples, declared in its spec with `z.meta({ examples: [...] })`. */
  examples?: unknown[];
};

function exampleValue(schema: JsonSchema): unknown {
  if (schema.examples !== undefined && schema.examples.length > 0) return schema.examples[0];
  switch (schema.type) {
    case 'string':
      return 'demo';
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return schema.items ? [exampleValue(schema.items)] : [];
    case 'object':
      return Object.fromEntries((schema.required ?? []).map((name) => [name, exampleValue(schema.properties?.[name] ?? {})]));
    default:
      return null;
  }
}

/**
 * A body with the operation's required fields only, filled with each field's first declared
 * example or else a placeholder ('demo', 1, …), for the try-it lines of `npm start`. `{}`
 * when they do not pass the schema (a field with a pattern 'demo' misses needs an example).
 */
export function exampleBody(op: Operation): Record<string, unknown> {
  const schema = z.toJSONSchema(op.request, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const body = exampleValue({ ...schema, type: 'object' }) as Record<string, unknown>;
  return op.request.safeParse(body).success ? body : {};
}

/**
 * Each vendor's key parameter under `prefix`: `<prefix>/<vendor>`, the layout a deployment
 * uses (`/cloud-token-broker/<stage>/keys/<vendor>`, infra/roles.cjs).
 */
export function keyParametersUnder(prefix: string): Record<Vendor, string> {
  return Object.fromEntries(VENDORS.map((vendor) => [vendor, `${prefix}/${vendor}`])) as Record<Vendor, string>;
}

export interface LocalWorldOptions {
  /** Where each vendor's seeded master key is stored in the fake SSM (see keyParametersUnder). */
  keyParameters: Record<Vendor, string>;
  /** The UCloud project stored with the seeded UCloud key. */
  ucloudProjectId: string;
  /** AWS_REGION given to the SSM client. Default ap-southeast-1. */
  region?: string;
  simulator?: SimulatorOptions;
  /** The local token table's name; absent: no table (memory only, per instance). */
  tableName?: string;
  /** The alias of the fake KMS's key that seals the table's items (TOKEN_KEY_ID). Default LOCAL_TOKEN_KEY_ALIAS. */
  tokenKeyAlias?: string;
  /** Queues the fake SQS holds from the start (the functions' dead-letter queues, by name). */
  queues?: string[];
  /** Where to seed localCallerPolicy in the fake SSM, and set POLICY_PARAMETER; absent: no caller policy. */
  policyParameter?: string;
}

export interface LocalWorld {
  sim: VendorSimulator;
  ssm: FakeSsm;
  /** Where the functions send messages to their dead-letter queues. */
  sqs: FakeSqs;
  /** The KMS that seals token items: TOKEN_KEY_ID names its key (options.tokenKeyAlias). */
  kms: FakeKms;
  /** The local token table (dynalite, in its own process), when a tableName was given. */
  table: LocalTable | undefined;
  /** The registry the wiring was derived from. */
  operations: Operation[];
  /** Every endpoint variable of the registry, set to the simulator's URL. */
  endpoints: Record<string, string>;
  /** The role variable of each STS operation, set to a local role (localRoleArns). */
  roles: Record<string, string>;
  /** The AWS_* variables that send the SSM, SQS, KMS and DynamoDB clients to the fakes and the local table (dummy credentials, a region). */
  awsEnv: Record<string, string>;
  /** Everything an in-process broker needs: awsEnv, the key parameter names, the endpoints, TOKEN_TABLE and TOKEN_KEY_ID. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Starts the simulator, the fake SSM, SQS and KMS and (with a tableName) the local table on loopback; seeds the simulator's keys into SSM. */
export async function startLocalWorld(options: LocalWorldOptions): Promise<LocalWorld> {
  const operations = await loadOperations();
  const started = await Promise.allSettled([
    startVendorSimulator(options.simulator),
    startFakeSsm(),
    startFakeSqs({ queues: options.queues ?? [] }),
    startFakeKms({ region: options.region ?? 'ap-southeast-1', alias: options.tokenKeyAlias ?? LOCAL_TOKEN_KEY_ALIAS }),
    options.tableName === undefined ? Promise.resolve(undefined) : startLocalTable({ tableName: options.tableName }),
  ] as const);
  const [simStarted, ssmStarted, sqsStarted, kmsStarted, tableStarted] = started;
  if (
    simStarted.status === 'rejected' ||
    ssmStarted.status === 'rejected' ||
    sqsStarted.status === 'rejected' ||
    kmsStarted.status === 'rejected' ||
    tableStarted.status === 'rejected'
  ) {
    // Whatever did start is stopped again: nothing is left listening.
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value?.close() : undefined)));
    throw started.find((s): s is PromiseRejectedResult => s.status === 'rejected')!.reason;
  }
  const [sim, ssm, sqs, kms, table] = [simStarted.value, ssmStarted.value, sqsStarted.value, kmsStarted.value, tableStarted.value];
  // The key each vendor's simulator accepts; a vendor without one here fails to compile.
  const seeded: Record<Vendor, object> = {
    aliyun: SIMULATOR_DEFAULT_KEYS.aliyun,
    ucloud: { ...SIMULATOR_DEFAULT_KEYS.ucloud, projectId: options.ucloudProjectId },
    tencent: SIMULATOR_DEFAULT_KEYS.tencent,
  };
  for (const vendor of VENDORS) ssm.put(options.keyParameters[vendor], seeded[vendor]);
  if (options.policyParameter !== undefined) ssm.put(options.policyParameter, localCallerPolicy(operations));
  const endpoints = endpointsAt(operations, sim.url);
  const roles = localRoleArns(operations);
  const awsEnv: Record<string, string> = {
    AWS_ENDPOINT_URL_SSM: ssm.url,
    AWS_ENDPOINT_URL_SQS: sqs.url,
    AWS_ENDPOINT_URL_KMS: kms.url,
    ...(table && { AWS_ENDPOINT_URL_DYNAMODB: table.url }),
    AWS_REGION: options.region ?? 'ap-southeast-1',
    AWS_ACCESS_KEY_ID: 'fake-ssm-access-key',
    AWS_SECRET_ACCESS_KEY: 'fake-ssm-secret-key',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  return {
    sim,
    ssm,
    sqs,
    kms,
    table,
    operations,
    endpoints,
    roles,
    awsEnv,
    env: {
      ...awsEnv,
      ...Object.fromEntries(VENDORS.map((vendor) => [keysParameterVariable(vendor), options.keyParameters[vendor]])),
      ...endpoints,
      ...roles,
      ...(table && { TOKEN_TABLE: table.tableName, TOKEN_KEY_ID: options.tokenKeyAlias ?? LOCAL_TOKEN_KEY_ALIAS }),
      ...(options.policyParameter !== undefined && { POLICY_PARAMETER: options.policyParameter }),
    },
    async close() {
      await Promise.all([sim.close(), ssm.close(), sqs.close(), kms.close(), table?.close()]);
    },
  };
}
