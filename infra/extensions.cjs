// What infra/ adds to resources osls makes itself (resources.extensions: osls merges these
// properties and attributes into its own resources of the same logical id):
//   - the HTTP API's stage (HttpApiStage): default route throttling from the stage params
//     throttleBurstLimit and throttleRateLimit, on for every stage (osls sets only detailed
//     metrics there);
//   - on a production stage (stage param `retain`, true for `prod`): DeletionPolicy and
//     UpdateReplacePolicy Retain on every function's log group (the rotation functions' too) and the HTTP API's access log
//     group, so deleting or replacing the stack keeps the record of what happened. The
//     dead-letter queues, which infra/queues.cjs makes, get the same there.
'use strict';

const { ids, operations, retained, retainPolicy, rotations, stageParams } = require('./registry.cjs');

/** A throttle param as a number within API Gateway's bounds (the account's quota is the real ceiling). */
async function limit(param, name, { integer }) {
  const value = await param(name, { as: 'number' });
  if (!(value > 0) || (integer && !Number.isInteger(value))) {
    throw new Error(`stage param ${name}: expected a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  }
  return value;
}

module.exports = async ({ resolveVariable }) => {
  const param = stageParams(resolveVariable);
  const extensions = {
    [ids.httpApiStage]: {
      Properties: {
        // Replaces osls's DefaultRouteSettings whole, so its one setting is repeated here.
        DefaultRouteSettings: {
          DetailedMetricsEnabled: false,
          ThrottlingBurstLimit: await limit(param, 'throttleBurstLimit', { integer: true }),
          ThrottlingRateLimit: await limit(param, 'throttleRateLimit', { integer: false }),
        },
      },
    },
  };
  const retain = retainPolicy(await retained(resolveVariable));
  if (Object.keys(retain).length > 0) {
    extensions[ids.httpApiLogGroup] = { ...retain };
    for (const op of await operations()) extensions[ids.logGroup(op)] = { ...retain };
    for (const rotation of await rotations()) extensions[ids.logGroup(rotation)] = { ...retain };
  }
  return { extensions };
};
