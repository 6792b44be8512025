/**
 * Hostile suite 3, no message lost: provisioning messages go through the IMS function's SQS
 * trigger (its deployment bundle), redelivered as SQS would (support/sqs-model.ts: visibility,
 * receive count, maxReceiveCount 5, a dead-letter list), while the vendor throttles, fails
 * with 5xx, resets connections, hangs, loses answers after doing the work, and rejects, at
 * random. Every message must end provisioned (the vendor holds the application with the
 * scopes asked for) or in the dead-letter list with its reason: sent there by the function
 * itself (through the fake SQS, with its reason in message attributes, matching its "message
 * failed" line) when it was refused for good, or moved there by SQS after maxReceiveCount
 * deliveries that all failed for reasons a retry may help. The simulator's call log must show
 * no message reaching ProvisionExternalApplication again after the vendor had answered that it
 * was done; a repeat within one delivery only after the vendor (or the network) said to retry;
 * and no repeat after a refusal: a refused message is never delivered again. "Already
 * provisioned" counts as success only when the scopes match. A refused scope (one not listed,
 * one with a control character) is named by its field and never written: no log line and no
 * dead-letter attribute holds it; a refusal whose reason SQS cannot take (a vendor code with a
 * control character) is still dead-lettered by the function, with the minimal reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventBridgeEvent } from '../../sim/lambda-events.js';
import type { SimulatorCall } from '../../sim/vendor-simulator.js';
import { seeded } from '../support/seeded-random.js';
import { Tally } from './support/answers.js';
import { FULL, SIZES, writeLines, writeResult } from './support/sizes.js';
import { type QueueMessage, SqsModel } from './support/sqs-model.js';
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
/** The function's own dead-letter queue, held by the fake SQS. */
const DEAD_LETTER_QUEUE = 'cloud-token-broker-hostile-ims-provision-external-application-dlq';
/** The codes docs/contracts.md calls refusals for good: such a message goes to the dead-letter queue at once. */
const REFUSALS = new Set([
  'InvalidRequest',
  'PayloadTooLarge',
  'Forbidden',
  'VendorRejected',
  'VendorAccessDenied',
  'VendorNotFound',
  'InternalError',
]);
/** A vendor code with a control character: SQS refuses it as a message attribute value. */
const ODD_VENDOR_CODE = 'InvalidParameter\u0007Odd';
/** The refusal the simulator's random rejection (chaos 'reject') becomes: any message may meet it. */
const RANDOM_REFUSAL = { code: 'VendorRejected', vendorCode: 'InvalidParameter' };

type Kind =
  | 'normal'
  | 'throttled at first'
  | 'already matching'
  | 'already differing'
  | 'always rejected'
  | 'not JSON'
  | 'forbidden scope'
  | 'control scope'
  | 'odd vendor code';
/** How a message must end: provisioned, or dead with this code (and vendor code). */
const EXPECTED: Record<Kind, { end: 'provisioned' } | { end: 'dead'; code: string; vendorCode?: string }> = {
  normal: { end: 'provisioned' },
  // Its first answer says to wait longer than the delivery has: it must come back, and then succeed.
  'throttled at first': { end: 'provisioned' },
  'already matching': { end: 'provisioned' },
  'already differing': { end: 'dead', code: 'VendorRejected', vendorCode: 'AlreadyDoneDiffers' },
  'always rejected': { end: 'dead', code: 'VendorRejected', vendorCode: 'InvalidParameter.AppId' },
  'not JSON': { end: 'dead', code: 'InvalidRequest' },
  'forbidden scope': { end: 'dead', code: 'Forbidden' },
  // A scope with a control character: refused as invalid, before the event limits are even asked.
  'control scope': { end: 'dead', code: 'InvalidRequest' },
  // A refusal whose vendor code SQS cannot take as an attribute: dead-lettered all the same, with the minimal reason.
  'odd vendor code': { end: 'dead', code: 'VendorRejected', vendorCode: ODD_VENDOR_CODE },
};

interface Planned {
  messageId: string;
  kind: Kind;
  appId?: string;
  scopes?: string[];
  /** Text of a refused value that must never reach a log line or a dead-letter attribute. */
  marker?: string;
  body: string;
}

