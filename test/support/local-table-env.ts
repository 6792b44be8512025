import { afterAll, beforeAll } from 'vitest';
import { clearDataKeys } from '../../lib/state/token-seal.js';
import { resetTable } from '../../lib/state/token-table.js';
import { type FakeKms, LOCAL_TOKEN_KEY_ALIAS, startFakeKms } from '../../sim/fake-kms.js';
import { type LocalTable, startLocalTable } from '../../sim/local-table.js';

/**
 * The local token table alone, for unit tests of the table code, with the fake KMS that seals
 * its token items: started in beforeAll with the environment that points the broker's clients
 * at them (TOKEN_TABLE and TOKEN_KEY_ID included), stopped in afterAll. Read `table` and `kms`
 * inside hooks and tests.
 */
export function useLocalTable(): { readonly table: LocalTable; readonly kms: FakeKms } {
  let table: LocalTable | undefined;
  let kms: FakeKms | undefined;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    [table, kms] = await Promise.all([startLocalTable({ tableName: 'cloud-token-broker-unit-tokens' }), startFakeKms()]);
    const env = {
      TOKEN_TABLE: table.tableName,
      TOKEN_KEY_ID: LOCAL_TOKEN_KEY_ALIAS,
      AWS_ENDPOINT_URL_DYNAMODB: table.url,
      AWS_ENDPOINT_URL_KMS: kms.url,
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
    clearDataKeys();
  });
  afterAll(async () => {
    resetTable();
    clearDataKeys();
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await Promise.all([table?.close(), kms?.close()]);
  });
  return {
    get table() {
      if (!table) throw new Error('useLocalTable: read before beforeAll started it');
      return table;
    },
    get kms() {
      if (!kms) throw new Error('useLocalTable: read before beforeAll started it');
      return kms;
    },
  };
}
