// One IAM role per function, each allowed only what its function does (least privilege).
// osls cannot give functions their own iamRoleStatements, so the roles are made here, one per
// operation of the registry, and each function names its role with `role:` (infra/functions.cjs);
// osls then creates no shared IamRoleLambdaExecution at all.
//
// Every role may:
//   - write its own function's log group (what AWSLambdaBasicExecutionRole grants, scoped; osls
//     creates the log group itself, so logs:CreateLogGroup is not needed);
//   - read its vendor's master-key parameter, /cloud-token-broker/<stage>/keys/<vendor>, and that of
//     each account the stage lists (<vendor>Accounts: …/keys/<vendor>/<account>, each by its exact
//     name, never a wildcard that would cover other names under the vendor's path), and the
//     caller-policy parameter, /cloud-token-broker/<stage>/policy (read only when the stage param
//     callerPolicy is `enabled`). @middy/ssm reads with GetParameters; GetParameter is allowed too;
//   - have SSM decrypt them with KMS (see "KMS" below).
// An operation that keeps shared state (it returns credentials, or has a vendor rate) may also
// get, put and update the items of the token table (infra/table.cjs) whose pk begins with its own
// function's file name and `#` (dynamodb:LeadingKeys), and, when the table has a customer managed
// key (tokenTableKmsKeyArn), use that key through DynamoDB only; and make and open the data keys
// that seal its token items (lib/state/token-seal.ts) with the stage's token key, in its own encryption
// context only (kms:EncryptionContext:function equal to its function's file name): a role cannot
// open another function's data keys. An operation with an sqs trigger
// may also consume its own queue (infra/queues.cjs) and look up and send to its own dead-letter
// queue (lib/runtime/triggers/dead-letter.ts: GetQueueUrl once, SendMessage per refused message); the queues are
// encrypted with SQS's own keys (SqsManagedSseEnabled), so no kms: grant goes with it. With the
// stage param tracing: Active, every role may also write X-Ray segments (what osls would add to
// its own shared role, which the functions do not use; X-Ray has no resource-level permissions,
// hence Resource "*").
//
// KMS. A SecureString is decrypted by SSM calling KMS on the caller's behalf, so every kms:
// statement carries `kms:ViaService: ssm.<region>.amazonaws.com`: the role cannot use the key
// directly, only through SSM. An alias cannot be the Resource of kms:Decrypt (the statement would
// apply to the alias, not to the key behind it), and the key id of the AWS managed key aws/ssm
// differs per account and region, so the Resource is the account's keys in this region and the
// key is pinned with the `kms:ResourceAliases` condition: the keysKmsKeyAlias stage param
// (default alias/aws/ssm; set it to your customer managed key's alias if the key parameters use
// one). With the AWS managed key aws/ssm the key policy already lets SSM users of the account use it through SSM; these
// statements then add nothing, and they are what a customer managed key needs.
'use strict';

const {
  SERVICE_PREFIX,
  arn,
  hasTrigger,
  ids,
  operations,
  pascal,
  rotations,
  stageParams,
  usesTable,
  vendorAccounts,
} = require('./registry.cjs');

const STAGE_PREFIX = `${SERVICE_PREFIX}/\${sls:stage}`;
const READ_PARAMETER = ['ssm:GetParameters', 'ssm:GetParameter'];
/** What the shared-state code does to its items (lib/state/token-table.ts, lib/state/token-lease.ts, lib/state/rate-budget.ts). */
const TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
const ANY_KEY_IN_REGION = arn('kms', 'key/*');

/** KMS through SSM only, on the key behind `alias`. */
const viaSsm = (alias) => ({
  StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' } },
  'ForAnyValue:StringEquals': { 'kms:ResourceAliases': alias },
});

/** Lambda's own tracing modes (provider.tracing.lambda in serverless.yml). */
const TRACING_MODES = ['PassThrough', 'Active'];

/** The key parameters of a vendor's accounts: `default`'s alone stays one ARN, as it always was. */
function keyParameters(vendor, accounts) {
  const names = accounts.map((account) => `parameter${STAGE_PREFIX}/keys/${vendor}${account === 'default' ? '' : `/${account}`}`);
  return names.length === 1 ? arn('ssm', names[0]) : names.map((name) => arn('ssm', name));
}

