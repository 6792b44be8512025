import { describe, expect, it } from 'vitest';
import {
  LEASE_MS,
  leaseLive,
  readTokenItem,
  refreshAt,
  releaseLease,
  renewLease,
  type StoredToken,
  takeLease,
  tokenKey,
  writeToken,
} from '../../../lib/state/token-lease.js';
import { tableItems } from '../../../sim/table-items.js';
import { useLocalTable } from '../../support/local-table-env.js';

/** Leases and token items against the local table, through the broker's own client. */
const local = useLocalTable();
const TABLE = () => local.table.tableName;
let counter = 0;
const newKey = () => tokenKey({ functionName: 'unit' }, `body${++counter}`);

function token(fetchedAt: number, lifetimeMs: number, id = 'x'): StoredToken {
  return {
    data: { accessKeyId: id, nested: { list: [1, 'two', null] } },
    fetchedAt: new Date(fetchedAt).toISOString(),
    expiresAt: new Date(fetchedAt + lifetimeMs).toISOString(),
    vendorRequestId: `req-${id}`,
  };
}

describe('token items', () => {
  it('write and read back what the SSM store held, with refreshAt at three quarters and ttl at expiry', async () => {
    const pk = newKey();
    const written = token(Date.now(), 3_600_000);
    expect(await writeToken(TABLE(), pk, written)).toBe(true);
    expect(await readTokenItem(TABLE(), pk, true)).toEqual({ token: written });
    const raw = await tableItems(local.table).get(pk);
    expect(raw).toMatchObject({ refreshAt: refreshAt(written), ttl: Math.ceil(Date.parse(written.expiresAt) / 1000) });
    expect(refreshAt(written)).toBe(Date.parse(written.fetchedAt) + 2_700_000);
    expect(await readTokenItem(TABLE(), newKey(), false)).toBeUndefined();
  });

  it('never go back in time: an older or equal token does not replace a newer one', async () => {
    const pk = newKey();
    const now = Date.now();
    expect(await writeToken(TABLE(), pk, token(now, 3_600_000, 'newer'))).toBe(true);
    expect(await writeToken(TABLE(), pk, token(now - 1_000, 3_600_000, 'older'))).toBe(false);
    expect(await writeToken(TABLE(), pk, token(now, 3_600_000, 'same'))).toBe(false);
    expect((await readTokenItem(TABLE(), pk, true))?.token?.vendorRequestId).toBe('req-newer');
    expect(await writeToken(TABLE(), pk, token(now + 1_000, 3_600_000, 'newest'))).toBe(true);
  });

  it('replace what is not a token, and read it as none', async () => {
    const pk = newKey();
    await tableItems(local.table).put({ pk, data: '{broken', expiresAt: '9999-12-31T00:00:00.000Z' });
    expect(await readTokenItem(TABLE(), pk, true)).toEqual({ unreadable: {} });
    expect(await writeToken(TABLE(), pk, token(Date.now(), 60_000))).toBe(true);
  });
});

describe('leases', () => {
  it('one taker of many concurrent ones wins; the lease is live until LEASE_MS passes', async () => {
    const pk = newKey();
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => takeLease(TABLE(), pk, `owner-${i}`, now)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const item = await readTokenItem(TABLE(), pk, true);
    expect(item?.leaseOwner).toBe(`owner-${results.indexOf(true)}`);
    expect(item?.leaseUntil).toBe(now + LEASE_MS);
    expect(leaseLive(item, now + LEASE_MS)).toBe(true);
    expect(leaseLive(item, now + LEASE_MS + 1)).toBe(false);
  });

  it("a dead holder's lease is taken over once it expires; its renewal then fails", async () => {
    const pk = newKey();
    const now = Date.now();
    expect(await takeLease(TABLE(), pk, 'dead', now)).toBe(true);
    expect(await takeLease(TABLE(), pk, 'heir', now + LEASE_MS)).toBe(false);
    expect(await takeLease(TABLE(), pk, 'heir', now + LEASE_MS + 1)).toBe(true);
    expect(await renewLease(TABLE(), pk, 'dead')).toBe(false);
    expect(await renewLease(TABLE(), pk, 'heir', now + 5_000)).toBe(true);
    expect((await readTokenItem(TABLE(), pk, true))?.leaseUntil).toBe(now + 5_000 + LEASE_MS);
  });

  it('a release by its owner lets the next taker in at once; anyone else releasing changes nothing', async () => {
    const pk = newKey();
    expect(await takeLease(TABLE(), pk, 'a')).toBe(true);
    await releaseLease(TABLE(), pk, 'b');
    expect(await takeLease(TABLE(), pk, 'c')).toBe(false);
    await releaseLease(TABLE(), pk, 'a');
    expect(await takeLease(TABLE(), pk, 'c')).toBe(true);
  });

  it('is refused while the item holds a servable token, and granted once the token is due for refresh', async () => {
    const pk = newKey();
    const now = Date.now();
    const current = token(now, 4_000);
    await writeToken(TABLE(), pk, current);
    expect(await takeLease(TABLE(), pk, 'early', now + 2_999)).toBe(false);
    expect(await takeLease(TABLE(), pk, 'due', refreshAt(current) + 1)).toBe(true);
    // The holder's token write replaces the lease along with the old token.
    expect(await writeToken(TABLE(), pk, token(now + 3_500, 4_000, 'fresh'))).toBe(true);
    const item = await readTokenItem(TABLE(), pk, true);
    expect(item?.leaseOwner).toBeUndefined();
    expect(item?.token?.vendorRequestId).toBe('req-fresh');
  });

  it('keys name the function first and carry no body value', () => {
    expect(tokenKey({ functionName: 'cams-get-upload-authorization' }, 'f'.repeat(32))).toBe(
      `cams-get-upload-authorization#token#${'f'.repeat(32)}`,
    );
  });
});
