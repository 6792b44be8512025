/**
 * A vendor's side of the local world: what `npm start` and the tests seed and answer for it.
 * Each vendor has one file in sim/vendors/, found by sim/vendors/index.ts, as its adapter is
 * one file in lib/vendor/. Nothing here imports lib/: the simulator must not share the
 * broker's signing code.
 * @module
 */
import type { SimulatorVendorHandler } from '../vendor-simulator.js';

/** What the local world needs of a vendor. */
export interface LocalVendor {
  /** The vendor's name, as lib/vendor/<vendor>.ts names it. */
  vendor: string;
  /** The master key seeded into the fake SSM: one the simulator accepts. */
  seedKey(world: { ucloudProjectId: string }): Record<string, unknown>;
  /** For a vendor with an STS operation: the role such an operation assumes locally, shaped like the vendor's, owned by no one. */
  localRoleArn?: string;
  /** For a vendor with an STS operation: the session policy local callers get (one folder of one local bucket, never the role's whole reach). */
  localSessionPolicy?: Record<string, unknown>;
  /** For a vendor sim/vendor-simulator.ts does not answer itself: its simulator. */
  handler?: SimulatorVendorHandler;
}

const LOCAL_VENDOR = Symbol.for('cloud-token-broker.local-vendor');

/** Declares a vendor's local side; sim/vendors/index.ts finds every value made here. */
export function defineLocalVendor(side: LocalVendor): LocalVendor {
  return Object.freeze({ ...side, [LOCAL_VENDOR]: true });
}

/** True for a value made by defineLocalVendor. */
export function isLocalVendor(value: unknown): value is LocalVendor {
  return typeof value === 'object' && value !== null && LOCAL_VENDOR in value;
}
