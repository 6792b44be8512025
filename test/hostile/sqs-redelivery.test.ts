/**
 * Hostile suite 3, no message lost: provisioning messages go through the IMS function's SQS
 * trigger (its deployment bundle), redelivered as SQS would (support/sqs-model.ts: visibility,
 * receive count, maxReceiveCount 5, a dead-letter list), while the vendor throttles, fails
 * with 5xx, resets connections, hangs, loses answers after doing the work, and rejects, at
 * random. Every message must end provisioned (the vendor holds the application with the
 * scopes asked for) or in the dead-letter list with its reason (the function's "message
 * failed" line). The simulator's call log must show no message reaching
 * ProvisionExternalApplication again after the vendor had answered that it was done; a repeat
 * within one delivery only after the vendor (or the network) said to retry; and a repeat after
 * a refusal only on a new delivery (a rejected message is retried until the dead-letter queue,
 * by design). "Already provisioned" counts as success only when the scopes match.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventBridgeEvent } from '../../sim/lambda-events.js';
import type { SimulatorCall } from '../../sim/vendor-simulator.js';
import { seeded } from '../support/seeded-random.js';
import { Tally } from './support/answers.js';
import { FULL, SIZES, writeLines, writeResult } from './support/sizes.js';
import { SqsModel } from './support/sqs-model.js';
import { type HostileWorld, nonJsonLines, startHostileWorld } from './support/world.js';

const FILE_NAME = 'sqs';
const FUNCTION = 'ims-provision-external-application';
const PROVISION = 'ProvisionExternalApplication';
const READ = 'GetExternalApplication';
const ROUTE = '/v1/aliyun/ims/external-applications';
/** The functions' timeout and one vendor attempt's: short in the short form, so hangs cost little. */
const TIMEOUT_MS = FULL ? 10_000 : 3_000;
const VENDOR_TIMEOUT_MS = FULL ? 1_000 : 500;
const CHAOS = { throttleRate: 0.08, serverErrorRate: 0.05, resetRate: 0.03, hangRate: 0.02, lostReplyRate: 0.03, rejectRate: 0.01 };
/** What the vendor (or the network) does that tells the broker to try again. */
const RETRY_SIGNALS = new Set(['throttle', 'serverError', 'reset', 'hang', 'lostReply']);

type Kind = 'normal' | 'already matching' | 'already differing' | 'always rejected' | 'not JSON' | 'forbidden scope';
/** How a message must end: provisioned, or dead with this code (and vendor code). */
const EXPECTED: Record<Kind, { end: 'provisioned' } | { end: 'dead'; code: string; vendorCode?: string }> = {
  normal: { end: 'provisioned' },
  'already matching': { end: 'provisioned' },
  'already differing': { end: 'dead', code: 'VendorRejected', vendorCode: 'AlreadyDoneDiffers' },
  'always rejected': { end: 'dead', code: 'VendorRejected', vendorCode: 'InvalidParameter.AppId' },
  'not JSON': { end: 'dead', code: 'InvalidRequest' },
  'forbidden scope': { end: 'dead', code: 'Forbidden' },
};

interface Planned {
  messageId: string;
  kind: Kind;
  appId?: string;
  scopes?: string[];
  body: string;
}

function plan(count: number): Planned[] {
  const random = seeded(5);
  const scopeChoices = [undefined, ['openid'], ['openid', 'aliuid'], ['aliuid']];
  return Array.from({ length: count }, (_, i) => {
    const messageId = `m-${String(i).padStart(5, '0')}`;
    const appId = `app-sqs-${i}`;
    const r = random();
    const kind: Kind =
      r < 0.04
        ? 'already matching'
        : r < 0.08
          ? 'already differing'
          : r < 0.11
            ? 'always rejected'
            : r < 0.13
              ? 'not JSON'
              : r < 0.14
                ? 'forbidden scope'
                : 'normal';
    if (kind === 'not JSON') return { messageId, kind, body: `{"appId": "${appId}", ` };
    const scopes =
      kind === 'forbidden scope'
        ? ['openid', 'profile']
        : kind === 'already differing'
          ? ['openid', 'aliuid']
          : scopeChoices[Math.floor(random() * 4)];
    const detail = { appId, ...(scopes && { scopes }) };
    // About a third come as the EventBridge rule delivers them: the event around the body.
    const body = random() < 0.33 ? JSON.stringify(eventBridgeEvent(detail)) : JSON.stringify(detail);
    return { messageId, kind, appId, ...(scopes && { scopes }), body };
  });
}

