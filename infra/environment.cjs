// provider.environment: custom.environment of serverless.yml, plus what the operations of the
// registry derive, for each vendor they call as its adapter declares it (lib/vendor/<vendor>.ts):
//   - its key parameter, named after the vendor: <VENDOR>_KEYS_PARAMETER =
//     /cloud-token-broker/<stage>/keys/<vendor> (lib/vendor/api.ts keysParameterVariable; the
//     very parameter infra/roles.cjs lets that vendor's functions read);
//   - its deployed settings (the adapter's `deploySettings`: ALIYUN_SIGNATURE, TENCENT_REGION, and
//     each vendor's accounts besides `default`, ALIYUN_ACCOUNTS / TENCENT_ACCOUNTS / UCLOUD_ACCOUNTS,
//     from the stage params aliyunAccounts / tencentAccounts / ucloudAccounts, empty by default);
//   - one variable per vendor endpoint they call (each spec's `endpoint`, e.g. ALIYUN_CAMS_ENDPOINT).
// A setting's or an endpoint's value is the stage param named after the variable in camelCase
// (ALIYUN_CAMS_ENDPOINT → aliyunCamsEndpoint, TENCENT_REGION → tencentRegion), by default the
// adapter's own default.
'use strict';

const { SERVICE_PREFIX, configDefault, configParam, operations, stageParams, vendors } = require('./registry.cjs');

module.exports = async ({ resolveConfigurationProperty, resolveVariable }) => {
  const param = stageParams(resolveVariable);
  const environment = { ...((await resolveConfigurationProperty(['custom', 'environment'])) ?? {}) };
  const set = (variable, value) => {
    if (variable in environment) throw new Error(`custom.environment sets ${variable}, which comes from the registry`);
    environment[variable] = value;
  };
  const ops = await operations();
  const byName = new Map((await vendors()).map((vendor) => [vendor.name, vendor]));
  const fromParam = async (variable) => param(await configParam(variable), { fallback: await configDefault(variable) });
  for (const name of [...new Set(ops.map((op) => op.vendor))].sort()) {
    const vendor = byName.get(name);
    if (vendor === undefined) throw new Error(`an operation calls the vendor ${name}, which lib/vendor/ does not declare`);
    set(`${name.toUpperCase()}_KEYS_PARAMETER`, `${SERVICE_PREFIX}/\${sls:stage}/keys/${name}`);
    for (const variable of vendor.deploySettings ?? []) set(variable, await fromParam(variable));
  }
  for (const variable of [...new Set(ops.map((op) => op.endpoint))].sort()) set(variable, await fromParam(variable));
  return environment;
};
