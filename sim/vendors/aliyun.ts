/**
 * Alibaba Cloud in the local world; sim/vendor-simulator.ts answers its requests.
 * @module
 */
import { SIMULATOR_DEFAULT_KEYS } from '../vendor-simulator.js';
import { defineLocalVendor } from './types.js';

/** Alibaba Cloud's local side: the simulator's default key, a local RAM role and an OSS folder policy. */
export const aliyunLocal = defineLocalVendor({
  vendor: 'aliyun',
  seedKey: () => ({ ...SIMULATOR_DEFAULT_KEYS.aliyun }),
  localRoleArn: 'acs:ram::1234567890123456:role/cloud-token-broker-local',
  localSessionPolicy: {
    Version: '1',
    Statement: [
      { Effect: 'Allow', Action: ['oss:GetObject', 'oss:PutObject'], Resource: ['acs:oss:*:*:cloud-token-broker-local/uploads/*'] },
    ],
  },
});
