import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTokenMemory, type HeldToken } from '../../../lib/state/token-memory.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const held = (expiresAt = NOW + 3_600_000, label = 'x'): HeldToken => ({
  token: { data: { label }, expiresAt: new Date(expiresAt).toISOString(), fetchedAt: new Date(NOW).toISOString() },
  fetchedAt: NOW,
  expiresAt,
});

describe('token memory', () => {
  it('keeps at most `capacity` tokens, dropping the least recently used first', () => {
    const memory = createTokenMemory(() => 3);
    for (const key of ['a', 'b', 'c']) memory.set(key, held(), NOW);
    expect(memory.get('a', NOW)).toBeDefined(); // a is now the most recently used
    memory.set('d', held(), NOW);
    expect(memory.size).toBe(3);
    expect(memory.get('b', NOW)).toBeUndefined();
    for (const key of ['a', 'c', 'd']) expect(memory.get(key, NOW)).toBeDefined();
  });

  it('never holds an expired token, and drops one when it is asked for', () => {
    const memory = createTokenMemory(() => 10);
    memory.set('dead', held(NOW - 1), NOW);
    expect(memory.size).toBe(0);
    memory.set('soon', held(NOW + 1_000), NOW);
    expect(memory.get('soon', NOW + 999)).toBeDefined();
    expect(memory.get('soon', NOW + 1_000)).toBeUndefined();
    expect(memory.size).toBe(0);
  });

  it('sweeps out expired tokens nobody asks for', () => {
    const memory = createTokenMemory(() => 10);
    memory.set('short', held(NOW + 1_000), NOW);
    memory.set('long', held(NOW + 3_600_000), NOW);
    memory.set('later', held(NOW + 3_600_000), NOW + 61_000);
    expect(memory.size).toBe(2);
  });

  it('replaces the token under a key, and holds nothing at capacity 0', () => {
    const memory = createTokenMemory(() => 2);
    memory.set('a', held(undefined, 'old'), NOW);
    memory.set('a', held(undefined, 'new'), NOW);
    expect(memory.size).toBe(1);
    expect(memory.get('a', NOW)?.token.data).toEqual({ label: 'new' });
    const none = createTokenMemory(() => 0);
    none.set('a', held(), NOW);
    expect(none.size).toBe(0);
  });

  it('property: size never passes capacity, and what it holds is the most recently used', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 20 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 200 }), (capacity, ops) => {
        const memory = createTokenMemory(() => capacity);
        // A model: keys by last use, most recent last.
        let model: number[] = [];
        for (const { kind, key } of ops) {
          if (kind === 'set') {
            memory.set(String(key), held(), NOW);
            model = [...model.filter((k) => k !== key), key].slice(-capacity);
          } else {
            const found = memory.get(String(key), NOW) !== undefined;
            expect(found).toBe(model.includes(key));
            if (found) model = [...model.filter((k) => k !== key), key];
          }
          expect(memory.size).toBe(model.length);
          expect(memory.size).toBeLessThanOrEqual(capacity);
        }
      }),
    );
  });
});
