/**
 * No secret anywhere (docs/contracts.md, "Keys, signing, retries"): with random master keys
 * in the fake SSM (and accepted by the simulator), random valid requests to each operation,
 * either signature method and now and then a vendor failure, no log line and no answer holds
 * a master key secret or a request signature, and no log line and no error answer holds a
 * returned accessKeySecret, securityToken, privateKey, tmpSecretKey or token.
 */
import * as fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadOperations } from '../../lib/operations/index.js';
import type { LambdaHandler, Operation } from '../../lib/spec/operation.js';
import { httpApiEvent, lambdaContext } from '../../sim/lambda-events.js';
import type { Fault, SimulatorCall } from '../../sim/vendor-simulator.js';
import { KEY_PARAMETERS, useBrokerEnv } from '../support/broker-env.js';
import { invokeHttp } from '../support/invoke-http.js';
import { captureLogs } from '../support/log-capture.js';
import { PROPERTY_TIMEOUT_MS, propertyRuns } from '../support/property-runs.js';
import { validBody, wellFormed } from '../support/request-bodies.js';

const operations = await loadOperations();
const handlers = new Map<string, LambdaHandler>();
for (const op of operations) {
  handlers.set(op.functionName, ((await import(`../../functions/${op.functionName}.ts`)) as { handler: LambdaHandler }).handler);
}

// Every route, the STS ones included, which refuse without a caller policy.
// A RAM role that allows every lifetime the schema takes (its key's `maxSessionSeconds`), so every run reaches the vendor.
const broker = useBrokerEnv({ callerPolicy: true, simulator: { aliyunMaxSessionDurationSeconds: 43_200 } });

/** Secret-looking text: base64 and URL-safe characters, now and then one a log must escape. */
const secretText = (min: number, max: number) =>
  fc
    .tuple(
      fc.stringMatching(new RegExp(`^[A-Za-z0-9+/=_~.-]{${min},${max}}$`)),
      fc.option(fc.constantFrom('"', '\\', '%', 'é', ' '), { nil: undefined, freq: 4 }),
    )
    .map(([text, odd]) => (odd === undefined ? text : `${text.slice(0, 3)}${odd}${text.slice(3)}`));
const aliyunKey = fc.record({ accessKeyId: fc.stringMatching(/^LTAI[A-Za-z0-9]{12,20}$/), accessKeySecret: secretText(16, 40) });
const ucloudKey = fc.record({
  publicKey: fc.stringMatching(/^[a-z0-9.]{4,12}@example\.com[0-9]{6,12}$/),
  privateKey: secretText(20, 48),
});
const tencentKey = fc.record({ secretId: fc.stringMatching(/^AKID[A-Za-z0-9]{16,32}$/), secretKey: secretText(20, 40) });

/** Vendor failures that still end (no long backoff): refused for good, refused key, one 5xx then success. */
function faultFor(vendor: Operation['vendor']): fc.Arbitrary<{ fault: Fault; times: number } | undefined> {
  const faults: Record<string, { fault: Fault; times: number }[]> = {
    aliyun: [
      { fault: { kind: 'aliyunError', status: 403, code: 'Forbidden.RAM' }, times: 1 },
      { fault: { kind: 'aliyunError', status: 400, code: 'InvalidParameter' }, times: 1 },
      { fault: { kind: 'aliyunError', status: 400, code: 'SignatureDoesNotMatch' }, times: 2 },
      { fault: { kind: 'status', status: 503 }, times: 1 },
    ],
    ucloud: [
      { fault: { kind: 'ucloudError', retCode: 299 }, times: 1 },
      { fault: { kind: 'ucloudError', retCode: 230 }, times: 1 },
      { fault: { kind: 'ucloudError', retCode: 171 }, times: 2 },
      { fault: { kind: 'status', status: 503 }, times: 1 },
    ],
    tencent: [
      { fault: { kind: 'tencentError', code: 'AuthFailure.UnauthorizedOperation' }, times: 1 },
      { fault: { kind: 'tencentError', code: 'InvalidParameter' }, times: 1 },
      { fault: { kind: 'tencentError', code: 'AuthFailure.SignatureFailure' }, times: 2 },
      { fault: { kind: 'status', status: 503 }, times: 1 },
    ],
  };
  return fc.option(fc.constantFrom(...(faults[vendor] ?? [])), { nil: undefined, freq: 2 });
}