function statements(op, tableKeyArn, tracing, accounts) {
  const list = [
    {
      Sid: 'OwnLogGroup',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: arn('logs', `log-group:/aws/lambda/\${self:service}-\${sls:stage}-${op.functionName}:*`),
    },
    {
      Sid: `Read${pascal(op.vendor)}Keys`,
      Effect: 'Allow',
      Action: READ_PARAMETER,
      Resource: keyParameters(op.vendor, accounts),
    },
    {
      Sid: 'ReadCallerPolicy',
      Effect: 'Allow',
      Action: READ_PARAMETER,
      Resource: arn('ssm', `parameter${STAGE_PREFIX}/policy`),
    },
    {
      Sid: 'DecryptKeysViaSsm',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: ANY_KEY_IN_REGION,
      Condition: viaSsm('${param:keysKmsKeyAlias}'),
    },
  ];
  if (usesTable(op)) {
    list.push({
      Sid: 'OwnTableItems',
      Effect: 'Allow',
      Action: TABLE_ACTIONS,
      Resource: { 'Fn::GetAtt': [ids.table, 'Arn'] },
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${op.functionName}#*`] } },
    });
    // Only an operation that returns credentials stores tokens (a rate alone needs no data key).
    if (op.expiresAt !== undefined)
      list.push({
        Sid: 'OwnTokenDataKeys',
        Effect: 'Allow',
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: { 'Fn::GetAtt': [ids.tokenKey, 'Arn'] },
        Condition: { StringEquals: { 'kms:EncryptionContext:function': op.functionName } },
      });
    if (tableKeyArn) {
      list.push({
        Sid: 'TableKeyViaDynamoDb',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: tableKeyArn,
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'dynamodb.${AWS::Region}.amazonaws.com' } } },
      });
    }
  }
  if (tracing === 'Active') {
    list.push({ Sid: 'WriteTraces', Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' });
  }
  if (hasTrigger(op, 'sqs')) {
    // The Lambda event source mapping polls with the function's role.
    list.push({
      Sid: 'ConsumeOwnQueue',
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
      Resource: { 'Fn::GetAtt': [ids.queue(op), 'Arn'] },
    });
    // A message refused for good goes to the dead-letter queue at once, with its reason.
    list.push({
      Sid: 'DeadLetterToOwnQueue',
      Effect: 'Allow',
      Action: ['sqs:GetQueueUrl', 'sqs:SendMessage'],
      Resource: { 'Fn::GetAtt': [ids.deadLetterQueue(op), 'Arn'] },
    });
  }
  return list;
}

/**
 * A rotation function's statements (lib/rotation/): its log group; read and overwrite its own
 * vendor's key parameters only (one per configured account: `default`'s, then
 * `<key parameter>/<account>`), and read, write and delete the pending key beside each
 * (`<account's key parameter>/_pending`); KMS through SSM on the key parameters' key, to decrypt and to
 * encrypt what it writes; get and update its own items of the table (dynamodb:LeadingKeys on its
 * function's name); traces when the stage traces.
 */
/** One resource as itself (as a stage without accounts always had it), several as a list. */
function oneOrList(resources) {
  return resources.length === 1 ? resources[0] : resources;
}

function rotationStatements(rotation, tracing, accounts) {
  const base = `parameter${STAGE_PREFIX}/keys/${rotation.vendor}`;
  const keys = accounts.map((account) => (account === 'default' ? base : `${base}/${account}`));
  const list = [
    {
      Sid: 'OwnLogGroup',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: arn('logs', `log-group:/aws/lambda/\${self:service}-\${sls:stage}-${rotation.functionName}:*`),
    },
    {
      Sid: `RotateOwn${pascal(rotation.vendor)}Keys`,
      Effect: 'Allow',
      Action: ['ssm:GetParameter', 'ssm:PutParameter'],
      Resource: oneOrList(keys.map((key) => arn('ssm', key))),
    },
    {
      Sid: 'OwnPendingKey',
      Effect: 'Allow',
      Action: ['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter'],
      Resource: oneOrList(keys.map((key) => arn('ssm', `${key}/_pending`))),
    },
    {
      Sid: 'KeysViaSsm',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      Resource: ANY_KEY_IN_REGION,
      Condition: viaSsm('${param:keysKmsKeyAlias}'),
    },
    {
      Sid: 'OwnTableItems',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      Resource: { 'Fn::GetAtt': [ids.table, 'Arn'] },
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${rotation.functionName}#*`] } },
    },
  ];
  if (tracing === 'Active') {
    list.push({ Sid: 'WriteTraces', Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' });
  }
  return list;
}

module.exports = async ({ resolveVariable }) => {
  const param = stageParams(resolveVariable);
  const tableKeyArn = await param('tokenTableKmsKeyArn', { fallback: '' });
  const tracing = await param('tracing', { fallback: 'PassThrough' });
  if (!TRACING_MODES.includes(tracing)) throw new Error(`stage param tracing: expected ${TRACING_MODES.join(' or ')}, got ${tracing}`);
  const Resources = {};
  const accountsOf = new Map();
  for (const op of await operations()) {
    if (!accountsOf.has(op.vendor)) accountsOf.set(op.vendor, await vendorAccounts(resolveVariable, op.vendor));
    Resources[ids.role(op)] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `cloud-token-broker \${sls:stage} ${op.functionName}`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
        Policies: [
          {
            PolicyName: op.functionName,
            PolicyDocument: { Version: '2012-10-17', Statement: statements(op, tableKeyArn, tracing, accountsOf.get(op.vendor)) },
          },
        ],
      },
    };
  }
  for (const rotation of await rotations()) {
    Resources[ids.role(rotation)] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `cloud-token-broker \${sls:stage} ${rotation.functionName}`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
        Policies: [
          {
            PolicyName: rotation.functionName,
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: rotationStatements(rotation, tracing, await vendorAccounts(resolveVariable, rotation.vendor)),
            },
          },
        ],
      },
    };
  }
  return { Resources };
};
