import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Every relative link in README.md and docs/*.md points at a file of this repository, and a
 * `#anchor` at a heading of the file it names, so moving a section cannot leave a link behind.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const files = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** The text outside fenced code blocks and inline code spans, where a link is a link. */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a markdown file's headings (a repeated one gets -1, -2, … as on GitHub). */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const [, heading] of readFileSync(file, 'utf8')
    .replace(/^```[\s\S]*?^```$/gm, '')
    .matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(heading!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  }
  return found;
}

describe.each(files)('%s', (file) => {
  const links = [...prose(readFileSync(join(root, file), 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
  const local = links.filter((target) => !/^[a-z][a-z+.-]*:/i.test(target));

  it.each(local)('links to %s, which exists', (target) => {
    const [path, anchor] = target.split('#') as [string, string | undefined];
    const to = path === '' ? join(root, file) : resolve(dirname(join(root, file)), path);
    expect(relative(root, to).startsWith('..'), 'inside the repository').toBe(false);
    expect(existsSync(to), 'the file exists').toBe(true);
    if (anchor !== undefined && to.endsWith('.md')) expect([...anchors(to)]).toContain(anchor);
  });
});
