import { afterAll, beforeAll } from 'vitest';
import { resetTable } from '../../lib/token-table.js';
import { type LocalTable, startLocalTable } from '../../sim/local-table.js';

/**
 * The local token table alone, for unit tests of the table code: started in beforeAll with
 * the environment that points the broker's client at it (TOKEN_TABLE included), stopped in
 * afterAll. Read `table` inside hooks and tests.
 */
export function useLocalTable(): { readonly table: LocalTable } {
  let table: LocalTable | undefined;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    table = await startLocalTable({ tableName: 'cloud-token-broker-unit-tokens' });
    const env = {
      TOKEN_TABLE: table.tableName,
      AWS_ENDPOINT_URL_DYNAMODB: table.url,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'local-table',
      AWS_SECRET_ACCESS_KEY: 'local-table',
      // More than the deployed 1 s: on a loaded test machine a slow table call is no table fault.
      TOKEN_TABLE_TIMEOUT_MS: '5000',
    };
    for (const [key, value] of Object.entries(env)) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
    resetTable();
  });
  afterAll(async () => {
    resetTable();
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await table?.close();
  });
  return {
    get table() {
      if (!table) throw new Error('useLocalTable: read before beforeAll started it');
      return table;
    },
  };
}
