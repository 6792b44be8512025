import type { AssumedRole } from '../access/assumed-role.js';
import { camelizeKeys, upperFirst } from '../core/case.js';
import { readConfig } from '../core/config.js';
import { BrokerError } from '../core/errors.js';
import { parseOrThrow } from '../core/schema.js';
import type { Operation } from '../spec/operation.js';
import type { VendorParams } from '../vendor/api.js';
import { type CallOptions, callVendor } from './vendor-call.js';

/** An operation's result, before it is framed for HTTP, a schedule or a queue. */
export interface OperationResult {
  operation: string;
  vendorRequestId?: string;
  /** ISO 8601; absent where the vendor returns no credentials (IMS). */
  expiresAt?: string;
  /** ISO 8601: when the client should ask again; present with `expiresAt` on HTTPS answers (lib/runtime/credentials.ts). */
  refreshAfter?: string;
  /** IMS: the application was already provisioned; `data` is then null. */
  alreadyProvisioned?: boolean;
  data: unknown;
}

const INVALID_BODY = 'The request body does not match the schema; see details.';

/** Half of a UTF-16 surrogate pair alone: JSON can carry one (`"\ud83d"`), UTF-8 cannot, so no vendor can receive it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The paths of strings in `value` that are not well-formed Unicode. */
function malformedText(value: unknown, path: string[] = []): string[] {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? [path.join('.') || '(body)'] : [];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => malformedText(inner, [...path, key]));
}

/** The request body checked against the operation's schema, its text well-formed: 400 with the offending fields. */
export function validateBody<O extends Operation>(op: O, body: unknown): Record<string, unknown> {
  const valid = parseOrThrow(op.request, body, 'InvalidRequest', INVALID_BODY);
  const malformed = malformedText(valid);
  if (malformed.length > 0) {
    // Refused here rather than failing as a broker bug (500) when the request is encoded for the vendor.
    throw new BrokerError('InvalidRequest', INVALID_BODY, {
      details: malformed.slice(0, 20).map((path) => ({ path, message: 'must be well-formed Unicode' })),
    });
  }
  return valid;
}

function defaultParams(body: Record<string, unknown>): VendorParams {
  const params: VendorParams = {};
  for (const [field, value] of Object.entries(body)) params[upperFirst(field)] = value as VendorParams[string];
  return params;
}

/**
 * Validates an event's body, holds it to the operation's event limits, and runs the
 * operation for it: the path events (SQS, EventBridge) share.
 */
export async function runForEvent(op: Operation, body: unknown, options: CallOptions): Promise<OperationResult> {
  const valid = validateBody(op, body);
  enforceEventLimits(op, valid);
  return runOperation(op, valid, options);
}

/**
 * Every value of a limited field must be on its variable's list. The refusal names the field
 * and the positions refused, never a value: the event's values reach the log line and the
 * dead-letter attributes through this error, and an event may carry anything.
 */
function enforceEventLimits(op: Operation, body: Record<string, unknown>): void {
  const config = readConfig();
  for (const [field, variable] of Object.entries(op.eventLimits ?? {})) {
    if (variable === undefined || body[field] === undefined) continue;
    const allowed = new Set(config[variable]);
    const list = Array.isArray(body[field]);
    const asked = list ? (body[field] as unknown[]) : [body[field]];
    const refused = asked.flatMap((value, i) => (allowed.has(String(value)) ? [] : [list ? `${field}.${i}` : field]));
    if (refused.length > 0) {
      throw new BrokerError('Forbidden', `An event may ask only for the ${field} that ${variable} lists.`, {
        details: refused.slice(0, 20).map((path) => ({ path, message: `not listed in ${variable}` })),
      });
    }
  }
}

/** The operation's payload from a vendor answer, lowerCamelCased and checked against its schema. */
function payloadData(op: Operation, payload: Record<string, unknown> | undefined): unknown {
  const raw = payload?.[op.response.field];
  return parseOrThrow(op.response.data, camelizeKeys(raw), 'VendorError', 'The vendor answer does not match the documented shape.');
}

/**
 * An "already done" repeat, checked with the vendor's own read: the current state when it
 * satisfies the body, else VendorRejected with the reason (a retry would not change it).
 */
async function reconcile(op: Operation, check: NonNullable<Operation['reconcile']>, body: Record<string, unknown>, options: CallOptions) {
  const read = await callVendor({ ...op, action: check.action }, check.toParams(body), options);
  const current = payloadData(op, read.payload);
  const reason = check.differs(body, current);
  if (reason !== undefined) {
    throw new BrokerError('VendorRejected', `Already done, but not as this request asks: ${reason}.`, {
      vendorCode: 'AlreadyDoneDiffers',
      ...(read.vendorRequestId !== undefined && { vendorRequestId: read.vendorRequestId }),
    });
  }
  return current;
}

/** How to run an operation: the vendor call's options, and for an STS operation the role it assumes for its caller. */
export interface RunOptions extends CallOptions {
  role?: AssumedRole;
}

/** Calls the vendor for an already validated body and shapes its answer (docs/contracts.md, "Answers"). */
export async function runOperation(op: Operation, body: Record<string, unknown>, options: RunOptions): Promise<OperationResult> {
  if (op.assumesRole !== undefined && options.role === undefined) {
    // Never assume a role without the caller's scope: only the HTTP trigger has a caller.
    throw new BrokerError('Forbidden', `${op.name} assumes a role for a caller, and this request has none.`);
  }
  const params = op.toParams ? op.toParams(body, options.role) : defaultParams(body);
  const result = await callVendor(op, params, options);
  const vendorRequestId = result.vendorRequestId === undefined ? {} : { vendorRequestId: result.vendorRequestId };
  if (result.alreadyDone) {
    const current = op.reconcile ? await reconcile(op, op.reconcile, body, options) : null;
    return { operation: op.name, ...vendorRequestId, alreadyProvisioned: true, data: current };
  }
  const data = payloadData(op, result.payload);
  const expiresAt = op.expiresAt?.(data, result.issuedAt);
  if (expiresAt !== undefined && !(expiresAt > Date.now())) {
    // Credentials that are already dead are a vendor fault, never something to hand out.
    throw new BrokerError('VendorError', 'The vendor returned credentials that have already expired.', vendorRequestId);
  }
  return {
    operation: op.name,
    ...vendorRequestId,
    ...(expiresAt !== undefined && { expiresAt: new Date(expiresAt).toISOString() }),
    data,
  };
}