let hw: HostileWorld;
beforeAll(async () => {
  hw = await startHostileWorld({
    env: { VENDOR_TIMEOUT_MS: String(VENDOR_TIMEOUT_MS) },
    functions: [FUNCTION],
    timeoutMs: TIMEOUT_MS,
    maxInstances: SIZES.pollers,
  });
}, 120_000);
afterAll(() => hw?.close());

/** The fields of "message processed" / "message failed" lines, by message id, in order. */
/** A message's vendor calls, for a problem report: action, outcome, fault, delivery, receive, time. */
function sequence(calls: SimulatorCall[], message: { receives: { start: number; end: number }[] }): string {
  const t0 = calls[0]?.receivedAt ?? 0;
  return calls
    .map((c) => {
      const receive = message.receives.findIndex((r) => c.receivedAt >= r.start && c.receivedAt <= r.end) + 1;
      return `${c.action} ${c.code}${c.chaos ? ` [${c.chaos}]` : ''}${c.delivered ? '' : ' (undelivered)'} r${receive} +${c.receivedAt - t0}ms`;
    })
    .join(' → ');
}

function messageLines(lines: readonly string[]) {
  const byMessage = new Map<string, Record<string, any>[]>();
  for (const line of lines) {
    if (!line.includes('"messageId"')) continue;
    const record = JSON.parse(line) as Record<string, any>;
    if (record.message !== 'message processed' && record.message !== 'message failed') continue;
    byMessage.set(record.messageId, [...(byMessage.get(record.messageId) ?? []), record]);
  }
  return byMessage;
}

