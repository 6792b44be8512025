import * as z from 'zod/mini';
import type { EndpointVariable } from './config.js';
import type { Vendor } from './keys.js';
import type { OperationTarget, VendorParams } from './vendors/types.js';

/**
 * One vendor operation, described declaratively. Everything else (signing, sending,
 * retrying, mapping errors, shaping answers) is shared machinery in lib/.
 */
export interface OperationSpec<Request extends z.ZodMiniObject, Data extends z.ZodMiniType> extends OperationTarget {
  /** `<product>:<Action>`, as reported in answers and logs. */
  name: string;
  /** The file in functions/, also the token store's folder. */
  functionName: string;
  route: `/v1/${string}`;
  summary: string;
  vendor: Vendor;
  endpoint: EndpointVariable;
  /** The HTTP body, lowerCamelCase vendor parameter names; unknown fields are refused. */
  request: Request;
  /** Where the vendor puts its payload, and the schema of that payload after lowerCamelCasing. */
  response: { field: string; data: Data };
  /** When the returned credentials stop working (epoch ms); absent for operations that return none. */
  expiresAt?: (data: z.infer<Data>, issuedAt: number) => number | undefined;
  /** Body → vendor parameters; by default each field's first letter is upper-cased. */
  toParams?: (body: z.infer<Request>) => VendorParams;
  /** A vendor-side limit one instance must stay under. */
  ratePerSecond?: number;
  /** Vendor codes that mean "already done": an idempotent repeat, answered as success. */
  alreadyDone?: (vendorCode: string) => boolean;
}

export type Operation<Request extends z.ZodMiniObject = z.ZodMiniObject, Data extends z.ZodMiniType = z.ZodMiniType> = OperationSpec<
  Request,
  Data
>;

export function defineOperation<Request extends z.ZodMiniObject, Data extends z.ZodMiniType>(
  spec: OperationSpec<Request, Data>,
): Operation<Request, Data> {
  return spec;
}

/** Kept as a schema so OpenAPI and tests can reuse it: what every success answer looks like. */
export function answerSchema<Data extends z.ZodMiniType>(data: Data) {
  return z.object({
    operation: z.string(),
    requestId: z.string(),
    vendorRequestId: z.optional(z.string()),
    expiresAt: z.optional(z.string()),
    alreadyProvisioned: z.optional(z.boolean()),
    data: z.nullable(data),
  });
}
