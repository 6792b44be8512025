import * as z from 'zod/mini';
import { ERROR_STATUS } from '../core/errors.js';
import { answerSchema, type Operation, triggerOf } from './operation.js';

/**
 * The OpenAPI 3.1 description of the HTTP API, generated from the very zod schemas the
 * functions validate with, for the operations of the registry that take HTTP. Not imported
 * by any handler, so it costs the bundles nothing. `npm run openapi` writes it to
 * openapi.json; a test fails when the file is stale.
 */

const errorSchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...(keyof typeof ERROR_STATUS)[]]),
    message: z.string(),
    vendorCode: z.optional(z.string()),
    vendorRequestId: z.optional(z.string()),
    details: z.optional(z.array(z.object({ path: z.string(), message: z.string() }))),
    requestId: z.string(),
  }),
});

/** Which vendor API an operation calls, for its description: as its vendor's adapter words it. */
function vendorApi(op: Operation): string {
  return op.api.describe(op);
}

function jsonSchema(schema: z.core.$ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

const ERRORS_BY_STATUS: Record<string, string> = {
  '400': 'InvalidRequest: the body is not JSON, not sent as JSON, or does not match the schema (`details` lists at most 20 fields)',
  '413': 'PayloadTooLarge: the body is over 16 KiB; refused before it is parsed',
  '403': 'Forbidden (caller policy) or VendorAccessDenied (the vendor refuses the master key)',
  '404': 'VendorNotFound',
  '422': 'VendorRejected',
  '429': 'Throttled; `Retry-After` says when to try again',
  '500': 'InternalError',
  '502': 'VendorError',
  '503': 'VendorUnavailable, KeysUnavailable, PolicyUnavailable or ConfigurationError',
  '504': 'Timeout',
};

const noStore = {
  'Cache-Control': { schema: { type: 'string', const: 'no-store' } },
  'X-Request-Id': { schema: { type: 'string' } },
};

function pathItem(op: Operation) {
  const errorResponses = Object.fromEntries(
    Object.entries(ERRORS_BY_STATUS).map(([status, description]) => [
      status,
      {
        description,
        headers: status === '429' ? { ...noStore, 'Retry-After': { schema: { type: 'integer' } } } : noStore,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    ]),
  );
  const request = jsonSchema(op.request) as { required?: string[] };
  return {
    post: {
      operationId: op.functionName,
      summary: op.summary,
      description: `Calls ${op.name} (${vendorApi(op)}).${op.expiresAt ? " Served from the token cache while a quarter of the credentials' lifetime is left." : ''}`,
      security: [{ awsIam: [] }, { jwt: [] }],
      // An absent body counts as {}: it is required only where the operation has a required field.
      requestBody: { required: Boolean(request.required?.length), content: { 'application/json': { schema: request } } },
      responses: {
        '200': {
          description: 'The vendor payload, lowerCamelCased',
          headers: noStore,
          content: { 'application/json': { schema: jsonSchema(answerSchema(op.response.data)) } },
        },
        ...errorResponses,
      },
    },
  };
}

/** The project's licence (package.json's `license`), as an SPDX identifier. */
export const LICENSE = { name: 'Apache-2.0', identifier: 'Apache-2.0' } as const;

/**
 * Where a stage serves the API: the HTTP API's default endpoint (the stack output HttpApiUrl),
 * its id and region as variables because each deployment has its own.
 */
export const SERVERS = [
  {
    url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
    description: "A stage's HTTP API (stack output HttpApiUrl); every route is at the $default stage, without a stage prefix.",
    variables: {
      apiId: { default: 'abcdef1234', description: 'The HTTP API id (stack output HttpApiId).' },
      region: { default: 'ap-southeast-1', description: 'The region the stage is deployed in (stage param region).' },
    },
  },
] as const;

/** The document for `operations` (the registry's, from loadOperations()). */
export function openApiDocument(operations: readonly Operation[]) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'cloud-token-broker',
      version: '1.0.0',
      description:
        'Short-lived vendor credentials from master keys kept in AWS SSM. Every route is POST; every answer says Cache-Control: no-store.',
      license: LICENSE,
    },
    servers: SERVERS,
    paths: Object.fromEntries(operations.filter((op) => triggerOf(op, 'http')).map((op) => [op.route, pathItem(op)])),
    components: {
      schemas: { Error: jsonSchema(errorSchema) },
      securitySchemes: {
        awsIam: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description: 'AWS Signature Version 4 for the execute-api service (the default authorizer).',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
        jwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'When the stage enables the JWT authorizer.' },
      },
    },
  };
}
