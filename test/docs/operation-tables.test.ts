import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { loadOperations } from '../../lib/operations/index.js';
import type { Operation, TriggerKind } from '../../lib/spec/operation.js';
import { endpointVariables, exampleBody } from '../../sim/local-world.js';

/**
 * Every table in the docs that lists the operations lists exactly the registry's, in the
 * registry's order (lib/operations/index.ts sorts them by function name): the README's routes,
 * docs/contracts.md's "Routes", the banner docs/local-run.md shows, and docs/vendors.md's "The
 * operations". A new operation, a renamed route or a changed trigger fails here until the
 * docs say so.
 */

const operations = await loadOperations();

function read(path: string): string {
  return readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
}

/** The text from the heading `heading` (a whole line) to the next heading of its level or above. */
function section(text: string, heading: string): string {
  const lines = text.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`no heading ${JSON.stringify(heading)}`);
  const level = heading.indexOf(' ');
  const end = lines.findIndex((line, i) => i > start && /^#{1,6} /.test(line) && line.indexOf(' ') <= level);
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

/** The cells of each body row of the first table whose header line starts with `header`. */
function tableRows(text: string, header: string): string[][] {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith(header));
  if (start < 0) throw new Error(`no table starting ${JSON.stringify(header)}`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    // Split on the pipes that are not escaped (`\|` inside a cell).
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

/** The text of a cell that is one code span: `` `x` `` → `x`. */
function code(cell: string | undefined): string {
  const match = /^`([^`]+)`$/.exec(cell ?? '');
  if (!match) throw new Error(`not a single code span: ${JSON.stringify(cell)}`);
  return match[1]!;
}

/** How docs/contracts.md names each kind of trigger in "events it accepts". */
const TRIGGER_NAMES: Record<TriggerKind, string> = { http: 'HTTP', schedule: 'schedule', sqs: 'SQS', eventbridge: 'EventBridge' };

/** The body fields as docs/contracts.md writes them: `name`, with `?` when optional, in the schema's order. */
function bodyFields(op: Operation): string[] {
  const schema = z.toJSONSchema(op.request, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  return Object.keys(schema.properties ?? {}).map((name) => (schema.required?.includes(name) ? name : `${name}?`));
}

describe('README.md, the routes table', () => {
  const rows = tableRows(read('README.md'), '| route (POST, JSON body) | function | vendor operation |');

  it("lists the registry's routes and functions, in its order", () => {
    expect(rows.map((cells) => [code(cells[0]), code(cells[1])])).toEqual(operations.map((op) => [op.route, op.functionName]));
  });

  it("names each operation's vendor action", () => {
    expect(rows.map((cells) => cells[2])).toEqual(operations.map((op) => expect.stringContaining(`\`${op.action}\``)));
  });
});

describe('docs/contracts.md, "Routes"', () => {
  const rows = tableRows(section(read('docs/contracts.md'), '## Routes'), '| route | function');

  it("lists the registry's routes and functions, in its order", () => {
    expect(rows.map((cells) => [code(cells[0]), code(cells[1])])).toEqual(operations.map((op) => [op.route, op.functionName]));
  });

  it("names each operation's vendor action, its body fields and the events it accepts", () => {
    expect(
      rows.map((cells) => ({
        action: cells[2],
        body: [...(cells[3] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]),
        triggers: cells[4],
      })),
    ).toEqual(
      operations.map((op) => ({
        action: expect.stringContaining(`\`${op.action}\``),
        body: bodyFields(op),
        triggers: op.triggers.map((t) => TRIGGER_NAMES[t.kind]).join(', '),
      })),
    );
  });
});

describe("docs/local-run.md, npm start's banner", () => {
  const banner = read('docs/local-run.md');

  it("lists the registry's routes and operation names, in its order", () => {
    const routes = [...banner.matchAll(/^ {2}POST (\S+) +(\S+)$/gm)].map((m) => [m[1], m[2]]);
    expect(routes).toEqual(operations.map((op) => [op.route, op.name]));
  });

  it('has the try-it line npm start prints for each', () => {
    const tries = [
      ...banner.matchAll(/^ {2}curl -s -X POST http:\/\/localhost:3000(\S+) -H 'content-type: application\/json' -d '(.*)'$/gm),
    ].map((m) => [m[1], JSON.parse(m[2]!)]);
    expect(tries).toEqual(operations.map((op) => [op.route, exampleBody(op)]));
  });

  it('names the endpoint variables the simulator stands in for', () => {
    expect(banner).toContain(`(${endpointVariables(operations).join(', ')})\n`);
  });
});

describe('docs/vendors.md, "The operations"', () => {
  const rows = tableRows(section(read('docs/vendors.md'), '## The operations'), '| operation |');

  it('has one row per operation of the registry, naming its action and API version', () => {
    expect(rows).toHaveLength(operations.length);
    for (const op of operations) {
      // A vendor's own spec fields: Alibaba and Tencent specs carry a version, UCloud's none.
      const { version } = op as { version?: string };
      const row = rows.find((cells) => cells[0] === `\`${op.action}\`` && cells[1]?.includes(`${version ?? '(no version)'}`));
      expect(row, `${op.functionName}: ${op.action} ${version ?? ''}`).toBeDefined();
    }
  });
});
