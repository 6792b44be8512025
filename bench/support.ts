/**
 * The test doubles the bench runs against, bundled by bench/build.mjs into bench/.out/…/support.mjs
 * (Node 20 cannot import TypeScript): the vendor simulator, the fake SSM, the fake KMS that seals the token items, the local token table
 * and the key names. The events come from sim/lambda-events.ts, bundled on its own (events.mjs)
 * so that a warm worker loads nothing else.
 */

export { LOCAL_TOKEN_KEY_ALIAS, startFakeKms } from '../sim/fake-kms.js';
export { startFakeSsm } from '../sim/fake-ssm.js';
export { startLocalTable } from '../sim/local-table.js';
export {
  acs3CanonicalRequest,
  expectedAcs3Signature,
  SIMULATOR_DEFAULT_KEYS,
  startVendorSimulator,
} from '../sim/vendor-simulator.js';
