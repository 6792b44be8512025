import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadVendors } from '../../lib/vendor/index.js';

/**
 * docs/vendors.md is where a vendor's facts live (signing, errors, endpoints): every vendor of
 * the registry (lib/vendor) has a section there, a heading starting with its title.
 */
const doc = readFileSync(new URL('../../docs/vendors.md', import.meta.url), 'utf8');
const headings = doc.split('\n').filter((line) => /^#{2,3} /.test(line));

describe('docs/vendors.md', () => {
  it('has a section for every vendor of the registry', async () => {
    for (const vendor of await loadVendors()) {
      expect(
        headings.some((heading) => heading.replace(/^#+ /, '').startsWith(vendor.title)),
        `${vendor.name}: no "## ${vendor.title} ..." heading`,
      ).toBe(true);
    }
  });
});
