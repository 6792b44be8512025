// What the generators in infra/ share: the operation registry (lib/operations/index.ts), the
// vendor registry (lib/vendor/index.ts), the names derived from them, and reading stage params
// with a default.
//
// serverless.yml includes the generators with `${file(./infra/<name>.cjs)}`: osls requires the
// file and calls its exported function with { options, resolveVariable, resolveConfigurationProperty }.
// Strings in what a generator returns may still hold ${...} variables (${sls:stage},
// ${self:service}, ${param:...}); osls resolves them as it does in serverless.yml itself.
// Nothing here may touch the network: `npm run package` runs offline.
'use strict';

const SERVICE_PREFIX = '/cloud-token-broker';

/** @type {Promise<{ operations: any[], vendors: any[], configDefaults: Record<string, unknown> }> | undefined} */
let loading;

/** The registries and the broker's configuration defaults (its own and every vendor's), loaded once per osls run. */
function load() {
  loading ??= (async () => {
    // The registries are TypeScript: tsx's API loads them (and what they import) in this process.
    const { tsImport } = await import('tsx/esm/api');
    const [{ loadOperations }, { loadVendors, vendorDefaults }, { configDefaults, stageParamName }, { loadRotations }] = await Promise.all([
      tsImport('../lib/operations/index.ts', __filename),
      tsImport('../lib/vendor/index.ts', __filename),
      tsImport('../lib/core/config.ts', __filename),
      tsImport('../lib/rotation/index.ts', __filename),
    ]);
    const vendors = await loadVendors();
    return {
      operations: await loadOperations(),
      rotations: (await loadRotations()).map(({ functionName, vendor, api }) => ({
        functionName,
        vendor,
        title: api.vendor.title,
        api: api.vendor,
      })),
      vendors,
      configDefaults: { ...configDefaults(), ...vendorDefaults(vendors) },
      stageParamName,
    };
  })();
  return loading;
}

/** Every operation spec, sorted by functionName. */
async function operations() {
  return (await load()).operations;
}

/**
 * Every master-key rotation (lib/rotation/index.ts): one `<vendor>-rotate-master-key` function per
 * vendor key API, as { functionName, vendor, title, api } (api: the vendor's adapter), sorted by vendor.
 */
async function rotations() {
  return (await load()).rotations;
}

/** Every vendor (lib/vendor/<vendor>.ts, defineVendor), sorted by name. */
async function vendors() {
  return (await load()).vendors;
}

/** The broker's default for a configuration variable (lib/core/config.ts, or a vendor's settings), e.g. an endpoint's URL. */
async function configDefault(variable) {
  const value = (await load()).configDefaults[variable];
  if (value === undefined) throw new Error(`neither lib/core/config.ts nor a vendor's settings have a default for ${variable}`);
  return String(value);
}

const upperFirst = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);
const lowerFirst = (s) => (s ? s[0].toLowerCase() + s.slice(1) : s);

/** `cams-get-upload-authorization` → `CamsGetUploadAuthorization` (resource logical ids). */
const pascal = (name) =>
  name
    .split(/[-_]/)
    .map((part) => upperFirst(part.toLowerCase()))
    .join('');

/** `cams-get-upload-authorization` → `camsGetUploadAuthorization`; `ALIYUN_CAMS_ENDPOINT` → `aliyunCamsEndpoint` (stage params). */
const camel = (name) => lowerFirst(pascal(name));

const triggersOf = (op, kind) => op.triggers.filter((t) => t.kind === kind);
const hasTrigger = (op, kind) => triggersOf(op, kind).length > 0;

