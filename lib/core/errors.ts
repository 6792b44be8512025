/**
 * The broker's error vocabulary: one code per row of docs/contracts.md's error table.
 * Anything thrown that is not a BrokerError is a bug and answers 500 InternalError.
 */
export const ERROR_STATUS = {
  InvalidRequest: 400,
  PayloadTooLarge: 413,
  Forbidden: 403,
  VendorAccessDenied: 403,
  VendorNotFound: 404,
  VendorRejected: 422,
  Throttled: 429,
  VendorError: 502,
  VendorUnavailable: 503,
  KeysUnavailable: 503,
  PolicyUnavailable: 503,
  ConfigurationError: 503,
  Timeout: 504,
  InternalError: 500,
} as const;

/** The `code` of an error answer. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** What an error may carry beyond its code and message. */
export interface BrokerErrorDetails {
  /** The vendor's own error code, e.g. `Throttling.User` or `RetCode 153`. */
  vendorCode?: string;
  vendorRequestId?: string;
  /** Seconds the caller should wait before trying again (sets `Retry-After`). */
  retryAfterSeconds?: number;
  /** Field-level problems of an invalid request. */
  details?: { path: string; message: string }[];
  cause?: unknown;
}

/** The one error class the broker throws on purpose: a code of the error table, a status, and a message callers may read. */
export class BrokerError extends Error {
  override readonly name = 'BrokerError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly vendorCode?: string;
  readonly vendorRequestId?: string;
  readonly retryAfterSeconds?: number;
  readonly details?: { path: string; message: string }[];

  /** `message` goes to callers verbatim: it must never carry a secret. */
  constructor(code: ErrorCode, message: string, extra: BrokerErrorDetails = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.status = ERROR_STATUS[code];
    if (extra.vendorCode !== undefined) this.vendorCode = extra.vendorCode;
    if (extra.vendorRequestId !== undefined) this.vendorRequestId = extra.vendorRequestId;
    if (extra.retryAfterSeconds !== undefined) this.retryAfterSeconds = extra.retryAfterSeconds;
    if (extra.details !== undefined) this.details = extra.details;
  }
}

/** Any thrown value as a BrokerError; unknown errors become a message-free InternalError. */
export function toBrokerError(error: unknown): BrokerError {
  if (error instanceof BrokerError) return error;
  return new BrokerError('InternalError', 'The broker failed unexpectedly; see its logs with the request id.', {
    cause: error,
  });
}

/** The JSON error body of docs/contracts.md: no stack, no cause, nothing but what callers may see. */
export function errorBody(error: BrokerError, requestId: string) {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.vendorCode !== undefined && { vendorCode: error.vendorCode }),
      ...(error.vendorRequestId !== undefined && { vendorRequestId: error.vendorRequestId }),
      ...(error.code === 'InvalidRequest' && error.details !== undefined && { details: error.details }),
      requestId,
    },
  };
}

/**
 * Whether trying the same request again may end differently, per code: the one place that
 * decides what a provisioning message does after a failure (lib/runtime/triggers/sqs.ts). Retrying
 * helps when the failure was about the moment (throttling, an unavailable or unreadable vendor,
 * a deadline, SSM or configuration that an operator can restore); it cannot when the request
 * itself was refused (invalid, over a limit, rejected, denied or unknown at the vendor, or a
 * request the vendor cannot route): such a message goes to the dead-letter queue at once,
 * instead of reaching the vendor again on every delivery. Every code must be decided here.
 */
const RETRY_MAY_HELP: Record<ErrorCode, boolean> = {
  InvalidRequest: false,
  PayloadTooLarge: false,
  Forbidden: false,
  VendorAccessDenied: false,
  VendorNotFound: false,
  VendorRejected: false,
  Throttled: true,
  // An answer the broker could not read or use, a clock refused twice: the next one may differ.
  VendorError: true,
  VendorUnavailable: true,
  KeysUnavailable: true,
  PolicyUnavailable: true,
  ConfigurationError: true,
  Timeout: true,
  InternalError: false,
};

/** True when a retry of the same request cannot change the outcome (see RETRY_MAY_HELP). */
export function isPermanentFailure(error: BrokerError): boolean {
  return !RETRY_MAY_HELP[error.code];
}
