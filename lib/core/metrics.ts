/**
 * Metrics in CloudWatch Embedded Metric Format (EMF), written on the log lines the broker
 * already writes (docs/contracts.md, "Metrics"): an `_aws` block and the values at the root
 * of the audit line of an HTTP request, of each SQS message's line, of an EventBridge event's
 * line and of a rotation's "rotation finished" line. CloudWatch Logs turns them into metrics;
 * no network call is made and nothing happens at import time.
 *
 * An invocation (or an SQS record) gathers what it measures in a `Measures`; the line that
 * ends it writes them. Dimensions stay few so the number of metrics is bounded whatever the
 * traffic: `operation` (the operation's name, e.g. `cams:GetChatappUploadAuthorization`) on
 * every metric, and `Requests` also by `code` (`OK` or the error code). No dimension or value
 * ever holds a body value, a key or a credential: values are numbers, dimensions names.
 * @module
 */
import { METRICS_NAMESPACE_PATTERN } from './config.js';
import type { LogFields, MetricMembers } from './logger.js';

/** The namespace when METRICS_NAMESPACE is unset (a deployment sets `CloudTokenBroker/<stage>`). */
export const DEFAULT_NAMESPACE = 'CloudTokenBroker';

/** Every metric the broker writes, with its CloudWatch unit. */
export const METRIC_UNITS = {
  /** HTTP requests answered, by `operation` and by `operation` and `code`. */
  Requests: 'Count',
  /** Successful HTTP answers by where they came from: 1 for the source, 0 for the others. */
  ServedFromMemory: 'Count',
  ServedFromTable: 'Count',
  ServedFromVendor: 'Count',
  /** Share of their lifetime the credentials handed out still had (0–100). */
  CredentialLifetimeLeft: 'Percent',
  /** Seconds the credentials handed out were still valid for. */
  CredentialSecondsLeft: 'Seconds',
  /** HTTP requests the caller policy refused. */
  PolicyDenials: 'Count',
  /** Vendor calls (each with its retries), attempts sent, and attempts throttled or failed. */
  VendorCalls: 'Count',
  VendorAttempts: 'Count',
  VendorThrottled: 'Count',
  VendorFailed: 'Count',
  /** Time of one vendor attempt, send to answer. */
  VendorLatency: 'Milliseconds',
  /** Time an attempt waited for a rate slot (operations with a rate limit). */
  RateLimitWait: 'Milliseconds',
  /** Requests the rate limiter refused (429) because no slot came before the deadline. */
  RateLimited: 'Count',
  /** Time a request waited on another instance's refresh lease. */
  LeaseWait: 'Milliseconds',
  /** Scheduled rotations run, and their bodies rotated, left fresh, failed, deferred to the next run (time nearly up). */
  RotationRuns: 'Count',
  RotationRotated: 'Count',
  RotationFresh: 'Count',
  RotationFailed: 'Count',
  RotationDeferred: 'Count',
  /** Master-key rotation runs (lib/rotation/), by the rotation function's name as `operation`: runs, failed runs, finished rotations. */
  MasterKeyRotationRuns: 'Count',
  MasterKeyRotationFailed: 'Count',
  MasterKeyRotated: 'Count',
  /** A rotation started longer ago than ROTATION_STUCK_SECONDS and not finished. */
  MasterKeyRotationStuck: 'Count',
  /** A rotation stopped, changing nothing: an Active key the broker does not know, or an Inactive one still in use. */
  MasterKeyUnknown: 'Count',
  /** Age of the master key a rotation run found (seconds). */
  MasterKeyAge: 'Seconds',
  /** SQS records processed and failed; EventBridge events processed and failed. */
  MessagesProcessed: 'Count',
  MessagesFailed: 'Count',
  EventsProcessed: 'Count',
  EventsFailed: 'Count',
  /** Requests, messages, events or rotated bodies that failed because a key or the caller policy could not be read from SSM or is malformed. */
  SsmFaults: 'Count',
  /** Calls to the token table that failed (the broker went on without it). */
  TableFaults: 'Count',
} as const;

