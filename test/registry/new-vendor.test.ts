import { execFile } from 'node:child_process';
import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NpmStart, startNpmStart } from '../support/npm-start.js';
import { buildCopy, copyRepository } from '../support/repository-copy.js';

/**
 * The vendor registry's promise (docs/adding-a-vendor.md): a vendor is its adapter (with its
 * signer), its simulator side, its docs section, and then its operations' spec and function
 * files. A throwaway vendor, Toy Cloud, is added to a copy of the repository with no other edit;
 * the typecheck (its own spec field included), openapi.json, the packaged template (environment
 * and role), the docs check and `npm start` must all pick it up.
 */
const exec = promisify(execFile);
const _root = new URL('../..', import.meta.url).pathname;
let copy: string;

const VENDOR = 'zztoy';
const FUNCTION = 'zz-toy-get-token';
const ROUTE = '/v1/zztoy/token';
const NAME = 'zztoy:GetToken';

// The adapter: key schema, secret names, variables, deployed setting, OpenAPI wording, a spec
// field of its own (`tier`), and a trivial signer (HMAC-SHA256 of the tier and the body).
const ADAPTER = `import { createHmac } from 'node:crypto';
import * as z from 'zod/mini';
import { baseUrl, keysParameter } from '../core/config.js';
import { defineVendor, parseJsonObject, type VendorAdapter, type VendorOutcome } from './api.js';

const toyKeys = z.object({ toyId: z.string().check(z.minLength(1)), toySecret: z.string().check(z.minLength(1)) });
type ToyKeys = z.infer<typeof toyKeys>;
/** What a Toy Cloud spec carries besides the common fields. */
interface ToySpecFields {
  tier: 'basic' | 'pro';
}

function classify(status: number, _headers: unknown, text: string): VendorOutcome {
  const body = parseJsonObject(text);
  const requestId = typeof body?.RequestId === 'string' ? { vendorRequestId: body.RequestId } : {};
  if (status === 200 && body?.Data !== undefined) return { kind: 'ok', payload: body, ...requestId };
  if (typeof body?.Error === 'string') return { kind: body.Error === 'BadSignature' ? 'key' : 'rejected', vendorCode: body.Error };
  return { kind: status >= 500 ? 'transient' : 'malformed', vendorCode: \`HTTP \${status}\` };
}

/** Toy Cloud, a throwaway vendor added by test/registry/new-vendor.test.ts. */
export const zztoyApi = defineVendor({
  name: '${VENDOR}',
  title: 'Toy Cloud',
  keys: toyKeys,
  secretFields: ['toySecret', 'toyToken'],
  settings: z.object({
    ZZTOY_KEYS_PARAMETER: keysParameter('${VENDOR}'),
    ZZTOY_API_ENDPOINT: z._default(baseUrl, 'https://api.toy.example'),
    ZZTOY_FLAVOUR: z._default(z.enum(['plain', 'fancy']), 'plain'),
  }),
  deploySettings: ['ZZTOY_FLAVOUR'],
  describe: (target: ToySpecFields) => \`Toy Cloud API, \${target.tier} tier\`,
  adapter: (settings): VendorAdapter<ToyKeys, ToySpecFields> => ({
    sign({ endpoint, target, params, keys }) {
      const body = JSON.stringify({ Action: target.action, Flavour: settings.ZZTOY_FLAVOUR, ...params });
      const signature = createHmac('sha256', keys.toySecret).update(\`\${target.tier}\\n\${body}\`).digest('hex');
      return {
        url: new URL('/', endpoint).href,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-toy-id': keys.toyId, 'x-toy-tier': target.tier, 'x-toy-signature': signature },
        body,
      };
    },
    classify,
  }),
});
`;

// The simulator side: the key the local world seeds, and a simulator that checks the signature.
const SIM_SIDE = `import { createHmac } from 'node:crypto';
import { defineLocalVendor } from './types.js';

const KEY = { toyId: 'sim-toy-id', toySecret: 'sim-toy-secret-4f1e2d3c' };
const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(',') : (value ?? ''));

/** Toy Cloud's local side (test/registry/new-vendor.test.ts). */
export const zztoyLocal = defineLocalVendor({
  vendor: '${VENDOR}',
  seedKey: () => ({ ...KEY }),
  handler: {
    vendor: '${VENDOR}',
    claims: (request) => request.headers['x-toy-id'] !== undefined,
    answer(request) {
      const expected = createHmac('sha256', KEY.toySecret).update(\`\${header(request.headers['x-toy-tier'])}\\n\${request.body}\`).digest('hex');
      const json = { 'content-type': 'application/json' };
      const action = String((JSON.parse(request.body) as { Action?: unknown }).Action ?? '');
      if (header(request.headers['x-toy-id']) !== KEY.toyId || header(request.headers['x-toy-signature']) !== expected) {
        return { action, code: 'BadSignature', status: 403, headers: json, body: JSON.stringify({ Error: 'BadSignature' }) };
      }
      const Data = { ToyToken: \`sim-toy-token-\${Date.now()}\`, ExpiresIn: 600 };
      return { action, code: 'OK', status: 200, headers: json, body: JSON.stringify({ RequestId: 'toy-1', Data }) };
    },
  },
});
`;

const SPEC = `import * as z from 'zod/mini';
import { defineOperation } from '../spec/operation.js';
import { http } from '../runtime/triggers/http.js';
import { zztoyApi } from '../vendor/${VENDOR}.js';

/** Toy Cloud GetToken, added by test/registry/new-vendor.test.ts. */
export const zzToyGetToken = defineOperation({
  name: '${NAME}',
  functionName: '${FUNCTION}',
  route: '${ROUTE}',
  summary: 'A Toy Cloud token',
  vendor: '${VENDOR}',
  api: zztoyApi,
  endpoint: 'ZZTOY_API_ENDPOINT',
  tier: 'pro',
  triggers: [http()],
  action: 'GetToken',
  request: z.strictObject({}),
  response: { field: 'Data', data: z.object({ toyToken: z.string(), expiresIn: z.number() }) },
  expiresAt: (data, issuedAt) => issuedAt + data.expiresIn * 1000,
});
`;

