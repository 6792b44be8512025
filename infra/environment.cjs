// provider.environment: custom.environment of serverless.yml, plus what the operations of the
// registry derive:
//   - one key parameter per vendor they call, named after the vendor: <VENDOR>_KEYS_PARAMETER =
//     /cloud-token-broker/<stage>/keys/<vendor> (lib/vendor/keys.ts keysParameterVariable; the very
//     parameter infra/roles.cjs lets that vendor's functions read);
//   - the settings of those vendors (VENDOR_SETTINGS: TENCENT_REGION for Tencent Cloud);
//   - one variable per vendor endpoint they call (each spec's `endpoint`, e.g. ALIYUN_CAMS_ENDPOINT).
// A setting's or an endpoint's value is the stage param named after the variable in camelCase
// (ALIYUN_CAMS_ENDPOINT → aliyunCamsEndpoint, TENCENT_REGION → tencentRegion), by default the
// broker's own default (lib/core/config.ts).
'use strict';

const { SERVICE_PREFIX, configDefault, configParam, operations, stageParams } = require('./registry.cjs');

/** Configuration variables a vendor's operations read besides their keys and endpoints. */
const VENDOR_SETTINGS = { tencent: ['TENCENT_REGION'] };

module.exports = async ({ resolveConfigurationProperty, resolveVariable }) => {
  const param = stageParams(resolveVariable);
  const environment = { ...((await resolveConfigurationProperty(['custom', 'environment'])) ?? {}) };
  const set = (variable, value) => {
    if (variable in environment) throw new Error(`custom.environment sets ${variable}, which comes from the registry`);
    environment[variable] = value;
  };
  const ops = await operations();
  const fromParam = async (variable) => param(await configParam(variable), { fallback: await configDefault(variable) });
  for (const vendor of [...new Set(ops.map((op) => op.vendor))].sort()) {
    set(`${vendor.toUpperCase()}_KEYS_PARAMETER`, `${SERVICE_PREFIX}/\${sls:stage}/keys/${vendor}`);
    for (const variable of VENDOR_SETTINGS[vendor] ?? []) set(variable, await fromParam(variable));
  }
  for (const variable of [...new Set(ops.map((op) => op.endpoint))].sort()) set(variable, await fromParam(variable));
  return environment;
};
