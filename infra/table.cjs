// The token table: the broker's shared state across Lambda instances (docs/contracts.md,
// "Shared state"): current tokens, refresh leases and vendor rate slots, one item each.
//   - partition key `pk` (String) only; every item's pk begins with its function's file name
//     and `#`, which the roles enforce with dynamodb:LeadingKeys (infra/roles.cjs);
//   - TTL on `ttl` (epoch seconds): the table cleans itself;
//   - on-demand billing; encrypted with an AWS owned key, or with the customer managed key of
//     the stage param tokenTableKmsKeyArn when it is set.
// With it, the KMS key that seals its token items (lib/state/token-seal.ts): a customer managed
// symmetric key with yearly rotation, aliased alias/cloud-token-broker-<stage>-tokens (the
// functions' TOKEN_KEY_ID, serverless.yml); its key policy gives the account root admin (the
// standard policy, so IAM policies decide), and each function's role may make and open data
// keys with it in its own encryption context only (infra/roles.cjs).
// Made only when some operation of the registry uses it (returns credentials, or has a rate).
'use strict';

const { ids, operations, stageParams, usesTable } = require('./registry.cjs');

module.exports = async ({ resolveVariable }) => {
  const Resources = {};
  const Outputs = {};
  if (!(await operations()).some(usesTable)) return { Resources, Outputs };
  const param = stageParams(resolveVariable);
  const kmsKeyArn = await param('tokenTableKmsKeyArn', { fallback: '' });
  Resources[ids.table] = {
    Type: 'AWS::DynamoDB::Table',
    // Tokens are short-lived and fetched again on a miss: nothing to keep when the stack goes.
    DeletionPolicy: 'Delete',
    UpdateReplacePolicy: 'Delete',
    Properties: {
      TableName: '${self:service}-${sls:stage}-tokens',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      SSESpecification: kmsKeyArn ? { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: kmsKeyArn } : { SSEEnabled: false },
    },
  };
  Resources[ids.tokenKey] = {
    Type: 'AWS::KMS::Key',
    // The items it seals are short-lived and fetched again when they do not open: nothing to keep.
    DeletionPolicy: 'Delete',
    UpdateReplacePolicy: 'Delete',
    Properties: {
      Description: 'cloud-token-broker ${sls:stage}: seals the token items (data keys per function)',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      EnableKeyRotation: true,
      PendingWindowInDays: 7,
      KeyPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AccountAdministersAndIamDecides',
            Effect: 'Allow',
            Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } },
            Action: 'kms:*',
            Resource: '*',
          },
        ],
      },
    },
  };
  Resources[ids.tokenKeyAlias] = {
    Type: 'AWS::KMS::Alias',
    Properties: { AliasName: 'alias/${self:service}-${sls:stage}-tokens', TargetKeyId: { Ref: ids.tokenKey } },
  };
  Outputs[`${ids.table}Name`] = { Description: 'The token table (TOKEN_TABLE)', Value: { Ref: ids.table } };
  Outputs[`${ids.tokenKey}Arn`] = {
    Description: 'The key that seals the token items (TOKEN_KEY_ID is its alias)',
    Value: { 'Fn::GetAtt': [ids.tokenKey, 'Arn'] },
  };
  return { Resources, Outputs };
};
