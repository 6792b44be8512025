/**
 * The tests every vendor's MasterKeyApi (lib/rotation/vendors/<vendor>.ts) must pass against the
 * simulator over real HTTP: list, create, setStatus, remove, lastUsed, probe, withNewKey, and
 * the KeyApiError classes (notYetValid, limitExceeded, notFound, throttled, transient, other).
 * test/lib/rotation/vendors/<vendor>.test.ts runs it with the vendor's own faults and codes.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { KeyApiError, type KeyApiFailure, type MasterKeyApi } from '../../lib/rotation/api.js';
import type { Fault, KeyVendor } from '../../sim/vendor-simulator.js';
import { type BrokerEnv, useBrokerEnv } from './broker-env.js';

/** What differs between the vendors in these tests. */
export interface MasterKeyApiCase<Keys extends Record<string, unknown>> {
  vendor: KeyVendor;
  api: MasterKeyApi;
  /** The simulator's seeded key, as the key parameter holds it. */
  seed: Keys;
  /** The same key as the simulator's setKeys takes it. */
  setSimKeys(broker: BrokerEnv): void;
  /** The vendor's codes: the 2-key limit, a key not yet propagated, an Inactive key (and how it is classified). */
  codes: { limit: string; notYetValid: string; inactive: { code: string; failure: KeyApiFailure } };
  /** The vendor's throttling and server-error answers. */
  faults: { throttled: Fault; transient: Fault };
  /** A success answer of CreateAccessKey without its key (and with a secret-like value that must not leak). */
  malformedCreate: string;
}

/** The KeyApiError a promise rejects with. */
export async function keyApiError(promise: Promise<unknown>): Promise<KeyApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyApiError);
  return error as KeyApiError;
}