/** A metric the broker writes. */
export type MetricName = keyof typeof METRIC_UNITS;
type Unit = (typeof METRIC_UNITS)[MetricName];
/** Metrics that count things. */
export type CountMetric = { [N in MetricName]: (typeof METRIC_UNITS)[N] extends 'Count' ? N : never }[MetricName];
/** Metrics whose every sample is kept: times, shares, seconds. */
export type SampleMetric = Exclude<MetricName, CountMetric>;

/** EMF takes at most 100 values of one metric on one line; a distribution keeps its first 100. */
export const MAX_SAMPLES = 100;

/** What one invocation (or one SQS record) measured, until its line writes it. */
export interface Measures {
  /** Adds `n` (default 1) to a count; `n = 0` records the count as zero. */
  count(name: CountMetric, n?: number): void;
  /** One sample of a distribution. */
  sample(name: SampleMetric, value: number): void;
  /** Everything measured so far: counts as numbers, distributions as lists. */
  values(): Partial<Record<MetricName, number | number[]>>;
  /**
   * The vendor account the invocation ran in, when not `default` (lib/access/account.ts): its
   * metrics then also carry the `Account` dimension. `default` adds none, so the metrics and
   * alarms by `operation` alone stay as they were, and count every account.
   */
  account?: string;
}

/** An empty set of measures. */
export function createMeasures(): Measures {
  const counts: Partial<Record<CountMetric, number>> = {};
  const samples: Partial<Record<SampleMetric, number[]>> = {};
  return {
    count(name, n = 1) {
      counts[name] = (counts[name] ?? 0) + n;
    },
    sample(name, value) {
      if (!Number.isFinite(value)) return;
      samples[name] ??= [];
      const list = samples[name];
      if (list.length < MAX_SAMPLES) list.push(Math.round(value * 10) / 10);
    },
    values: () => ({ ...counts, ...samples }),
  };
}

/** Vendor answers that count as a failed attempt: the vendor's fault, or one the operator must fix (keys, permission). */
const FAILED_ATTEMPTS = new Set(['transient', 'timeout', 'deadline', 'network', 'malformed', 'bug', 'key', 'clock', 'accessDenied']);

/** One vendor attempt: its latency, and whether it was throttled or failed (a rejected or not-found request is the caller's). */
export function vendorAttempt(
  measures: Measures | undefined,
  attempt: { outcome: { kind: string } } | { failure: string },
  latencyMs: number,
): void {
  if (!measures) return;
  const kind = 'outcome' in attempt ? attempt.outcome.kind : attempt.failure;
  measures.count('VendorAttempts');
  measures.sample('VendorLatency', latencyMs);
  if (kind === 'throttled') measures.count('VendorThrottled');
  else if (FAILED_ATTEMPTS.has(kind)) measures.count('VendorFailed');
}

/** Where a successful HTTP answer came from: one of the three counts is 1, the others 0, so their average is a hit ratio. */
export function servedFrom(measures: Measures, source: 'memory' | 'table' | 'vendor'): void {
  measures.count('ServedFromMemory', source === 'memory' ? 1 : 0);
  measures.count('ServedFromTable', source === 'table' ? 1 : 0);
  measures.count('ServedFromVendor', source === 'vendor' ? 1 : 0);
}

/** How much life the credentials handed out had left: `share` of their lifetime (0–1), and seconds until `expiresAt`. */
export function credentialsServed(measures: Measures, share: number, expiresAt: string, now = Date.now()): void {
  measures.sample('CredentialLifetimeLeft', Math.max(0, Math.min(1, share)) * 100);
  measures.sample('CredentialSecondsLeft', Math.max(0, (Date.parse(expiresAt) - now) / 1000));
}

