// provider.environment: custom.environment of serverless.yml, plus one variable per vendor
// endpoint the operations of the registry call (each spec's `endpoint`, e.g. ALIYUN_CAMS_ENDPOINT).
// An endpoint's value is the stage param named after the variable in camelCase
// (ALIYUN_CAMS_ENDPOINT → aliyunCamsEndpoint), by default the broker's own default (lib/config.ts).
'use strict';

const { configDefault, endpointParam, operations, stageParams } = require('./registry.cjs');

module.exports = async ({ resolveConfigurationProperty, resolveVariable }) => {
  const param = stageParams(resolveVariable);
  const environment = { ...((await resolveConfigurationProperty(['custom', 'environment'])) ?? {}) };
  const endpoints = [...new Set((await operations()).map((op) => op.endpoint))].sort();
  for (const variable of endpoints) {
    if (variable in environment) throw new Error(`custom.environment sets ${variable}, which comes from the registry`);
    environment[variable] = await param(await endpointParam(variable), { fallback: await configDefault(variable) });
  }
  return environment;
};
