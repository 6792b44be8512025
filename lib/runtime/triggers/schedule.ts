import { readConfig } from '../../core/config.js';
import { BrokerError, toBrokerError } from '../../core/errors.js';
import { countFault, metricMembers } from '../../core/metrics.js';
import type { LambdaHandler, Operation, ScheduleTrigger } from '../../spec/operation.js';
import { bodyKey } from '../../state/body-key.js';
import { type RotationReport, rotateOne } from '../credentials.js';
import type { Invocation } from '../middleware/invocation-context.js';
import { validateBody } from '../run-operation.js';
import { triggerStack, withInvocation } from './stack.js';

/** The schedule's input: the bodies whose credentials to keep fresh. */
export interface RotationEvent {
  rotate: unknown[];
}

/** True for a schedule input `{"rotate": [...]}`. */
export function isRotationEvent(event: unknown): event is RotationEvent {
  return event !== null && typeof event === 'object' && Array.isArray((event as { rotate?: unknown }).rotate);
}

/** Thrown when any body failed, so the invocation counts as an error and can alarm. */
export class RotationFailed extends Error {
  override readonly name = 'RotationFailed';
  constructor(readonly report: RotationReport) {
    const total = report.failed.length + report.rotated + report.fresh;
    super(`${report.failed.length} of ${total} token rotations failed: ${report.failed.map((f) => `${f.key} ${f.code}`).join(', ')}`);
  }
}

/** Time a body may take at most besides its vendor call: a rate slot, a table read and write. */
const BODY_OVERHEAD_MS = 1_000;

/**
 * Refreshes each body's stored credentials unless half their lifetime is left. Each body is
 * validated, hashed and rotated on its own: one bad body never stops the others. A body is
 * started only while one vendor call and its overhead still fit before the deadline; the rest
 * are deferred, not failed: a rate-limited vendor (CAMS, 2 calls a second for the schedule's
 * share) cannot rotate a long list in one run, and the next run finds them still due while the
 * ones rotated now are fresh.
 */
async function rotate(op: Operation, event: RotationEvent, invocation: Invocation): Promise<RotationReport> {
  if (op.expiresAt === undefined) {
    throw new BrokerError('InvalidRequest', `${op.name} returns no credentials; there is nothing to rotate.`);
  }
  const report: RotationReport = { rotated: 0, fresh: 0, failed: [] };
  const perBodyMs = readConfig().VENDOR_TIMEOUT_MS + BODY_OVERHEAD_MS;
  for (const [index, raw] of event.rotate.entries()) {
    if (Date.now() + perBodyMs > invocation.deadline) {
      report.deferred = event.rotate.length - index;
      break;
    }
    // An invalid body has no hash to name it by: its position does.
    let key = `#${index}`;
    try {
      const body = validateBody(op, raw);
      key = bodyKey(body);
      report[await rotateOne(op, body, invocation)] += 1;
    } catch (thrown) {
      const error = toBrokerError(thrown);
      countFault(invocation.metrics, error);
      report.failed.push({
        key,
        code: error.code,
        message: error.message,
        ...(error.vendorCode !== undefined && { vendorCode: error.vendorCode }),
      });
      // The report names the failure; the log line keeps its cause (an SSM error, say) for the operator.
      invocation.logger.error('rotation of one body failed', {
        key,
        code: error.code,
        vendorCode: error.vendorCode,
        ...(error.details !== undefined && { detailCount: error.details.length }),
        cause: error.cause,
      });
    }
  }
  const { metrics } = invocation;
  // Every run is counted (the lateness alarm needs it); its results only when there are some, so
  // an idle stage publishes one metric per schedule, not four.
  metrics.count('RotationRuns');
  if (report.rotated > 0) metrics.count('RotationRotated', report.rotated);
  if (report.fresh > 0) metrics.count('RotationFresh', report.fresh);
  if (report.deferred !== undefined) metrics.count('RotationDeferred', report.deferred);
  if (report.failed.length > 0) metrics.count('RotationFailed', report.failed.length);
  invocation.logger[report.failed.length ? 'error' : 'info']('rotation finished', { ...report }, metricMembers(op.name, metrics));
  if (report.failed.length) throw new RotationFailed(report);
  return report;
}

/** The schedule trigger: `{"rotate": [<body>, ...]}` on a `rate`, returning a rotation report. */
export function schedule({ rate }: { rate: string }): ScheduleTrigger {
  if (!/^(rate|cron)\(.+\)$/.test(rate)) throw new TypeError(`schedule: "${rate}" is not an EventBridge rate() or cron() expression`);
  return {
    kind: 'schedule',
    rate,
    accepts: isRotationEvent,
    handler: (op) =>
      triggerStack<RotationEvent>(op).handler(
        withInvocation((event: RotationEvent, invocation) => rotate(op, event, invocation)),
      ) as unknown as LambdaHandler,
  };
}
