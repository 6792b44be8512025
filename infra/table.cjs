// The token table: the broker's shared state across Lambda instances (docs/contracts.md,
// "Shared state"): current tokens, refresh leases and vendor rate slots, one item each.
//   - partition key `pk` (String) only; every item's pk begins with its function's file name
//     and `#`, which the roles enforce with dynamodb:LeadingKeys (infra/roles.cjs);
//   - TTL on `ttl` (epoch seconds): the table cleans itself;
//   - on-demand billing; encrypted with an AWS owned key, or with the customer managed key of
//     the stage param tokenTableKmsKeyArn when it is set.
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
  Outputs[`${ids.table}Name`] = { Description: 'The token table (TOKEN_TABLE)', Value: { Ref: ids.table } };
  return { Resources, Outputs };
};
