/**
 * UCloud in the local world; sim/vendor-simulator.ts answers its requests.
 * @module
 */
import { SIMULATOR_DEFAULT_KEYS } from '../vendor-simulator.js';
import { defineLocalVendor } from './types.js';

/** UCloud's local side: the simulator's default key, stored with the world's default project. */
export const ucloudLocal = defineLocalVendor({
  vendor: 'ucloud',
  seedKey: (world) => ({ ...SIMULATOR_DEFAULT_KEYS.ucloud, projectId: world.ucloudProjectId }),
});
