// serverless.yml's `functions:`, one per operation of the registry (lib/operations/).
//
// Each function runs its own zip (.serverless/<functionName>.zip, made by
// scripts/package-artifacts.mjs) with its own role (infra/roles.cjs), and gets one event per
// trigger of its spec:
//   http        → the HTTP API route `POST <route>`, behind the stage's authorizer;
//   schedule    → an EventBridge schedule sending {"rotate": [<body>, ...]}, from the stage params
//                 <fn>RotationRate (default: the spec's rate), <fn>RotationEnabled (true) and
//                 <fn>Rotate ([]), <fn> being the camelCase functionName;
//   sqs         → its own queue (infra/queues.cjs) with partial batch responses; stage params
//                 <fn>BatchSize (5) and <fn>MaxConcurrency (2); and DEAD_LETTER_QUEUE in its
//                 environment: its dead-letter queue's name, a literal (serverless-offline, under
//                 `npm start`, cannot resolve a Ref), where it sends messages refused for good;
//   eventbridge → nothing here: the function accepts events put to it directly, and its SQS
//                 queue is what an EventBridge rule feeds.
// Each master-key rotation of the rotation registry (lib/rotation/index.ts) gets its function
// `<vendor>-rotate-master-key` too (docs/contracts.md, "Master-key rotation"): its own role, a 60 s
// timeout (its lock, ROTATION_LOCK_SECONDS, is twice that), and one schedule per vendor account
// sending {"rotateMasterKey": "scheduled"} (with "account": "<name>" for an account besides
// default) at the stage param <fn>Rate (default rate(1 hour): retire goes on
// at the next run after KEYS_CACHE_SECONDS plus a margin, and after the grace), switched off with
// <fn>Enabled: false. Its environment adds the stage params masterKeyMaxAgeDays (90) and
// masterKeyGraceSeconds (86400), the key parameters' KMS key (keysKmsKeyAlias), and the vendor's
// endpoints no operation calls (its key API's host: TENCENT_CAM_ENDPOINT).
// An operation that assumes a role (a spec's `assumesRole`, the STS operations) gets that role's
// ARN in its environment, from the stage param named after the variable (ALIYUN_STS_ROLE_ARN →
// aliyunStsRoleArn); unset, the variable is empty and the route answers 503 ConfigurationError.
'use strict';

const {
  configDefault,
  configParam,
  operations,
  ids,
  params,
  rotations,
  stageNames,
  stageParams,
  triggersOf,
  vendorAccounts,
} = require('./registry.cjs');

const HANDLER = 'index.handler';

/** The bodies a schedule keeps fresh: a list whose JSON osls can template into the rule's Input. */
function rotateList(name, value) {
  if (!Array.isArray(value)) throw new Error(`stage param ${name} must be a list of request bodies`);
  // osls writes the Input by string templating, escaping only `"`: an escape inside a value breaks it.
  if (JSON.stringify(value).includes('\\')) throw new Error(`stage param ${name}: values must not contain " or \\ or control characters`);
  return value;
}

module.exports = async ({ resolveVariable }) => {
  const param = stageParams(resolveVariable);
  const names = await stageNames(resolveVariable);
  const functions = {};
  for (const op of await operations()) {
    const events = [];
    /** Variables of this function only, on top of provider.environment (infra/environment.cjs). */
    const environment = {};
    for (const trigger of op.triggers) {
      switch (trigger.kind) {
        case 'http':
          events.push({
            httpApi: {
              method: 'POST',
              path: op.route,
              // custom.routeAuthorizer in serverless.yml, picked by the `authorizer` param.
              authorizer: '${self:custom.routeAuthorizer.${param:authorizer}}',
            },
          });
          break;
        case 'schedule':
          if (triggersOf(op, 'schedule').length > 1) throw new Error(`${op.functionName}: more than one schedule trigger`);
          events.push({
            schedule: {
              rate: [await param(params.rotationRate(op), { fallback: trigger.rate })],
              enabled: await param(params.rotationEnabled(op), { fallback: true, as: 'boolean' }),
              input: { rotate: rotateList(params.rotate(op), await param(params.rotate(op), { fallback: [], as: 'json' })) },
            },
          });
          break;
        case 'sqs':
          events.push({
            sqs: {
              arn: { 'Fn::GetAtt': [ids.queue(op), 'Arn'] },
              batchSize: await param(params.batchSize(op), { fallback: 5, as: 'number' }),
              maximumConcurrency: await param(params.maxConcurrency(op), { fallback: 2, as: 'number' }),
              functionResponseType: 'ReportBatchItemFailures',
            },
          });
          environment.DEAD_LETTER_QUEUE = names.deadLetterQueue(op);
          break;
        case 'eventbridge':
          break;
        default:
          throw new Error(`${op.functionName}: no deployment for trigger kind "${trigger.kind}"`);
      }
    }
    if (op.triggers.some((trigger) => trigger.kind !== 'http')) {
      // Events have no caller whose policy rule could choose an account: the stage may name one.
      const account = await param(params.eventAccount(op), { fallback: '' });
      if (account !== '' && account !== 'default') {
        if (!(await vendorAccounts(resolveVariable, op.vendor)).includes(account)) {
          throw new Error(`stage param ${params.eventAccount(op)}: ${account} is not one of the accounts ${op.vendor}Accounts lists`);
        }
        environment.EVENT_ACCOUNT = account;
      }
    }
    if (op.assumesRole !== undefined) {
      const variable = op.assumesRole.roleArn;
      environment[variable] = await param(await configParam(variable), { fallback: '' });
    }
    functions[op.functionName] = {
      handler: HANDLER,
      description: op.summary,
      role: ids.role(op),
      package: { artifact: `.serverless/${op.functionName}.zip` },
      events,
      ...(Object.keys(environment).length > 0 && { environment }),
    };
  }
  const opEndpoints = new Set((await operations()).map((op) => op.endpoint));
  for (const rotation of await rotations()) {
    const environment = {
      ROTATION_MAX_KEY_AGE_DAYS: String(await param('masterKeyMaxAgeDays', { fallback: 90, as: 'number' })),
      ROTATION_GRACE_SECONDS: String(await param('masterKeyGraceSeconds', { fallback: 86_400, as: 'number' })),
      ROTATION_KEYS_KMS_KEY_ID: '${param:keysKmsKeyAlias}',
    };
    // Its vendor's hosts that provider.environment lacks (only the operations' endpoints are there).
    for (const variable of Object.keys(rotation.api.settings.shape)
      .filter((name) => name.endsWith('_ENDPOINT') && !opEndpoints.has(name))
      .sort()) {
      environment[variable] = await param(await configParam(variable), { fallback: await configDefault(variable) });
    }
    functions[rotation.functionName] = {
      handler: HANDLER,
      description: `Rotates the ${rotation.title} master key (docs/contracts.md, "Master-key rotation")`,
      role: ids.role(rotation),
      timeout: 60,
      package: { artifact: `.serverless/${rotation.functionName}.zip` },
      // One schedule per configured account: each account's key rotates, fails and alarms on its own.
      events: await Promise.all(
        (await vendorAccounts(resolveVariable, rotation.vendor)).map(async (account) => ({
          schedule: {
            rate: [await param(params.masterKeyRate(rotation), { fallback: 'rate(1 hour)' })],
            enabled: await param(params.masterKeyEnabled(rotation), { fallback: true, as: 'boolean' }),
            input: { rotateMasterKey: 'scheduled', ...(account !== 'default' && { account }) },
          },
        })),
      ),
      environment,
    };
  }
  return functions;
};