/** Logical ids: the ones osls makes for a function, and the ones infra/ makes per operation. */
const ids = {
  /** osls's own: `bpstudio-get-token` → `BpstudioDashgetDashtokenLambdaFunction`. */
  lambda: (op) => `${upperFirst(op.functionName.replace(/-/g, 'Dash').replace(/_/g, 'Underscore'))}LambdaFunction`,
  role: (op) => `${pascal(op.functionName)}Role`,
  queue: (op) => `${pascal(op.functionName)}Queue`,
  deadLetterQueue: (op) => `${pascal(op.functionName)}DeadLetterQueue`,
  /** Where the EventBridge rule puts an event it could not deliver to the queue (infra/queues.cjs). */
  eventDeadLetterQueue: (op) => `${pascal(op.functionName)}EventDeadLetterQueue`,
  eventDeadLetterQueuePolicy: (op) => `${pascal(op.functionName)}EventDeadLetterQueuePolicy`,
  /** osls's own: `bpstudio-get-token` → `BpstudioDashgetDashtokenLogGroup`. */
  logGroup: (op) => `${upperFirst(op.functionName.replace(/-/g, 'Dash').replace(/_/g, 'Underscore'))}LogGroup`,
  /** osls's own: the HTTP API's stage and its access log group (provider.logs.httpApi). */
  httpApiStage: 'HttpApiStage',
  httpApiLogGroup: 'HttpApiLogGroup',
  queueRule: (op) => `${pascal(op.functionName)}QueueRule`,
  queuePolicy: (op) => `${pascal(op.functionName)}QueuePolicy`,
  /** The stage's event bus (one, for every queue). */
  eventBus: 'EventBus',
  /** The token table (one, shared by the functions, each confined to its own items). */
  table: 'TokenTable',
  /** The KMS key whose data keys seal the token items (infra/table.cjs, lib/state/token-seal.ts). */
  tokenKey: 'TokenKey',
  tokenKeyAlias: 'TokenKeyAlias',
  /** The stage's CloudWatch dashboard (infra/dashboard.cjs). */
  dashboard: 'Dashboard',
};

/** Names things have in the stage (not logical ids): what the dashboard and alarms refer to. */
async function stageNames(resolveVariable) {
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  return {
    service,
    stage,
    /** The broker's own metrics (EMF on its log lines, lib/core/metrics.ts): serverless.yml's custom.metricsNamespace. */
    namespace: await resolveVariable('self:custom.metricsNamespace'),
    /** osls's name for the function of an operation. */
    function: (op) => `${service}-${stage}-${op.functionName}`,
    logGroup: (op) => `/aws/lambda/${service}-${stage}-${op.functionName}`,
    /** infra/queues.cjs's names. */
    queue: (op) => `${service}-${stage}-${op.functionName}`,
    deadLetterQueue: (op) => `${service}-${stage}-${op.functionName}-dlq`,
    eventDeadLetterQueue: (op) => `${service}-${stage}-${op.functionName}-events-dlq`,
  };
}

/**
 * Whether the stage is a production one, whose dead-letter queues and log groups outlive the
 * stack (DeletionPolicy and UpdateReplacePolicy Retain): the stage param `retain`, which
 * serverless.yml sets true for `prod` and false by default.
 */
async function retained(resolveVariable) {
  return stageParams(resolveVariable)('retain', { fallback: false, as: 'boolean' });
}