describe(`no message lost: ${SIZES.messages} provisioning messages, random vendor faults, SQS redelivery`, () => {
  it(
    'every message ends provisioned or dead-lettered with its reason; no duplicate provisioning',
    async () => {
      const { host, world, scan } = hw;
      const { sim } = world;
      const planned = plan(SIZES.messages);

      // Applications already there before the messages arrive: some with the scopes a message will ask for, some without.
      for (const p of planned.filter((m) => m.kind === 'already matching' || m.kind === 'already differing')) {
        const scopes = p.kind === 'already differing' ? ['openid'] : (p.scopes ?? ['openid', 'aliuid']);
        const answer = await fetch(`${host.url}${ROUTE}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ appId: p.appId, scopes }),
        });
        expect(answer.status).toBe(200);
      }
      for (const p of planned.filter((m) => m.kind === 'always rejected')) {
        sim.script({
          action: PROVISION,
          params: { AppId: p.appId! },
          times: 1_000,
          fault: { kind: 'aliyunError', status: 400, code: 'InvalidParameter.AppId' },
        });
      }
      const setupCalls = sim.calls.length;
      sim.setChaos({ ...CHAOS, actions: [PROVISION, READ], random: seeded(9) });

      const visibilityMs = 6 * TIMEOUT_MS;
      const queue = new SqsModel({
        visibilityMs,
        maxReceiveCount: 5,
        batchSize: SIZES.batchSize,
        pollers: SIZES.pollers,
        maxWallMs: FULL ? 25 * 60_000 : 80_000,
      });
      for (const p of planned) queue.send(p.messageId, p.body);
      const drained = await queue.drain((event) => host.invoke(FUNCTION, event, TIMEOUT_MS));

      // How each message ended, and why.
      const logs = messageLines(host.lines);
      const outcomes = new Tally();
      const deadReasons = new Tally();
      const problems: string[] = [];
      let provisioned = 0;
      let lost = 0;
      for (const p of planned) {
        const message = queue.messages.get(p.messageId)!;
        const lines = logs.get(p.messageId) ?? [];
        const last = lines.at(-1);
        const expected = EXPECTED[p.kind];
        // Each delivery is logged once, with its receive count.
        const counts = lines.map((l) => Number(l.receiveCount ?? NaN));
        const failedLines = lines.filter((l) => l.message === 'message failed');
        if (failedLines.some((l, i) => Number(l.receiveCount) !== i + 1) || lines.length !== message.receiveCount) {
          problems.push(
            `${p.messageId}: ${lines.length} log lines for ${message.receiveCount} receives (receive counts ${counts.join(',')})`,
          );
        }
        if (message.state === 'deleted') {
          const scopes = sim.provisionedScopes(p.appId ?? '');
          const asked = p.scopes ?? [];
          if (last?.message !== 'message processed' || scopes === undefined || !asked.every((s) => scopes.includes(s))) {
            lost++;
            problems.push(
              `${p.messageId} (${p.kind}): deleted, but the vendor holds ${JSON.stringify(scopes)} for ${JSON.stringify(asked)}`,
            );
            continue;
          }
          provisioned++;
          outcomes.add(`${p.kind}: provisioned${last.alreadyProvisioned ? ' (already there)' : ''}`);
          if (expected.end !== 'provisioned') problems.push(`${p.messageId} (${p.kind}): provisioned, expected dead ${expected.code}`);
          continue;
        }
        if (message.state === 'dead') {
          if (last?.message !== 'message failed') {
            lost++;
            problems.push(`${p.messageId} (${p.kind}): dead-lettered without a reason in the log`);
            continue;
          }
          const reason = `${last.code}${last.vendorCode ? ` (${last.vendorCode})` : ''}`;
          deadReasons.add(reason);
          outcomes.add(`${p.kind}: dead ${reason}`);
          // The dead-letter reason is the last delivery's; a random fault may have ended that one, so the
          // expected refusal must be among its deliveries' reasons, and a normal message is never dead.
          const refused =
            expected.end === 'dead' &&
            failedLines.some(
              (l) => l.code === expected.code && (expected.vendorCode === undefined || l.vendorCode === expected.vendorCode),
            );
          if (!refused) problems.push(`${p.messageId} (${p.kind}): dead with ${reason}, expected ${JSON.stringify(expected)}`);
          continue;
        }
        lost++;
        problems.push(`${p.messageId} (${p.kind}): still ${message.state} when the run ended`);
      }

      // The vendor's side: every ProvisionExternalApplication call, per message, in order.
      const calls = sim.calls.slice(setupCalls);
      const byApp = new Map<string, SimulatorCall[]>();
      for (const call of calls) byApp.set(call.params.AppId ?? '', [...(byApp.get(call.params.AppId ?? '') ?? []), call]);
      const repeats = new Tally();
      let duplicateProvisions = 0;
      let strayCalls = 0;
      // What the broker itself saw, from its log: per message, each retried attempt's number and
      // vendor code ('Timeout' or 'NetworkError' when no answer reached it), and each delivery's failure code.
      const brokerLines = new Map<string, { time: number; message: string; attempt?: number; vendorCode?: string; code?: string }[]>();
      for (const line of host.lines) {
        if (!line.includes('"messageId"')) continue;
        const record = JSON.parse(line) as {
          messageId?: string;
          time: string;
          message: string;
          attempt?: number;
          vendorCode?: string;
          code?: string;
        };
        if (record.messageId === undefined) continue;
        brokerLines.set(record.messageId, [...(brokerLines.get(record.messageId) ?? []), { ...record, time: Date.parse(record.time) }]);
      }
      const retrySignal = (call: SimulatorCall) =>
        RETRY_SIGNALS.has(call.chaos ?? '') || call.code.startsWith('Throttling') || call.status >= 500;
      for (const p of planned) {
        const message = queue.messages.get(p.messageId)!;
        const own = byApp.get(p.appId ?? '\0') ?? [];
        const logged = brokerLines.get(p.messageId) ?? [];
        const receiveOf = (call: SimulatorCall) =>
          message.receives.findIndex((r) => call.receivedAt >= r.start && call.receivedAt <= r.end);
        for (const call of own) {
          if (receiveOf(call) < 0) {
            strayCalls++;
            problems.push(`${p.messageId}: a ${call.action} call outside every delivery of the message`);
          }
        }
        if ((p.kind === 'not JSON' || p.kind === 'forbidden scope') && own.length > 0)
          problems.push(`${p.messageId} (${p.kind}) reached the vendor`);
        const provisions = own.filter((c) => c.action === PROVISION);
        /**
         * Whether the broker got no answer to this Provision call: within one delivery the calls are its
         * attempts 1, 2, … of one vendor call, and it logs each attempt it retries with what it saw
         * (before the reconciling read starts, whose attempts count from 1 again); a delivery that
         * failed with Timeout got no answer to its last attempt.
         */
        const brokerGotNoAnswer = (call: SimulatorCall, sameDelivery: boolean): boolean => {
          const r = receiveOf(call);
          const window = message.receives[r];
          if (!window) return false;
          const inDelivery = logged.filter((l) => l.time >= window.start && l.time <= window.end);
          if (!sameDelivery) return inDelivery.some((l) => l.message === 'message failed' && l.code === 'Timeout');
          const attempt = provisions.filter((c) => receiveOf(c) === r).indexOf(call) + 1;
          const firstRead = own.find((c) => c.action === READ && receiveOf(c) === r)?.receivedAt ?? Number.POSITIVE_INFINITY;
          return inDelivery.some(
            (l) =>
              l.message === 'vendor call failed; retrying' &&
              l.attempt === attempt &&
              l.time < firstRead &&
              (l.vendorCode === 'Timeout' || l.vendorCode === 'NetworkError'),
          );
        };
        for (let i = 1; i < provisions.length; i++) {
          const [previous, call] = [provisions[i - 1]!, provisions[i]!];
          const sameDelivery = receiveOf(previous) === receiveOf(call);
          if (retrySignal(previous)) {
            repeats.add('after a retry signal');
          } else if (!previous.delivered || brokerGotNoAnswer(previous, sameDelivery)) {
            // The answer did not reach the broker in time (its attempt timeout or deadline came first, under load).
            repeats.add('after no answer reached the broker in time');
          } else if (previous.code === 'OK') {
            duplicateProvisions++;
            problems.push(`${p.messageId}: ProvisionExternalApplication again after the vendor had answered OK: ${sequence(own, message)}`);
          } else if (!sameDelivery) {
            repeats.add(`on redelivery after ${previous.code}`);
          } else {
            repeats.add(`within one delivery after ${previous.code}`);
            problems.push(`${p.messageId}: retried within one delivery after the final answer ${previous.code}: ${sequence(own, message)}`);
          }
        }
      }
      const slowest = Math.max(...queue.invocations.map((i) => i.end - i.start));
      if (slowest >= visibilityMs) problems.push(`an invocation took ${slowest} ms, past the visibility timeout`);

      scan.addSignatures(sim.calls);
      for (const [i, line] of host.lines.entries()) scan.scan(line, `log line ${i + 1}`);
      const kinds = new Tally();
      for (const p of planned) kinds.add(p.kind);
      const injected = new Tally();
      for (const call of calls) if (call.chaos) injected.add(call.chaos);
      for (const call of calls) if (call.fault && !call.chaos) injected.add(`scripted ${call.code}`);
      const figures = {
        messages: planned.length,
        kinds: kinds.toJSON(),
        provisioned,
        deadLettered: queue.deadLetters.length,
        lost,
        finished: drained.finished,
        wallSeconds: +(drained.wallMs / 1000).toFixed(1),
        invocations: queue.invocations.length,
        failedInvocations: queue.invocations.filter((i) => i.error).length,
        slowestInvocationMs: slowest,
        receives: [...queue.messages.values()].reduce((n, m) => n + m.receiveCount, 0),
        outcomes: outcomes.toJSON(),
        deadReasons: deadReasons.toJSON(),
        vendor: {
          provisionCalls: calls.filter((c) => c.action === PROVISION).length,
          readCalls: calls.filter((c) => c.action === READ).length,
          faultsInjected: injected.toJSON(),
        },
        repeats: repeats.toJSON(),
        duplicateProvisions,
        strayCalls,
        secrets: { scannedTexts: scan.scanned, ...scan.counts, found: scan.findings.length },
        problems: problems.slice(0, 20),
      };
      writeLines(FILE_NAME, host.lines);
      const file = writeResult(FILE_NAME, figures);
      console.log(
        `sqs: ${planned.length} messages in ${figures.wallSeconds} s, ${figures.invocations} invocations, ${figures.receives} receives: ` +
          `${provisioned} provisioned, ${queue.deadLetters.length} dead-lettered, ${lost} lost\n  outcomes: ${outcomes}\n` +
          `  vendor: ${figures.vendor.provisionCalls} provision calls, ${figures.vendor.readCalls} reads; faults ${injected}\n` +
          `  repeats: ${repeats}; duplicate provisions ${duplicateProvisions}; stray calls ${strayCalls}; secrets: ${scan.report()}\n  → ${file}`,
      );

      expect(problems).toEqual([]);
      expect(drained.finished).toBe(true);
      expect(lost).toBe(0);
      expect(provisioned + queue.deadLetters.length).toBe(planned.length);
      expect(duplicateProvisions).toBe(0);
      expect(strayCalls).toBe(0);
      // The faults were there, and some messages needed more than one delivery.
      expect(injected.get('lostReply')).toBeGreaterThan(0);
      expect(figures.receives).toBeGreaterThan(planned.length);
      expect(nonJsonLines(host.lines)).toEqual([]);
      expect(scan.counts.signatures).toBeGreaterThan(0);
      expect(scan.report()).toBe('0 found (none)');
    },
    FULL ? 30 * 60_000 : 90_000,
  );
});
