/**
 * The docs name the rotation functions the rotation registry (lib/rotation/index.ts) has, and no
 * other: a vendor key API added or removed shows here until contracts, operating and the
 * runbook say so.
 * @module
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadRotations } from '../../lib/rotation/index.js';

const root = new URL('../../', import.meta.url);
const rotations = (await loadRotations()).map((rotation) => rotation.functionName).sort();
const named = (file: string) => [...new Set(readFileSync(new URL(file, root), 'utf8').match(/\b[a-z]+-rotate-master-key\b/g) ?? [])].sort();

describe('the rotation functions in the docs', () => {
  it('the registry has some', () => {
    expect(rotations.length).toBeGreaterThan(0);
  });

  it.each(['docs/contracts.md', 'docs/operating.md', 'README.md'])("%s names exactly the registry's", (file) => {
    expect(named(file)).toEqual(rotations);
  });

  it('the runbook names none the registry lacks', () => {
    for (const name of named('docs/runbook.md')) expect(rotations).toContain(name);
  });
});