/** The attributes that keep a resource when the stack deletes or replaces it; none when `retain` is false. */
const RETAIN = { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' };
const retainPolicy = (retain) => (retain ? RETAIN : {});

/** An EventBridge `rate(…)` in seconds; undefined for a cron() expression. */
function rateSeconds(expression) {
  const match = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(String(expression).trim());
  if (!match) return undefined;
  return Number(match[1]) * { minute: 60, hour: 3600, day: 86400 }[match[2]];
}

/** Whether an operation keeps state in the token table: tokens (it returns credentials) or rate slots. */
const usesTable = (op) => op.expiresAt !== undefined || op.ratePerSecond !== undefined;

/** The stage param that sets a configuration variable (lib/core/config.ts names it). */
async function configParam(variable) {
  return (await load()).stageParamName(variable);
}

/** Stage param names derived from an operation. */
const params = {
  rotationRate: (op) => `${camel(op.functionName)}RotationRate`,
  rotationEnabled: (op) => `${camel(op.functionName)}RotationEnabled`,
  rotate: (op) => `${camel(op.functionName)}Rotate`,
  batchSize: (op) => `${camel(op.functionName)}BatchSize`,
  maxConcurrency: (op) => `${camel(op.functionName)}MaxConcurrency`,
  maxReceiveCount: (op) => `${camel(op.functionName)}MaxReceiveCount`,
  eventSource: (op) => `${camel(op.functionName)}EventSource`,
  eventDetailType: (op) => `${camel(op.functionName)}EventDetailType`,
  /** The vendor account of the function's events, schedules and messages (EVENT_ACCOUNT); unset: `default`. */
  eventAccount: (op) => `${camel(op.functionName)}EventAccount`,
  /** A rotation function's schedule (`aliyunRotateMasterKeyRate`, default rate(1 hour)) and its switch (`…Enabled`, true). */
  masterKeyRate: (rotation) => `${camel(rotation.functionName)}Rate`,
  masterKeyEnabled: (rotation) => `${camel(rotation.functionName)}Enabled`,
};

/**
 * Reads stage params for a generator. A param that is not set (in `params:` for the stage or
 * `default`, or with --param) takes `fallback`; without a fallback it is an error naming the
 * param. Values given with --param arrive as strings: `as` turns them into what the template
 * needs ('string', 'number', 'boolean' or 'json', e.g. a list).
 */
/** What an account name may be (lib/access/account.ts ACCOUNT_NAME). */
const ACCOUNT_NAME = /^[a-z0-9-]{1,32}$/;

/**
 * A vendor's accounts in the stage: `default` and those its stage param lists
 * (`aliyunAccounts: acme,globex`, the variable ALIYUN_ACCOUNTS; docs/deploy.md). A wrong name
 * fails the package, as it would fail the function's configuration.
 */
async function vendorAccounts(resolveVariable, vendor) {
  const name = await configParam(`${vendor.toUpperCase()}_ACCOUNTS`);
  const listed = String(await stageParams(resolveVariable)(name, { fallback: '' }))
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  for (const account of listed) {
    if (!ACCOUNT_NAME.test(account))
      throw new Error(`stage param ${name}: ${JSON.stringify(account)} is no account name (a-z 0-9 -, 1 to 32)`);
  }
  return [...new Set(['default', ...listed])];
}

function stageParams(resolveVariable) {
  return async function param(name, { fallback, as = 'string' } = {}) {
    let value = await resolveVariable(`param:${name}, null`);
    if (value === null || value === undefined) {
      if (fallback === undefined) throw new Error(`stage param ${name} is not set: add it to params.default in serverless.yml`);
      value = fallback;
    }
    return convert(name, value, as);
  };
}

function convert(name, value, as) {
  const wrong = () => new Error(`stage param ${name}: expected a ${as}, got ${JSON.stringify(value)}`);
  switch (as) {
    case 'string':
      if (typeof value !== 'string') throw wrong();
      return value;
    case 'number': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isFinite(number)) throw wrong();
      return number;
    }
    case 'boolean':
      if (value === 'true' || value === 'false') return value === 'true';
      if (typeof value !== 'boolean') throw wrong();
      return value;
    case 'json':
      if (typeof value !== 'string') return value;
      try {
        return JSON.parse(value);
      } catch {
        throw wrong();
      }
    default:
      throw new Error(`unknown param type ${as}`);
  }
}

/** `!Sub` of an ARN in this account and region. */
const arn = (service, resource) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${resource}` });

module.exports = {
  SERVICE_PREFIX,
  vendorAccounts,
  configParam,
  operations,
  rotations,
  vendors,
  configDefault,
  pascal,
  camel,
  triggersOf,
  hasTrigger,
  usesTable,
  ids,
  params,
  stageParams,
  stageNames,
  rateSeconds,
  retained,
  retainPolicy,
  arn,
};
