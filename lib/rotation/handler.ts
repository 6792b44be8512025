/**
 * The Lambda handler of a `<vendor>-rotate-master-key` function: it accepts the schedule's
 * `{"rotateMasterKey": "scheduled"}` and the by-hand `{"rotateMasterKey": "now"}` and refuses
 * any other event; runs the rotation of its vendor's key parameter (lib/rotation/rotate.ts);
 * and writes one "master-key rotation finished" line with ids and metrics, never a secret.
 * @module
 */
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { accountKeysParameter, accountName, DEFAULT_ACCOUNT } from '../access/account.js';
import { readConfig } from '../core/config.js';
import { BrokerError, toBrokerError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { createMeasures, metricMembers } from '../core/metrics.js';
import { keysParameterVariable, type VendorApi } from '../vendor/api.js';
import { requireAccount } from '../vendor/keys.js';
import { KeyApiError, type MasterKeyApi } from './api.js';
import { type RotationAnswer, runRotation } from './rotate.js';
import { readRotationSettings } from './settings.js';
import type { Checkpoint } from './steps.js';

/**
 * The events a rotation function accepts: by hand (`now`) and from its schedule (`scheduled`),
 * each for one vendor account (`default` when unnamed; one schedule per configured account).
 */
export const rotationEventSchema = z.strictObject({ rotateMasterKey: z.enum(['now', 'scheduled']), account: z.optional(accountName) });

/** `aliyun` → `aliyun-rotate-master-key`: the function, its role and its table items are named after it. */
export function rotationFunctionName(vendor: string): string {
  return `${vendor}-rotate-master-key`;
}

/** Time kept back from the invocation's deadline: the run stops waiting before it and still releases its lock. */
const DEADLINE_MARGIN_MS = 5_000;

/** Options of tests only (never set by a function file). */
export interface RotationHandlerOptions {
  /** Called after each change of a run: a test throws here to make the run die. */
  checkpoint?: (point: Checkpoint) => void | Promise<void>;
  now?: () => number;
}

/** The handler of a vendor's rotation function. */
export function createRotationHandler<Api extends VendorApi>(
  api: MasterKeyApi<Api>,
  options: RotationHandlerOptions = {},
): (event: unknown, context?: Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>) => Promise<RotationAnswer> {
  const functionName = rotationFunctionName(api.vendor.name);
  return async (event, context) => {
    const logger = createLogger({ requestId: context?.awsRequestId ?? 'unknown', operation: functionName });
    const parsed = z.safeParse(rotationEventSchema, event);
    if (!parsed.success) {
      logger.error('event refused: not a rotation event', { accepts: '{"rotateMasterKey": "now" | "scheduled", "account"?: "<name>"}' });
      throw new BrokerError(
        'InvalidRequest',
        `${functionName} accepts only {"rotateMasterKey": "now"} (by hand) or "scheduled", with an optional "account".`,
      );
    }
    const account = parsed.data.account ?? DEFAULT_ACCOUNT;
    const metrics = createMeasures();
    // Another account's runs also carry the Account dimension; the function's alarms count them all.
    if (account !== DEFAULT_ACCOUNT) metrics.account = account;
    metrics.count('MasterKeyRotationRuns');
    try {
      // An account this deployment does not configure is refused before any parameter is read.
      requireAccount(api.vendor, account);
      const config = readConfig();
      if (config.TOKEN_TABLE === undefined) {
        throw new BrokerError('ConfigurationError', 'TOKEN_TABLE is not set: a rotation keeps its state and lock in the table.');
      }
      const keysParameter = accountKeysParameter(api.vendor.readSettings()[keysParameterVariable(api.vendor.name)] as string, account);
      const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
      const answer = await runRotation({
        api,
        functionName,
        keysParameter,
        tableName: config.TOKEN_TABLE,
        trigger: parsed.data.rotateMasterKey,
        settings: readRotationSettings(),
        keysCacheSeconds: config.KEYS_CACHE_SECONDS,
        logger,
        metrics,
        deadline: Date.now() + Math.max(0, remaining - DEADLINE_MARGIN_MS),
        ...(options.now && { now: options.now }),
        ...(options.checkpoint && { checkpoint: options.checkpoint }),
      });
      logger.info(
        'master-key rotation finished',
        { trigger: parsed.data.rotateMasterKey, account, ...answer },
        metricMembers(functionName, metrics),
      );
      return answer;
    } catch (thrown) {
      const error =
        thrown instanceof KeyApiError
          ? new BrokerError(
              thrown.failure === 'denied' ? 'VendorAccessDenied' : 'VendorError',
              `A key-API call failed (${thrown.failure}).`,
              {
                vendorCode: thrown.vendorCode,
                cause: thrown,
              },
            )
          : toBrokerError(thrown);
      metrics.count('MasterKeyRotationFailed');
      logger.error(
        'master-key rotation failed',
        {
          trigger: parsed.data.rotateMasterKey,
          account,
          code: error.code,
          vendorCode: error.vendorCode,
          reason: error.message,
          cause: error.cause,
        },
        metricMembers(functionName, metrics),
      );
      throw error;
    }
  };
}
