import { DEFAULT_ACCOUNT } from '../access/account.js';
import { type BackoffPolicy, DEFAULT_BACKOFF, retryDelay, sleep } from '../core/backoff.js';
import { readConfig } from '../core/config.js';
import { BrokerError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { type Measures, vendorAttempt } from '../core/metrics.js';
import type { Operation } from '../spec/operation.js';
import { acquireVendorSlot } from '../state/rate-budget.js';
import type { FailureClass, SignedRequest, VendorAdapter, VendorOutcome, VendorParams } from '../vendor/api.js';
import { readKeys } from '../vendor/keys.js';
import { sendRequest } from '../vendor/transport.js';

/** What a vendor call needs of its invocation. */
export interface CallOptions {
  /** Epoch ms by which the caller must have its answer (Lambda deadline less a margin). */
  deadline: number;
  /** Aborts an attempt in flight when the invocation's deadline passes (middy's signal). */
  signal?: AbortSignal;
  logger: Logger;
  backoff?: BackoffPolicy;
  random?: () => number;
  /** Where the call's attempts, latency and rate-limit waits are counted (lib/core/metrics.ts). */
  metrics?: Measures;
  /** Whose share of the operation's rate budget the call takes (lib/access/tenant.ts); absent: the events tenant. */
  tenant?: string;
  /**
   * The vendor account whose keys sign the call and whose rate limit it counts against
   * (lib/access/account.ts); absent: EVENT_ACCOUNT (events, schedules), else `default`.
   */
  account?: string;
}

/** The account a call runs in: the one its invocation chose, else the function's EVENT_ACCOUNT, else `default`. */
export function callAccount(options: Pick<CallOptions, 'account'> = {}): string {
  return options.account ?? readConfig().EVENT_ACCOUNT ?? DEFAULT_ACCOUNT;
}

/** A vendor's successful (or already-done) answer, before it is shaped for the caller. */
export interface VendorResult {
  /** The vendor's whole answer body; undefined when `alreadyDone`. */
  payload?: Record<string, unknown>;
  vendorRequestId?: string;
  /** When the vendor answered: the base of credential lifetimes. */
  issuedAt: number;
  /** The vendor said the operation had already been done (an idempotent repeat). */
  alreadyDone?: boolean;
}

/** No attempt starts with less time than this left: it could not finish anyway. */
const MIN_ATTEMPT_MS = 50;

/** The spec's own vendor's adapter and endpoint: the spec names it (`api`), so no other vendor's code is bundled. */
function vendorOf(op: Operation): { endpoint: string; adapter: VendorAdapter<Record<string, unknown>> } {
  const settings = op.api.readSettings() as Record<string, unknown>;
  return { endpoint: settings[op.endpoint] as string, adapter: op.api.adapter(settings) };
}

type Attempt = { outcome: VendorOutcome } | { failure: 'timeout' | 'deadline' | 'network' };

async function send(
  request: SignedRequest,
  timeoutMs: number,
  deadlineSignal: AbortSignal | undefined,
  classify: VendorAdapter<unknown>['classify'],
): Promise<Attempt> {
  const sent = await sendRequest(request, timeoutMs, deadlineSignal);
  if ('failure' in sent) return sent;
  const { status, headers, text } = sent.answer;
  return { outcome: classify(status, headers, text) };
}

const FINAL_ERRORS: Partial<Record<FailureClass, [BrokerError['code'], string]>> = {
  accessDenied: ['VendorAccessDenied', 'The vendor refused the broker permission for this operation.'],
  notFound: ['VendorNotFound', 'The vendor says the resource does not exist.'],
  rejected: ['VendorRejected', 'The vendor rejected the request parameters.'],
  malformed: ['VendorError', 'The vendor sent an answer the broker cannot read.'],
  bug: ['InternalError', 'The broker sent a request the vendor does not recognise.'],
  key: ['KeysUnavailable', 'The vendor refused the master key even after it was read again from SSM.'],
  clock: ['VendorError', 'The vendor refused the request timestamp or nonce twice.'],
};

function vendorFields(outcome: Exclude<VendorOutcome, { kind: 'ok' }>) {
  return {
    vendorCode: outcome.vendorCode,
    ...(outcome.vendorRequestId !== undefined && { vendorRequestId: outcome.vendorRequestId }),
  };
}

/**
 * Signs and sends one vendor request, retrying as docs/vendors.md says: throttling, 5xx and
 * network errors with full-jitter backoff; a refused key once after re-reading it past
 * the cache; a refused timestamp or nonce once. Every attempt is signed afresh, and no
 * attempt starts when the deadline would pass first.
 */
export async function callVendor(op: Operation, params: VendorParams, options: CallOptions): Promise<VendorResult> {
  const { deadline, logger } = options;
  const policy = options.backoff ?? DEFAULT_BACKOFF;
  const config = readConfig();
  const { endpoint, adapter } = vendorOf(op);
  const account = callAccount(options);
  // An event's account (EVENT_ACCOUNT) on its metrics as well as a caller's.
  if (account !== DEFAULT_ACCOUNT && options.metrics !== undefined) options.metrics.account = account;
  let keys = await readKeys(op.api, account);
  let keysReread = false;
  let resigned = false;
  let retries = 0;
  options.metrics?.count('VendorCalls');

  for (;;) {
    if (deadline - Date.now() < MIN_ATTEMPT_MS) throw timeoutError();
    // The operation's rate limit, across every instance: the request is signed and sent right after.
    await acquireVendorSlot(op, deadline - MIN_ATTEMPT_MS, logger, options.metrics, options.tenant, account);
    const request = adapter.sign({ endpoint, target: op, params, keys, now: new Date() });
    const sentAt = Date.now();
    const attempt = await send(request, config.VENDOR_TIMEOUT_MS, options.signal, adapter.classify);
    vendorAttempt(options.metrics, attempt, Date.now() - sentAt);
    if ('failure' in attempt && attempt.failure === 'deadline') throw timeoutError();

    const outcome: VendorOutcome =
      'outcome' in attempt
        ? attempt.outcome
        : { kind: 'transient', vendorCode: attempt.failure === 'timeout' ? 'Timeout' : 'NetworkError' };
    if (outcome.kind === 'ok') {
      return {
        payload: outcome.payload,
        issuedAt: Date.now(),
        ...(outcome.vendorRequestId !== undefined && { vendorRequestId: outcome.vendorRequestId }),
      };
    }
    if (op.alreadyDone?.(outcome.vendorCode)) {
      return {
        alreadyDone: true,
        issuedAt: Date.now(),
        ...(outcome.vendorRequestId !== undefined && { vendorRequestId: outcome.vendorRequestId }),
      };
    }
    const retryLog = { operation: op.name, vendorCode: outcome.vendorCode, vendorRequestId: outcome.vendorRequestId, attempt: retries + 1 };

    if (outcome.kind === 'key' && !keysReread) {
      logger.warn('vendor refused the master key; reading it again past the cache', retryLog);
      keys = await readKeys(op.api, account, { fresh: true });
      keysReread = true;
      continue;
    }
    if (outcome.kind === 'clock' && !resigned) {
      logger.warn('vendor refused the timestamp or nonce; signing again', retryLog);
      resigned = true;
      continue;
    }
    if (outcome.kind === 'throttled' || outcome.kind === 'transient') {
      const delay = retryDelay(retries, policy, outcome.retryAfterMs, options.random);
      const canRetry = retries + 1 < policy.maxAttempts && Date.now() + delay + MIN_ATTEMPT_MS < deadline;
      if (!canRetry) throw exhausted(outcome, delay);
      logger.warn('vendor call failed; retrying', { ...retryLog, delayMs: delay });
      await sleep(delay);
      retries += 1;
      continue;
    }
    const [code, message] = FINAL_ERRORS[outcome.kind] ?? ['VendorError', 'The vendor failed.'];
    throw new BrokerError(code, message, vendorFields(outcome));
  }
}

function timeoutError(): BrokerError {
  return new BrokerError('Timeout', 'The vendor did not answer before the function deadline.');
}

function exhausted(outcome: Exclude<VendorOutcome, { kind: 'ok' }>, nextDelayMs: number): BrokerError {
  if (outcome.kind === 'throttled') {
    const retryAfterSeconds = Math.max(1, Math.ceil(Math.max(nextDelayMs, outcome.retryAfterMs ?? 0) / 1000));
    return new BrokerError('Throttled', 'The vendor is throttling requests; try again later.', {
      ...vendorFields(outcome),
      retryAfterSeconds,
    });
  }
  return new BrokerError('VendorUnavailable', 'The vendor is unavailable; try again later.', vendorFields(outcome));
}