function plan(count: number): Planned[] {
  const random = seeded(5);
  const scopeChoices = [undefined, ['openid'], ['openid', 'aliuid'], ['aliuid']];
  const messages = Array.from({ length: count }, (_, i) => {
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
                : r < 0.17
                  ? 'throttled at first'
                  : 'normal';
    return planned(messageId, kind, appId, random, scopeChoices);
  });
  // A few of the kinds that carry a refused value or an odd reason, whatever the draw.
  const extra: Kind[] = ['forbidden scope', 'control scope', 'control scope', 'odd vendor code', 'odd vendor code'];
  return [...messages, ...extra.map((kind, i) => planned(`m-x${String(i).padStart(4, '0')}`, kind, `app-sqs-x${i}`, random, scopeChoices))];
}

function planned(messageId: string, kind: Kind, appId: string, random: () => number, scopeChoices: (string[] | undefined)[]): Planned {
  if (kind === 'not JSON') return { messageId, kind, body: `{"appId": "${appId}", ` };
  const marker = kind === 'forbidden scope' || kind === 'control scope' ? `Zq7${messageId}` : undefined;
  const scopes =
    kind === 'forbidden scope'
      ? ['openid', `profile-${marker}`]
      : kind === 'control scope'
        ? ['openid', `bell\u0007${marker}`]
        : kind === 'already differing'
          ? ['openid', 'aliuid']
          : scopeChoices[Math.floor(random() * 4)];
  const detail = { appId, ...(scopes && { scopes }) };
  // About a third come as the EventBridge rule delivers them: the event around the body.
  const body = random() < 0.33 ? JSON.stringify(eventBridgeEvent(detail)) : JSON.stringify(detail);
  return { messageId, kind, appId, ...(scopes && { scopes }), ...(marker && { marker }), body };
}