/** The signature of each request the vendor received, as the simulator recorded it. */
function signaturesOf(calls: readonly SimulatorCall[]): string[] {
  return calls.flatMap((call) => (call.signature === undefined ? [] : [call.signature]));
}

/** Returned credentials in an answer's data, wherever they are nested. */
function returnedSecrets(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(returnedSecrets);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    ['accessKeySecret', 'securityToken', 'privateKey', 'tmpSecretKey', 'token'].includes(key) && typeof inner === 'string'
      ? [inner]
      : returnedSecrets(inner),
  );
}

/** A secret as it may appear: as itself, or escaped inside JSON text. */
const forms = (secret: string) => [...new Set([secret, JSON.stringify(secret).slice(1, -1)])];

afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.ALIYUN_SIGNATURE;
});

describe.each(operations)('$functionName', (op) => {
  it(
    'never shows a master key secret, a signature or a returned credential where it does not belong',
    async () => {
      const handler = handlers.get(op.functionName)!;
      const counts = { signatures: 0, returned: 0, failures: 0 };
      await fc.assert(
        fc.asyncProperty(
          aliyunKey,
          ucloudKey,
          tencentKey,
          fc.constantFrom('ACS3-HMAC-SHA256', 'HMAC-SHA1'),
          // Optional fields narrow what comes back (a UFile tokenId selects one token set, or none): half the bodies name none.
          fc.oneof(validBody(op), validBody(op, { requiredOnly: true })).filter(wellFormed),
          faultFor(op.vendor),
          async (aliyun, ucloud, tencent, signature, body, failure) => {
            broker.sim.reset();
            // Every run reaches the vendor: nothing cached in memory or in the table.
            await broker.table?.clear();
            broker.sim.setKeys({ aliyun: [aliyun], ucloud: [ucloud], tencent: [tencent] });
            broker.ssm.put(KEY_PARAMETERS.aliyun, { ...aliyun, maxSessionSeconds: 43_200 });
            broker.ssm.put(KEY_PARAMETERS.ucloud, { ...ucloud, projectId: 'org-sim' });
            broker.ssm.put(KEY_PARAMETERS.tencent, tencent);
            broker.coldStart();
            process.env.ALIYUN_SIGNATURE = signature;
            if (failure) broker.sim.script({ action: op.action, times: failure.times, fault: failure.fault });
            const logs = captureLogs();
            let answer: Awaited<ReturnType<typeof invokeHttp>>;
            try {
              answer = await invokeHttp(handler, httpApiEvent(op.route, body), lambdaContext(20_000));
            } finally {
              logs.restore();
              vi.restoreAllMocks();
            }
            const sent = broker.sim.calls;
            const signatures = signaturesOf(sent);
            const returned = answer.statusCode === 200 ? returnedSecrets(answer.json.data) : [];
            counts.signatures += signatures.length;
            counts.returned += returned.length;
            if (answer.statusCode !== 200) counts.failures++;
            expect(sent.length).toBeGreaterThan(0);
            expect(signatures).toHaveLength(sent.length);
            expect(logs.lines.length).toBeGreaterThan(0);

            const masters = [aliyun.accessKeySecret, ucloud.privateKey, tencent.secretKey];
            for (const secret of [...masters, ...signatures].flatMap(forms)) {
              for (const line of logs.lines) expect(line, 'a log line').not.toContain(secret);
              expect(answer.body, 'the answer').not.toContain(secret);
            }
            for (const secret of returned.flatMap(forms)) {
              for (const line of logs.lines) expect(line, 'a log line').not.toContain(secret);
            }
          },
        ),
        propertyRuns(8, 0.05),
      );
      // Both outcomes were seen, and each signature was looked for.
      expect(counts.signatures).toBeGreaterThan(0);
      expect(counts.failures).toBeGreaterThan(0);
      if (op.name !== 'ims:ProvisionExternalApplication') expect(counts.returned).toBeGreaterThan(0);
    },
    PROPERTY_TIMEOUT_MS,
  );
});
