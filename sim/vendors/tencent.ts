/**
 * Tencent Cloud in the local world; sim/vendor-simulator.ts answers its requests.
 * @module
 */
import { SIMULATOR_DEFAULT_KEYS } from '../vendor-simulator.js';
import { defineLocalVendor } from './types.js';

/** Tencent Cloud's local side: the simulator's default key, a local CAM role and a COS folder policy. */
export const tencentLocal = defineLocalVendor({
  vendor: 'tencent',
  seedKey: () => ({ ...SIMULATOR_DEFAULT_KEYS.tencent }),
  localRoleArn: 'qcs::cam::uin/100000000001:roleName/cloud-token-broker-local',
  localSessionPolicy: {
    version: '2.0',
    statement: [
      {
        effect: 'allow',
        action: ['name/cos:GetObject', 'name/cos:PutObject'],
        resource: ['qcs::cos:ap-guangzhou:uid/1250000000:cloud-token-broker-local-1250000000/uploads/*'],
      },
    ],
  },
});
