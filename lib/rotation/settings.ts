/**
 * The rotation's own configuration (docs/contracts.md, "Master-key rotation"): how old a master
 * key may grow, how long the old key stays usable, how long a run may hold the lock. Read when a
 * run starts, never at import time; a wrong value is ConfigurationError.
 * @module
 */
import * as z from 'zod/mini';
import { envReader } from '../core/config.js';

const seconds = (fallback: number, max: number) => z._default(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(max)), fallback);

const rotationSettings = z.object({
  /** A scheduled run starts a rotation once the key is this many days old. */
  ROTATION_MAX_KEY_AGE_DAYS: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(3650)), 90),
  /** Added to KEYS_CACHE_SECONDS after the promotion before the old key is set Inactive: every warm instance has re-read the key by then. */
  ROTATION_RETIRE_MARGIN_SECONDS: seconds(60, 86_400),
  /** How long the old key stays Inactive (and can be set Active again by hand) before it is deleted. */
  ROTATION_GRACE_SECONDS: seconds(86_400, 30 * 86_400),
  /** How long a run holds the lock: more than the function's timeout, so only a dead holder's lock expires. */
  ROTATION_LOCK_SECONDS: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(3_600)), 120),
  /** How long one run retries the test of a new key the vendor has not propagated yet; the next run goes on. */
  ROTATION_TEST_SECONDS: seconds(30, 600),
  /** The KMS key the key parameters are encrypted with (stage param keysKmsKeyAlias); unset, SSM's default aws/ssm. */
  ROTATION_KEYS_KMS_KEY_ID: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
  /** A rotation started longer ago than this is stuck (an alarm): by default the grace plus six hours. */
  ROTATION_STUCK_SECONDS: z.optional(z.coerce.number().check(z.int(), z.minimum(60), z.maximum(60 * 86_400))),
});

/** The parsed rotation settings, defaults applied. */
export type RotationSettings = z.infer<typeof rotationSettings>;

/** The rotation settings from the environment, parsed once per change. */
export const readRotationSettings: () => RotationSettings = envReader(rotationSettings);

/** When an unfinished rotation counts as stuck, in seconds after it started. */
export function stuckAfterSeconds(settings: RotationSettings, keysCacheSeconds: number): number {
  return (
    settings.ROTATION_STUCK_SECONDS ??
    keysCacheSeconds + settings.ROTATION_RETIRE_MARGIN_SECONDS + settings.ROTATION_GRACE_SECONDS + 6 * 3600
  );
}
