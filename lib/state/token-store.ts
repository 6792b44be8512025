/**
 * The token table as the token cache's store (lib/state/token-cache.ts `TokenStore`): token
 * items, leases, sealing, and the table's failure handling, bound to one invocation's logger
 * and measures.
 *
 * @module
 */
import { readConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Measures } from '../core/metrics.js';
import type { TokenStore } from './token-cache.js';
import { readTokenItem, releaseLease, renewLease, takeLease, writeToken } from './token-lease.js';
import { clearDataKeys, KmsFailure, prepareKms } from './token-seal.js';
import { resetTable, tableFailed, tableWorked } from './token-table.js';

let warnedNoKey = false;

/**
 * The table tokens may be kept in: `table` (configured, or usable now), unless TOKEN_KEY_ID is
 * unset: tokens are never stored unsealed, so they stay in memory, with one warning per instance.
 */
export function tokenTable(table: string | undefined, logger: Logger): string | undefined {
  if (table === undefined || readConfig().TOKEN_KEY_ID !== undefined) return table;
  if (!warnedNoKey) {
    warnedNoKey = true;
    logger.warn('TOKEN_TABLE is set but TOKEN_KEY_ID is not: tokens are kept in memory only, never unsealed in the table', {
      table,
    });
  }
  return undefined;
}

/** The token table `table` as a token store; its answers and failures are told to `logger` and `metrics`. */
export function tableStore(table: string, logger: Logger, metrics: Measures): TokenStore {
  return {
    prepare: prepareKms,
    read: (pk, consistent) => readTokenItem(table, pk, consistent),
    takeLease: (pk, owner) => takeLease(table, pk, owner),
    renewLease: (pk, owner) => renewLease(table, pk, owner),
    releaseLease: (pk, owner) => releaseLease(table, pk, owner),
    write: (pk, token, replacing) => writeToken(table, pk, token, replacing),
    worked: () => tableWorked(logger),
    failed: (error, action) => tableFailed(error, logger, action, metrics),
    // No data key, so no token sealed and none written.
    wroteNothing: (error) => error instanceof KmsFailure,
  };
}

/** Forgets the table client, the data keys and the missing-key warning (tests; a cold start does the same). */
export function resetTokenStore(): void {
  resetTable();
  clearDataKeys();
  warnedNoKey = false;
}