/** A failure that is an SSM fault: a key or the caller policy unreadable or malformed (a key the vendor refuses carries a vendorCode). */
export function countFault(measures: Measures, error: { code: string; vendorCode?: string } | undefined): void {
  if (error && (error.code === 'KeysUnavailable' || error.code === 'PolicyUnavailable') && error.vendorCode === undefined) {
    measures.count('SsmFaults');
  }
}

let namespaceOf: { raw: string | undefined; namespace: string } | undefined;

/**
 * METRICS_NAMESPACE, or the default when it is unset or invalid (the request itself then
 * answers ConfigurationError, naming it). Read on its own, not through readConfig(): one
 * variable instead of all of them, on every line that carries metrics.
 */
function namespace(): string {
  const raw = process.env.METRICS_NAMESPACE;
  if (namespaceOf === undefined || namespaceOf.raw !== raw) {
    namespaceOf = { raw, namespace: raw && METRICS_NAMESPACE_PATTERN.test(raw) ? raw : DEFAULT_NAMESPACE };
  }
  return namespaceOf.namespace;
}

interface Directive {
  Namespace: string;
  Dimensions: string[][];
  Metrics: { Name: MetricName; Unit: Unit }[];
}

/** Each metric's entry of a directive, made once. */
const DESCRIPTORS = Object.fromEntries(
  Object.entries(METRIC_UNITS).map(([Name, Unit]) => [Name, Object.freeze({ Name, Unit })]),
) as unknown as Record<MetricName, Directive['Metrics'][number]>;

/** The `operation` dimension, the `code` one for Requests; and with an account, `operation` and `Account` too. */
const BY_OPERATION = [['operation']];
const BY_CODE = [['operation'], ['operation', 'code']];
const BY_ACCOUNT = ['operation', 'Account'];

/** The EMF members of `measures` without the `operation` dimension's field; undefined when nothing was measured. */
function emf(measures: Measures, code: string | undefined): LogFields | undefined {
  const values = measures.values();
  const fields: LogFields = {};
  const byCode: Directive['Metrics'] = [];
  const byOperation: Directive['Metrics'] = [];
  for (const name of Object.keys(values) as MetricName[]) {
    const value = values[name]!;
    if (Array.isArray(value)) {
      if (value.length === 0) continue;
      fields[name] = value.length === 1 ? value[0] : value;
    } else fields[name] = value;
    (code !== undefined && name === 'Requests' ? byCode : byOperation).push(DESCRIPTORS[name]);
  }
  if (byCode.length === 0 && byOperation.length === 0) return undefined;
  const Namespace = namespace();
  const directives: Directive[] = [];
  const account = measures.account;
  if (account !== undefined) fields.Account = account;
  if (byCode.length > 0) {
    directives.push({ Namespace, Dimensions: account === undefined ? BY_CODE : [...BY_CODE, BY_ACCOUNT], Metrics: byCode });
    fields.code = code;
  }
  if (byOperation.length > 0) {
    directives.push({ Namespace, Dimensions: account === undefined ? BY_OPERATION : [...BY_OPERATION, BY_ACCOUNT], Metrics: byOperation });
  }
  fields._aws = { Timestamp: Date.now(), CloudWatchMetrics: directives };
  return fields;
}

/**
 * What a log line needs to carry `measures` as EMF, for the logger's `metrics` argument:
 * the metric values, the `code` dimension when given (Requests by code), and `_aws`; the
 * logger adds `operation` when the line lacks it. Undefined when nothing was measured.
 */
export function metricMembers(operation: string, measures: Measures, { code }: { code?: string } = {}): MetricMembers | undefined {
  const fields = emf(measures, code);
  return fields === undefined ? undefined : { operation, json: JSON.stringify(fields).slice(1, -1) };
}

/** The same as the fields of a record (tests, tools): `operation`, the values, `code` when given, `_aws`; `{}` when nothing was measured. */
export function metricFields(operation: string, measures: Measures, { code }: { code?: string } = {}): LogFields {
  const fields = emf(measures, code);
  return fields === undefined ? {} : { operation, ...fields };
}
