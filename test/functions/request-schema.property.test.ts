/**
 * End to end, for every operation of the registry: a random body through the function's
 * handler (functions/<name>.ts), the fake SSM and the vendor simulator. A body the request
 * schema refuses, or whose text is not well-formed Unicode, answers 400 (413 over 16 KiB)
 * and never reaches the vendor; one it accepts
 * answers 200 and the vendor saw exactly the parameters the body named. Each run is an HTTP
 * round trip, so runs are few (PROPERTY_RUNS gives each operation a tenth of its count).
 */
import * as fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { loadOperations } from '../../lib/operations/index.js';
import type { LambdaHandler } from '../../lib/spec/operation.js';
import { httpApiEvent } from '../../sim/lambda-events.js';
import { localCallerPolicy } from '../../sim/local-world.js';
import { KEY_PARAMETERS, useBrokerEnv } from '../support/broker-env.js';
import { invokeHttp } from '../support/invoke-http.js';
import { stringsIn } from '../support/log-capture.js';
import { PROPERTY_TIMEOUT_MS, propertyRuns } from '../support/property-runs.js';
import { invalidBody, MAX_BODY_BYTES, validBody, vendorParams, wellFormed } from '../support/request-bodies.js';

const operations = await loadOperations();
const localPolicy = localCallerPolicy(operations);
const handlers = new Map<string, LambdaHandler>();
for (const op of operations) {
  handlers.set(op.functionName, ((await import(`../../functions/${op.functionName}.ts`)) as { handler: LambdaHandler }).handler);
}

// Every route, the STS ones included, which refuse without a caller policy.
const broker = useBrokerEnv({ callerPolicy: true, simulator: { aliyunMaxSessionDurationSeconds: 43_200 } });
// A role that allows every lifetime the schema takes (docs/contracts.md, "Accounts": `maxSessionSeconds`),
// so every body the schema accepts is one the vendor is asked for.
beforeAll(() => {
  const keys = JSON.parse(broker.ssm.get(KEY_PARAMETERS.aliyun)!) as Record<string, unknown>;
  broker.ssm.put(KEY_PARAMETERS.aliyun, { ...keys, maxSessionSeconds: 43_200 });
});

describe.each(operations)('$functionName', (op) => {
  it(
    'answers 400 or 413 without a vendor call for a body its schema refuses, and 200 with exactly the named vendor parameters for one it accepts',
    async () => {
      const run = propertyRuns(16, 0.1);
      const seen = { valid: 0, invalid: 0 };
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            validBody(op).map((body) => ({ body: body as unknown, mutation: undefined })),
            invalidBody(op),
          ),
          async ({ body, mutation }) => {
            broker.sim.reset();
            broker.coldStart();
            // Nothing cached in the table either: a valid body always reaches the vendor.
            await broker.table?.clear();
            const text = JSON.stringify(body);
            // What the function receives, parsed from the text.
            const received: unknown = JSON.parse(text);
            const tooLarge = Buffer.byteLength(text) > MAX_BODY_BYTES;
            // docs/contracts.md: the schema, and text that UTF-8 can carry (no lone surrogate).
            const accepted = !tooLarge && z.safeParse(op.request, received).success && wellFormed(received);
            // A mutation is a body the contract refuses, whatever the schema says.
            if (mutation !== undefined) expect(accepted, `${mutation} was accepted`).toBe(false);

            const answer = await invokeHttp(handlers.get(op.functionName)!, httpApiEvent(op.route, undefined, { rawBody: text }));
            if (!accepted) {
              seen.invalid++;
              expect(answer.statusCode, JSON.stringify(answer.json)).toBe(tooLarge ? 413 : 400);
              expect(answer.json.error.code).toBe(tooLarge ? 'PayloadTooLarge' : 'InvalidRequest');
              expect(broker.sim.calls).toEqual([]);
              // Details name fields, never values.
              for (const value of stringsIn(received).filter((s) => s.length >= 6)) expect(answer.body).not.toContain(value);
              return;
            }
            seen.valid++;
            expect(answer.statusCode, JSON.stringify(answer.json)).toBe(200);
            expect(broker.sim.calls.map((call) => call.action)).toEqual([op.action]);
            const sent = broker.sim.calls[0]!.params;
            let role: Parameters<typeof vendorParams>[3];
            if (op.assumesRole) {
              // Never shorter-lived than asked; the broker may ask the vendor for more (docs/contracts.md).
              const asked = (received as { durationSeconds?: number }).durationSeconds;
              expect(Number(sent.DurationSeconds)).toBeGreaterThanOrEqual(asked ?? 900);
              // No authorizer here: the caller is anonymous, and so is its session name; the
              // local policy's rule for this operation gives the session policy.
              const rule = localPolicy.rules.find((r) => (r.operations as string[]).includes(op.name))!;
              role = {
                roleArn: broker.env[op.assumesRole.roleArn]!,
                sessionName: 'anonymous',
                // Tencent Cloud takes `Policy` URL-encoded (docs/vendors.md).
                policy:
                  op.vendor === 'tencent' ? encodeURIComponent(JSON.stringify(rule.sessionPolicy)) : JSON.stringify(rule.sessionPolicy),
                durationSeconds: Number(sent.DurationSeconds),
              };
            }
            expect(sent).toEqual(vendorParams(op, received as Record<string, unknown>, 'org-sim', role));
          },
        ),
        run,
      );
      expect(seen.valid).toBeGreaterThan(0);
      expect(seen.invalid).toBeGreaterThan(0);
    },
    PROPERTY_TIMEOUT_MS,
  );
});
