/**
 * agent/ ships alone (dist/agent/cloud-token-broker-agent.mjs): it imports only node:, zod,
 * client/ and itself; never the Lambda side (lib/, functions/) nor the local world (sim/).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dir = new URL('../../agent/', import.meta.url);
const files = readdirSync(dir).filter((name) => name.endsWith('.ts'));

describe('agent/ imports', () => {
  it('only node:, zod/mini, ../client/ and ./', () => {
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      const specifiers = [...source.matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm), ...source.matchAll(/import\(['"]([^'"]+)['"]\)/g)].map(
        (m) => m[1]!,
      );
      for (const specifier of specifiers) {
        expect.soft(specifier, `${file}: ${specifier}`).toMatch(/^(node:|zod\/mini$|\.\.\/client\/[\w-]+\.js$|\.\/[\w-]+\.js$)/);
      }
    }
  });
});
