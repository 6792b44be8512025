/**
 * The test doubles the bench runs against, bundled by bench/run.mjs into bench/.out/support.mjs
 * (Node 20 cannot import TypeScript): the vendor simulator, the fake SSM and the key names.
 */

export { startFakeSsm } from '../sim/fake-ssm.js';
export {
  acs3CanonicalRequest,
  expectedAcs3Signature,
  SIMULATOR_DEFAULT_KEYS,
  startVendorSimulator,
} from '../sim/vendor-simulator.js';
