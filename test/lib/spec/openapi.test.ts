import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadOperations } from '../../../lib/operations/index.js';
import { openApiDocument } from '../../../lib/spec/openapi.js';

const operations = await loadOperations();

describe('openapi.json', () => {
  it('is what the zod schemas generate (run `npm run openapi` after changing a schema)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../../openapi.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(openApiDocument(operations))));
  });

  it('describes every route as POST with its request schema, refusing unknown fields', () => {
    const doc = openApiDocument(operations);
    expect(Object.keys(doc.paths).sort()).toEqual(operations.map((op) => op.route).sort());
    const cams = doc.paths['/v1/aliyun/cams/upload-authorization']!.post;
    const schema = cams.requestBody.content['application/json'].schema as { required: string[]; additionalProperties: boolean };
    expect(schema.required).toEqual(['custSpaceId']);
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(cams.responses).sort()).toEqual(['200', '400', '403', '404', '413', '422', '429', '500', '502', '503', '504']);
    expect(doc.components.securitySchemes.awsIam['x-amazon-apigateway-authtype']).toBe('awsSigv4');
  });

  it("names the project's licence (package.json's) and the templated URL a stage serves the API at", () => {
    const doc = openApiDocument(operations) as { info: { license?: { name: string; identifier?: string } }; servers?: unknown };
    const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { license: string };
    expect(doc.info.license).toEqual({ name: packageJson.license, identifier: packageJson.license });
    const servers = doc.servers as { url: string; variables: Record<string, { default: string }> }[];
    expect(servers).toHaveLength(1);
    const [server] = servers;
    // The HttpApiUrl output's shape, each {variable} declared with a default (OpenAPI 3.1 requires one).
    expect(server!.url).toBe('https://{apiId}.execute-api.{region}.amazonaws.com');
    const used = [...server!.url.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    expect(Object.keys(server!.variables).sort()).toEqual(used);
    for (const variable of Object.values(server!.variables)) expect(variable.default).not.toBe('');
    // The committed file says so too.
    const committed = JSON.parse(readFileSync(new URL('../../../openapi.json', import.meta.url), 'utf8'));
    expect(committed.info.license.identifier).toBe('Apache-2.0');
    expect(committed.servers[0].url).toBe(server!.url);
  });
});