const FUNCTION_FILE = `import { createHandler } from '../lib/runtime/handler.js';
import { zzToyGetToken } from '../lib/operations/${FUNCTION}.js';

export const handler = createHandler(zzToyGetToken);
`;

// Not part of the vendor: the test's probe that the spec type is the vendor's own.
const TYPE_PROBE = `import * as z from 'zod/mini';
import { defineOperation } from '../lib/spec/operation.js';
import { http } from '../lib/runtime/triggers/http.js';
import { zztoyApi } from '../lib/vendor/${VENDOR}.js';

const common = {
  name: 'zztoy:Probe',
  functionName: 'zz-toy-probe',
  route: '/v1/zztoy/probe',
  summary: 'probe',
  vendor: '${VENDOR}',
  api: zztoyApi,
  triggers: [http()],
  action: 'Probe',
  request: z.strictObject({}),
  response: { field: 'Data', data: z.object({}) },
} as const;
// @ts-expect-error a Toy Cloud spec must carry its vendor's own field, tier
defineOperation({ ...common, endpoint: 'ZZTOY_API_ENDPOINT' });
// @ts-expect-error its endpoint must be one its vendor declares
defineOperation({ ...common, endpoint: 'ALIYUN_CAMS_ENDPOINT', tier: 'basic' });
`;

const DOCS = `
## Toy Cloud

A throwaway vendor (test/registry/new-vendor.test.ts): HMAC-SHA256 of the tier and the body.
`;

type Resource = { Type: string; Properties: Record<string, unknown> };
let template: { Resources: Record<string, Resource>; [key: string]: unknown };
let openapi: { paths: Record<string, { post: { description: string } }> };
let npmStart: NpmStart;
const env = { ...process.env, npm_config_update_notifier: 'false' };

beforeAll(async () => {
  copy = await copyRepository('ctb-vendor-');
  // The whole change: the vendor (adapter, simulator side, docs) and one operation of it.
  writeFileSync(join(copy, 'lib/vendor', `${VENDOR}.ts`), ADAPTER);
  writeFileSync(join(copy, 'sim/vendors', `${VENDOR}.ts`), SIM_SIDE);
  appendFileSync(join(copy, 'docs/vendors.md'), DOCS);
  writeFileSync(join(copy, 'lib/operations', `${FUNCTION}.ts`), SPEC);
  writeFileSync(join(copy, 'functions', `${FUNCTION}.ts`), FUNCTION_FILE);
  writeFileSync(join(copy, 'test', 'zz-toy-type-probe.ts'), TYPE_PROBE);

  ({ openapi, template } = await buildCopy<typeof openapi, typeof template>(copy));
  npmStart = await startNpmStart(copy);
}, 400_000);

afterAll(() => {
  npmStart?.kill();
  rmSync(copy, { recursive: true, force: true });
});

describe('a new vendor, added as its own files and nothing else', () => {
  it('type-checks, its spec held to its own fields and endpoints', async () => {
    // npm run typecheck, not bare tsc: it generates client/generated/ (gitignored, so not in the copy) first.
    await expect(exec('npm', ['run', '--silent', 'typecheck'], { cwd: copy, env, timeout: 180_000 })).resolves.toBeDefined();
  }, 200_000);

  it('is in openapi.json, described as its adapter words it', () => {
    expect(openapi.paths[ROUTE]?.post.description).toContain('Calls zztoy:GetToken (Toy Cloud API, pro tier).');
  });

  it("is in the packaged template: its function gets its key parameter, deployed setting and endpoint, and reads only its vendor's key", () => {
    const fn = template.Resources.ZzDashtoyDashgetDashtokenLambdaFunction;
    expect(fn?.Type).toBe('AWS::Lambda::Function');
    const variables = ((fn?.Properties.Environment ?? { Variables: {} }) as { Variables: Record<string, unknown> }).Variables;
    expect(JSON.stringify(variables.ZZTOY_KEYS_PARAMETER)).toContain(`/cloud-token-broker/dev/keys/${VENDOR}`);
    expect(variables).toMatchObject({ ZZTOY_FLAVOUR: 'plain', ZZTOY_API_ENDPOINT: 'https://api.toy.example' });
    const role = JSON.stringify(template.Resources.ZzToyGetTokenRole?.Properties);
    expect(role).toContain(`keys/${VENDOR}`);
    expect(role).not.toContain('keys/aliyun');
  });

  it("is checked by the docs test: docs/vendors.md has the vendor's section", async () => {
    await expect(
      exec('npx', ['vitest', 'run', '--project', 'fast', 'test/docs/vendors.test.ts'], { cwd: copy, env, timeout: 120_000 }),
    ).resolves.toBeDefined();
  }, 150_000);

  it('is served by `npm start` against its simulator side: signed, answered, its secret field masked in the logs', async () => {
    expect(npmStart.output()).toMatch(new RegExp(`^  POST ${ROUTE} +${NAME}$`, 'm'));
    const answer = await fetch(`http://localhost:${npmStart.httpPort}${ROUTE}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({
      operation: NAME,
      vendorRequestId: 'toy-1',
      data: { toyToken: expect.any(String), expiresIn: 600 },
    });
    expect(npmStart.output()).not.toContain('sim-toy-secret-4f1e2d3c');
  });
});