/** Registers the shared suite for one vendor; returns the broker env for the vendor's own tests. */
export function describeMasterKeyApi<Keys extends Record<string, unknown>>(c: MasterKeyApiCase<Keys>): BrokerEnv {
  const broker = useBrokerEnv({ table: false });
  // The api is typed for any vendor; these keys are this vendor's.
  const api = c.api as unknown as MasterKeyApi & {
    keyIdOf(keys: Record<string, unknown>): string;
    withNewKey(keys: Record<string, unknown>, id: string, secret: string): Record<string, unknown>;
  };
  const seedId = api.keyIdOf(c.seed);
  const newKeys = async () => {
    const made = await api.create(c.seed);
    return { made, keys: api.withNewKey(c.seed, made.keyId, made.secret) };
  };
  /** Probes until the vendor accepts the keys; every refusal before must be notYetValid. */
  const untilAccepted = async (keys: Record<string, unknown>) => {
    const deadline = Date.now() + 20_000;
    const refusals: KeyApiError[] = [];
    for (;;) {
      try {
        await api.probe(keys);
        return refusals;
      } catch (error) {
        if (!(error instanceof KeyApiError) || Date.now() > deadline) throw error;
        refusals.push(error);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };

  beforeEach(() => {
    c.setSimKeys(broker);
    broker.sim.setKeyPropagationMs(1500);
  });

  describe(`${c.vendor} MasterKeyApi against the simulator`, () => {
    it('lists the user’s keys: the seeded one, Active, with its creation time', async () => {
      const keys = await api.list(c.seed);
      expect(keys).toEqual([{ keyId: seedId, status: 'Active', createdAt: expect.any(String) }]);
      // The simulator made it at setKeys, a moment ago.
      expect(Math.abs(Date.parse(keys[0]!.createdAt!) - Date.now())).toBeLessThan(60_000);
    });

    it('creates a key (its secret returned once), which the vendor refuses as notYetValid until it propagates', async () => {
      const { made, keys } = await newKeys();
      expect(made.secret.length).toBeGreaterThan(10);
      expect((await api.list(c.seed)).map((k) => [k.keyId, k.status])).toEqual([
        [seedId, 'Active'],
        [made.keyId, 'Active'],
      ]);
      const refusals = await untilAccepted(keys);
      expect(refusals.length).toBeGreaterThan(0);
      expect(refusals.map((e) => [e.failure, e.vendorCode])).toEqual(refusals.map(() => ['notYetValid', c.codes.notYetValid]));
      expect(refusals.every((e) => !e.message.includes(made.secret))).toBe(true);
    });

    it('a third key is limitExceeded, and nothing changes', async () => {
      await api.create(c.seed);
      const error = await keyApiError(api.create(c.seed));
      expect([error.failure, error.vendorCode]).toEqual(['limitExceeded', c.codes.limit]);
      expect(await api.list(c.seed)).toHaveLength(2);
    });

    it('sets a key Inactive (then every call with it is refused) and Active again', async () => {
      broker.sim.setKeyPropagationMs(0);
      const { made, keys } = await newKeys();
      await api.setStatus(keys, seedId, 'Inactive');
      expect(broker.sim.accessKeys(c.vendor).find((k) => k.keyId === seedId)?.status).toBe('Inactive');
      const refused = await keyApiError(api.probe(c.seed));
      expect([refused.failure, refused.vendorCode]).toEqual([c.codes.inactive.failure, c.codes.inactive.code]);
      expect((await api.list(keys)).find((k) => k.keyId === seedId)?.status).toBe('Inactive');
      await api.setStatus(keys, seedId, 'Active');
      await api.probe(c.seed);
      expect(made.keyId).not.toBe(seedId);
    });

    it('removes a key; removing it again, or setting its status, is notFound', async () => {
      broker.sim.setKeyPropagationMs(0);
      const { made, keys } = await newKeys();
      await api.setStatus(keys, seedId, 'Inactive');
      await api.remove(keys, seedId);
      expect((await api.list(keys)).map((k) => k.keyId)).toEqual([made.keyId]);
      expect((await keyApiError(api.remove(keys, seedId))).failure).toBe('notFound');
      expect((await keyApiError(api.setStatus(keys, seedId, 'Active'))).failure).toBe('notFound');
    });

    it('tells a key’s last use: none for a key never used, then the time of the last accepted call', async () => {
      broker.sim.setKeyPropagationMs(0);
      const { made, keys } = await newKeys();
      expect(await api.lastUsed(c.seed, made.keyId)).toBeUndefined();
      const before = Date.now() - 1000;
      await api.probe(keys);
      const used = await api.lastUsed(c.seed, made.keyId);
      expect(Date.parse(used!)).toBeGreaterThanOrEqual(before);
      // The same moment the simulator kept (IMS says it to the second).
      const kept = broker.sim.accessKeys(c.vendor).find((k) => k.keyId === made.keyId)?.lastUsedAt;
      expect(Math.floor(Date.parse(used!) / 1000)).toBe(Math.floor(Date.parse(kept!) / 1000));
    });

    it('withNewKey replaces the id and secret and keeps every other field; keyIdOf reads the id', () => {
      const stored = { ...c.seed, stsRoleArn: 'arn:example:role/other-account', externalId: 'ext-1' };
      const next = api.withNewKey(stored, 'new-id', 'new-secret');
      expect(api.keyIdOf(next)).toBe('new-id');
      expect(Object.values(next)).toContain('new-secret');
      expect(next).toMatchObject({ stsRoleArn: stored.stsRoleArn, externalId: 'ext-1' });
      expect(Object.values(next)).not.toContain(Object.values(c.seed).find((v) => v !== seedId));
      expect(Object.keys(next).sort()).toEqual(Object.keys(stored).sort());
    });

    it('classifies the vendor’s throttling as throttled and its server errors as transient', async () => {
      broker.sim.script({ fault: c.faults.throttled });
      expect((await keyApiError(api.list(c.seed))).failure).toBe('throttled');
      broker.sim.script({ fault: c.faults.transient });
      expect((await keyApiError(api.list(c.seed))).failure).toBe('transient');
      // One attempt each: the rotation decides what to retry.
      expect(broker.sim.calls).toHaveLength(2);
    });

    it('no answer in time is transient (`timeout`), after one attempt', async () => {
      const saved = process.env.VENDOR_TIMEOUT_MS;
      process.env.VENDOR_TIMEOUT_MS = '300';
      try {
        broker.sim.script({ fault: { kind: 'hang' } });
        const error = await keyApiError(api.list(c.seed));
        expect([error.failure, error.vendorCode]).toEqual(['transient', 'timeout']);
      } finally {
        if (saved === undefined) delete process.env.VENDOR_TIMEOUT_MS;
        else process.env.VENDOR_TIMEOUT_MS = saved;
      }
    });

    it('an answer not as documented is `other` (MalformedAnswer), quoting nothing of it', async () => {
      broker.sim.script({ action: 'CreateAccessKey', fault: { kind: 'malformed', body: c.malformedCreate } });
      const error = await keyApiError(api.create(c.seed));
      expect([error.failure, error.vendorCode]).toEqual(['other', 'MalformedAnswer']);
      expect(error.message).not.toContain('leak-me');
    });
  });
  return broker;
}
