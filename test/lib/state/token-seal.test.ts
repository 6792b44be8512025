import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readTokenItem, type StoredToken, tokenKey, writeToken } from '../../../lib/state/token-lease.js';
import {
  clearDataKeys,
  DATA_KEY_MAX_AGE_MS,
  DATA_KEY_MAX_USES,
  dataKeysHeld,
  OPENED_KEYS_MAX,
  openData,
  sealData,
  Unopenable,
} from '../../../lib/state/token-seal.js';
import { tableItems } from '../../../sim/table-items.js';
import { useLocalTable } from '../../support/local-table-env.js';
import { stringsIn } from '../../support/log-capture.js';
import { TOKEN_ITEM_ATTRIBUTES } from '../../support/token-item.js';

const local = useLocalTable();
beforeEach(() => {
  clearDataKeys();
  local.kms.clearRequests();
  local.kms.failWith(undefined);
});
afterEach(() => {
  vi.useRealTimers();
});

const generated = () => local.kms.requests.filter((r) => r.target === 'GenerateDataKey').length;
const decrypted = () => local.kms.requests.filter((r) => r.target === 'Decrypt').length;

describe('sealed token items', () => {
  it('hold no secret of any vendor in any attribute, and read back as written', async () => {
    const pk = tokenKey({ functionName: 'tencent-sts-assume-role' }, 'f'.repeat(32));
    const now = Date.now();
    const secrets = {
      accessKeySecret: 'aliyun-access-key-secret-value',
      securityToken: 'aliyun-security-token-value',
      privateKey: 'ucloud-private-key-value',
      credentials: { tmpSecretId: 'tencent-tmp-secret-id', tmpSecretKey: 'tencent-tmp-secret-key', token: 'tencent-session-token' },
      TmpSecretKey: 'tencent-TmpSecretKey-upper',
      Token: 'tencent-Token-upper',
    };
    const token: StoredToken = {
      data: secrets,
      fetchedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 3_600_000).toISOString(),
      vendorRequestId: 'req-1',
    };
    expect(await writeToken(local.table.tableName, pk, token)).toBe(true);
    const raw = (await tableItems(local.table).get(pk))!;
    const text = Object.values(raw)
      .map((value) =>
        value instanceof Uint8Array ? `${Buffer.from(value).toString('latin1')} ${Buffer.from(value).toString('base64')}` : String(value),
      )
      .join(' ');
    for (const value of stringsIn(secrets)) expect(text).not.toContain(value);
    expect(Object.keys(raw).sort()).toEqual(TOKEN_ITEM_ATTRIBUTES);
    clearDataKeys();
    expect(await readTokenItem(local.table.tableName, pk, true)).toEqual({ token });
  });
});

describe('sealData / openData', () => {
  it('bind the item: a value sealed for one pk does not open for another, nor once a byte changes', async () => {
    const sealed = await sealData('fn#token#a', { secret: 'x' });
    expect(await openData('fn#token#a', sealed)).toEqual({ secret: 'x' });
    await expect(openData('fn#token#b', sealed)).rejects.toBeInstanceOf(Unopenable);
    const flipped = Buffer.from(sealed.sealedData);
    flipped[20]! ^= 1;
    await expect(openData('fn#token#a', { ...sealed, sealedData: flipped })).rejects.toBeInstanceOf(Unopenable);
    // Another function's data key: KMS refuses it under this function's encryption context.
    clearDataKeys();
    await expect(openData('other#token#a', sealed)).rejects.toBeInstanceOf(Unopenable);
  });

  it('reuse one data key per function until DATA_KEY_MAX_USES seals', async () => {
    for (let i = 0; i < DATA_KEY_MAX_USES; i++) await sealData(`fn#token#${i % 7}`, i);
    expect(generated()).toBe(1);
    await sealData('fn#token#0', 'one more');
    expect(generated()).toBe(2);
    await sealData('other#token#0', 'another function');
    expect(generated()).toBe(3);
    expect(local.kms.requests.map((r) => r.encryptionContext?.function)).toEqual(['fn', 'fn', 'other']);
  });

  it('replace a data key once it is DATA_KEY_MAX_AGE_MS old', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    await sealData('fn#token#a', 1);
    vi.setSystemTime(Date.now() + DATA_KEY_MAX_AGE_MS - 1_000);
    await sealData('fn#token#a', 2);
    expect(generated()).toBe(1);
    vi.setSystemTime(Date.now() + 1_000);
    await sealData('fn#token#a', 3);
    expect(generated()).toBe(2);
  });

  it('open each data key with one Decrypt, shared by concurrent reads, and keep at most OPENED_KEYS_MAX opened', async () => {
    const sealed = await sealData('fn#token#a', { n: 1 });
    clearDataKeys();
    local.kms.clearRequests();
    const opened = await Promise.all(Array.from({ length: 20 }, () => openData('fn#token#a', sealed)));
    expect(opened).toEqual(Array(20).fill({ n: 1 }));
    expect(decrypted()).toBe(1);
    for (let i = 0; i < OPENED_KEYS_MAX + 10; i++) await sealData(`fn${i}#token#a`, i);
    expect(dataKeysHeld().opened).toBe(OPENED_KEYS_MAX);
    expect(dataKeysHeld().sealing).toBeLessThanOrEqual(16);
  });

  it('a data key KMS refuses to make is a KmsFailure naming the cause, and is not cached', async () => {
    local.kms.failWith('DisabledException', 'GenerateDataKey');
    await expect(sealData('fn#token#a', 1)).rejects.toMatchObject({ name: 'KmsFailure', code: 'kms:DisabledException' });
    local.kms.failWith(undefined);
    await expect(sealData('fn#token#a', 1)).resolves.toBeDefined();
  });
});
