/**
 * The local world's wiring: a vendor simulator, a fake SSM seeded with keys, a fake SQS
 * holding the dead-letter queues, a fake KMS whose key seals the token items, and the variables that point the broker at them. Which endpoint variables exist is read from the
 * operation registry (lib/operations), and which vendors there are from the vendor registry
 * (lib/vendor) with each one's local side (sim/vendors), never listed here, so a new
 * operation or vendor is wired as soon as its files exist. Used by `npm start`,
 * scripts/measure-paths.ts and the tests.
 *
 * The simulator and the fake SSM themselves import nothing from lib/ (they must not share
 * the broker's signing code); only this file does.
 * @module
 */
import * as z from 'zod/mini';
import { loadOperations } from '../lib/operations/index.js';
import type { Operation } from '../lib/spec/operation.js';
import { keysParameterVariable } from '../lib/vendor/api.js';
import { loadVendors } from '../lib/vendor/index.js';
import { type FakeKms, LOCAL_TOKEN_KEY_ALIAS, startFakeKms } from './fake-kms.js';
import { type FakeSqs, startFakeSqs } from './fake-sqs.js';
import { type FakeSsm, startFakeSsm } from './fake-ssm.js';
import { type LocalTable, startLocalTable } from './local-table.js';
import { type SimulatorOptions, startVendorSimulator, type VendorSimulator } from './vendor-simulator.js';
import { loadLocalVendors } from './vendors/index.js';
import type { LocalVendor } from './vendors/types.js';

const VENDORS = await loadVendors();
/** Every vendor's name, from the vendor registry (lib/vendor), sorted. */
export const VENDOR_NAMES: readonly string[] = VENDORS.map((vendor) => vendor.name);
/**
 * Every base-URL variable the vendors declare (`…_ENDPOINT` in their settings), sorted: besides
 * the operations' own, the hosts only the master-key rotation calls (TENCENT_CAM_ENDPOINT).
 */
export const VENDOR_ENDPOINT_VARIABLES: readonly string[] = VENDORS.flatMap((vendor) =>
  Object.keys(vendor.settings.shape).filter((name) => name.endsWith('_ENDPOINT')),
).sort();
/** Each vendor's local side (sim/vendors): its seeded key, local role and session policy, its simulator when not built in. */
const LOCAL_VENDORS = await loadLocalVendors();

/** The local side of `vendor`; a vendor of the registry without one is a missing file in sim/vendors/. */
function localSide(vendor: string): LocalVendor {
  const side = LOCAL_VENDORS.get(vendor);
  if (side === undefined) throw new Error(`the vendor ${vendor} has no local side: add sim/vendors/${vendor}.ts`);
  return side;
}

/** The configuration variables that hold a vendor base URL, one per distinct `op.endpoint`, sorted. */
export function endpointVariables(operations: readonly Operation[]): string[] {
  return [...new Set<string>(operations.map((op) => op.endpoint))].sort();
}

/** The role variable of every operation that assumes a role (`assumesRole`), set to a local role of its vendor. */
export function localRoleArns(operations: readonly Operation[]): Record<string, string> {
  const roles: Record<string, string> = {};
  for (const op of operations) {
    if (op.assumesRole === undefined) continue;
    const arn = localSide(op.vendor).localRoleArn;
    if (arn === undefined) throw new Error(`${op.functionName}: no local role for the vendor ${op.vendor}`);
    roles[op.assumesRole.roleArn] = arn;
  }
  return roles;
}

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
    const sessionPolicy = localSide(op.vendor).localSessionPolicy;
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
export function keyParametersUnder(prefix: string): Record<string, string> {
  return Object.fromEntries(VENDOR_NAMES.map((vendor) => [vendor, `${prefix}/${vendor}`]));
}

export interface LocalWorldOptions {
  /** Where each vendor's seeded master key is stored in the fake SSM (see keyParametersUnder). */
  keyParameters: Record<string, string>;
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

/** Where `vendor`'s key is seeded: options.keyParameters must name one for every vendor. */
function keyParameterOf(options: LocalWorldOptions, vendor: string): string {
  const parameter = options.keyParameters[vendor];
  if (parameter === undefined) throw new Error(`keyParameters names no parameter for the vendor ${vendor} (see keyParametersUnder)`);
  return parameter;
}

/** The simulators of the vendors sim/vendor-simulator.ts does not answer itself. */
function handlers() {
  return VENDOR_NAMES.flatMap((vendor) => localSide(vendor).handler ?? []);
}

/** Starts the simulator, the fake SSM, SQS and KMS and (with a tableName) the local table on loopback; seeds the simulator's keys into SSM. */
export async function startLocalWorld(options: LocalWorldOptions): Promise<LocalWorld> {
  const operations = await loadOperations();
  const started = await Promise.allSettled([
    startVendorSimulator({ ...options.simulator, handlers: handlers() }),
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
  // The key each vendor's simulator accepts, where the broker's variables will look for it.
  for (const vendor of VENDOR_NAMES) ssm.put(keyParameterOf(options, vendor), localSide(vendor).seedKey(options));
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
      ...Object.fromEntries(VENDOR_NAMES.map((vendor) => [keysParameterVariable(vendor), keyParameterOf(options, vendor)])),
      // Every vendor host at the simulator, the operations' own (`endpoints`) and the rotation's.
      ...Object.fromEntries(VENDOR_ENDPOINT_VARIABLES.map((variable) => [variable, sim.url])),
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