let hw: HostileWorld;
beforeAll(async () => {
  hw = await startHostileWorld({
    env: { VENDOR_TIMEOUT_MS: String(VENDOR_TIMEOUT_MS), DEAD_LETTER_QUEUE },
    queues: [DEAD_LETTER_QUEUE],
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

/**
 * What is wrong with how a dead message got to the dead-letter list: an empty list when
 * nothing is. The function sends a message there when a delivery is refused for good, once,
 * with the body queued and the reason its last line gives; SQS moves one there only after
 * maxReceiveCount deliveries that each failed for a reason a retry may help.
 */
function deadLetterProblems(
  p: Planned,
  message: QueueMessage,
  last: Record<string, any>,
  failedLines: Record<string, any>[],
  own: SimulatorCall[],
): string[] {
  const problems: string[] = [];
  const id = `${p.messageId} (${p.kind})`;
  const expected = EXPECTED[p.kind];
  if (message.deadLetteredBy === 'queue') {
    const refused = failedLines.find((l) => REFUSALS.has(l.code));
    if (refused) problems.push(`${id}: refused (${refused.code}), yet redelivered until SQS moved it`);
    // At these fault rates a good message never fails five deliveries running.
    if (expected.end === 'provisioned') problems.push(`${id}: moved by SQS after ${message.receiveCount} failed deliveries`);
    return problems;
  }
  const [letter, ...again] = message.sentByFunction;
  if (!letter || again.length > 0) return [`${id}: sent to the dead-letter queue ${message.sentByFunction.length} times`];
  const attribute = (name: string) => letter.attributes[name]?.StringValue;
  if (!REFUSALS.has(last.code)) problems.push(`${id}: dead-lettered by the function for ${last.code}, which a retry may help`);
  if (last.goesTo !== 'dead-letter queue' || last.deadLetterMessageId !== letter.messageId) {
    problems.push(`${id}: its last line does not name its dead-letter message`);
  }
  // Only a reason SQS cannot take goes minimal: what the broker wrote itself, the line saying so.
  const minimal = attribute('reasonAttributes') === 'minimal';
  if (minimal !== (last.vendorCode === ODD_VENDOR_CODE) || minimal !== (last.deadLetterReason === 'minimal')) {
    problems.push(`${id}: dead-lettered with the ${minimal ? 'minimal' : 'full'} reason, its line saying ${last.deadLetterReason}`);
  }
  const asLogged = {
    body: p.body,
    errorCode: last.code,
    ...(!minimal && { vendorCode: last.vendorCode, receiveCount: String(message.receiveCount) }),
    sourceMessageId: p.messageId,
  };
  const asSent = {
    body: letter.body,
    errorCode: attribute('errorCode'),
    ...(!minimal && { vendorCode: attribute('vendorCode'), receiveCount: attribute('receiveCount') }),
    sourceMessageId: attribute('sourceMessageId'),
  };
  if (JSON.stringify(asSent) !== JSON.stringify(asLogged)) {
    problems.push(`${id}: dead-letter message ${JSON.stringify(asSent)} is not its last delivery ${JSON.stringify(asLogged)}`);
  }
  // The refusal its kind must meet, or the simulator's random rejection, which it did meet.
  const is = (want: { code: string; vendorCode?: string }) =>
    last.code === want.code && (want.vendorCode === undefined || last.vendorCode === want.vendorCode);
  const explained = (expected.end === 'dead' && is(expected)) || (own.some((c) => c.chaos === 'reject') && is(RANDOM_REFUSAL));
  if (!explained) problems.push(`${id}: dead with ${last.code} ${last.vendorCode ?? ''}, expected ${JSON.stringify(expected)}`);
  return problems;
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
      for (const p of planned.filter((m) => m.kind === 'always rejected' || m.kind === 'odd vendor code')) {
        sim.script({
          action: PROVISION,
          params: { AppId: p.appId! },
          times: 1_000,
          fault: { kind: 'aliyunError', status: 400, code: p.kind === 'odd vendor code' ? ODD_VENDOR_CODE : 'InvalidParameter.AppId' },
        });
      }
      for (const p of planned.filter((m) => m.kind === 'throttled at first')) {
        sim.script({
          action: PROVISION,
          params: { AppId: p.appId! },
          fault: { kind: 'aliyunError', status: 400, code: 'Throttling.User', headers: { 'x-acs-retry-after': '60000' } },
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
        deadLetterQueue: { sqs: world.sqs, name: DEAD_LETTER_QUEUE },
      });
      for (const p of planned) queue.send(p.messageId, p.body);
      const drained = await queue.drain((event) => host.invoke(FUNCTION, event, TIMEOUT_MS));

      // The vendor's side: every call, per message (application), in order.
      const calls = sim.calls.slice(setupCalls);
      const byApp = new Map<string, SimulatorCall[]>();
      for (const call of calls) byApp.set(call.params.AppId ?? '', [...(byApp.get(call.params.AppId ?? '') ?? []), call]);
      const ownCalls = (p: Planned) => byApp.get(p.appId ?? '\0') ?? [];

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
        // A refusal ends a message's deliveries: it goes to the dead-letter queue then, and only then.
        const refusal = failedLines.find((l) => REFUSALS.has(l.code));
        if (refusal && refusal !== last) problems.push(`${p.messageId} (${p.kind}): delivered again after the refusal ${refusal.code}`);
        if (message.sentByFunction.length > 0 && message.deadLetteredBy !== 'function') {
          problems.push(`${p.messageId} (${p.kind}): sent to the dead-letter queue by the function, yet ${message.state}`);
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
          deadReasons.add(`${reason} by the ${message.deadLetteredBy}`);
          outcomes.add(`${p.kind}: dead ${reason} by the ${message.deadLetteredBy}`);
          problems.push(...deadLetterProblems(p, message, last, failedLines, ownCalls(p)));
          continue;
        }
        lost++;
        problems.push(`${p.messageId} (${p.kind}): still ${message.state} when the run ended`);
      }

      // The vendor's side: every ProvisionExternalApplication call, per message, in order.
      const repeats = new Tally();
      let repeatsAfterRefusal = 0;
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
        /** The code a delivery failed with, from its "message failed" line; undefined when it did not fail or is unknown. */
        const failureOfDelivery = (r: number) => {
          const window = message.receives[r];
          return window && logged.find((l) => l.message === 'message failed' && l.time >= window.start && l.time <= window.end)?.code;
        };
        for (const call of own) {
          if (receiveOf(call) < 0) {
            strayCalls++;
            problems.push(`${p.messageId}: a ${call.action} call outside every delivery of the message`);
          }
        }
        if ((p.kind === 'not JSON' || p.kind === 'forbidden scope' || p.kind === 'control scope') && own.length > 0)
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
            // The vendor answered and the delivery ended: only a failure a retry may help brings the message back.
            const ended = failureOfDelivery(receiveOf(previous));
            if (ended !== undefined && REFUSALS.has(ended)) {
              repeatsAfterRefusal++;
              problems.push(
                `${p.messageId}: ProvisionExternalApplication again after the delivery was refused (${ended}): ${sequence(own, message)}`,
              );
            }
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
      const letters = world.sqs.messages(DEAD_LETTER_QUEUE);
      for (const [i, letter] of letters.entries()) scan.scan(JSON.stringify(letter), `dead-letter message ${i + 1}`);
      // A refused value is named by its field, never written: no log line, no dead-letter attribute holds it.
      let echoedValues = 0;
      const attributeTexts = letters.map((letter) => JSON.stringify(letter.attributes));
      for (const p of planned.filter((m) => m.marker !== undefined)) {
        const where = [
          ...host.lines.flatMap((line, i) => (line.includes(p.marker!) ? [`log line ${i + 1}`] : [])),
          ...attributeTexts.flatMap((text, i) => (text.includes(p.marker!) ? [`dead-letter attributes ${i + 1}`] : [])),
        ];
        echoedValues += where.length;
        if (where.length > 0) problems.push(`${p.messageId} (${p.kind}): its refused scope is echoed in ${where.slice(0, 3).join(', ')}`);
      }
      const minimalReasons = letters.filter((letter) => letter.attributes.reasonAttributes?.StringValue === 'minimal').length;
      // One dead-letter message per message the function dead-lettered, and none for any other.
      const byFunction = queue.deadLetters.filter((m) => m.deadLetteredBy === 'function');
      if (letters.length !== byFunction.length) {
        problems.push(`${letters.length} messages in the dead-letter queue for ${byFunction.length} dead-lettered by the function`);
      }
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
        deadLetteredByFunction: byFunction.length,
        deadLetteredByQueue: queue.deadLetters.length - byFunction.length,
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
        repeatsAfterRefusal,
        duplicateProvisions,
        strayCalls,
        echoedValues,
        minimalReasons,
        secrets: { scannedTexts: scan.scanned, ...scan.counts, found: scan.findings.length },
        problems: problems.slice(0, 20),
      };
      writeLines(FILE_NAME, host.lines);
      const file = writeResult(FILE_NAME, figures);
      console.log(
        `sqs: ${planned.length} messages in ${figures.wallSeconds} s, ${figures.invocations} invocations, ${figures.receives} receives: ` +
          `${provisioned} provisioned, ${queue.deadLetters.length} dead-lettered (${byFunction.length} by the function), ${lost} lost\n  outcomes: ${outcomes}\n` +
          `  vendor: ${figures.vendor.provisionCalls} provision calls, ${figures.vendor.readCalls} reads; faults ${injected}\n` +
          `  repeats: ${repeats}; after a refusal ${repeatsAfterRefusal}; duplicate provisions ${duplicateProvisions}; stray calls ${strayCalls}; secrets: ${scan.report()}\n  → ${file}`,
      );

      expect(problems).toEqual([]);
      expect(drained.finished).toBe(true);
      expect(lost).toBe(0);
      expect(provisioned + queue.deadLetters.length).toBe(planned.length);
      expect(duplicateProvisions).toBe(0);
      expect(repeatsAfterRefusal).toBe(0);
      expect(strayCalls).toBe(0);
      expect(echoedValues).toBe(0);
      // The odd vendor codes were met, and their messages dead-lettered with the minimal reason.
      expect(minimalReasons).toBeGreaterThanOrEqual(kinds.get('odd vendor code') ?? 0);
      expect(kinds.get('odd vendor code')).toBeGreaterThan(0);
      // Refused messages were there, and the function dead-lettered them itself.
      expect(byFunction.length).toBeGreaterThan(0);
      // The faults were there, and some messages needed more than one delivery (those throttled at first, at least).
      expect(injected.get('lostReply')).toBeGreaterThan(0);
      expect(figures.receives).toBeGreaterThan(planned.length + (kinds.get('throttled at first') ?? 0) - 1);
      expect(nonJsonLines(host.lines)).toEqual([]);
      expect(scan.counts.signatures).toBeGreaterThan(0);
      expect(scan.report()).toBe('0 found (none)');
    },
    FULL ? 30 * 60_000 : 90_000,
  );
});
