/**
 * client/broker-api.ts and the client folder's boundaries: the generated types cover every route
 * of the registry (openapi-typescript run on openapi.json, as `npm run client:types` does), the
 * friendly types say what the routes take and answer, and nothing in client/ imports the broker's
 * own code.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Answer, RequestBody, RoutePath } from '../../client/broker-api.js';
import { loadOperations } from '../../lib/operations/index.js';

const root = join(import.meta.dirname, '../..');

describe('the generated broker API types', () => {
  it('have a POST for every route of the registry', async () => {
    const generated = astToString(await openapiTS(new URL('../../openapi.json', import.meta.url)));
    for (const operation of await loadOperations()) {
      const at = generated.indexOf(`"${operation.route}": {`);
      expect(at, operation.route).toBeGreaterThan(-1);
      expect(generated.slice(at, at + 600)).toContain(`post: operations["${operation.functionName}"]`);
    }
  });

  it('type the routes, their bodies and answers', () => {
    expectTypeOf<'/v1/aliyun/sts/assume-role'>().toExtend<RoutePath>();
    expectTypeOf<'/v1/nowhere'>().not.toExtend<RoutePath>();
    expectTypeOf<RequestBody<'/v1/aliyun/sts/assume-role'>>().toEqualTypeOf<{ durationSeconds?: number }>();
    expectTypeOf<Answer<'/v1/aliyun/sts/assume-role'>['refreshAfter']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<NonNullable<Answer<'/v1/tencent/sts/assume-role'>['data']>['credentials']['tmpSecretId']>().toEqualTypeOf<string>();
  });
});

describe('client/', () => {
  it('imports nothing of the broker’s own code (lib/, functions/, sim/)', async () => {
    const files = (await readdir(join(root, 'client'))).filter((name) => name.endsWith('.ts'));
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const name of files) {
      const text = await readFile(join(root, 'client', name), 'utf8');
      expect(text, name).not.toMatch(/from '\.\.\/(lib|functions|sim)\//);
      expect(text, name).not.toMatch(/import\('\.\.\/(lib|functions|sim)\//);
    }
  });
});
