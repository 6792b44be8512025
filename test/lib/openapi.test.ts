import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../lib/openapi.js';
import { loadOperations } from '../../lib/operations/index.js';

const operations = await loadOperations();

describe('openapi.json', () => {
  it('is what the zod schemas generate (run `npm run openapi` after changing a schema)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8'));
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
});
