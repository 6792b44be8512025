/**
 * TC3-HMAC-SHA256 against the vendor's own implementation, the devDependency
 * tencentcloud-sdk-nodejs-common (4.x). Its signing function (`Sign.sign3`) is marked
 * `@inner` and not exported from the package, so this goes through its nearest public
 * surface: a `CommonClient` sends each request, through an `httpProfile.agent` whose
 * sockets all lead to a loopback server here, which captures what the SDK sent (body,
 * X-TC-Timestamp, Authorization). Our signer then signs the same bytes, and both
 * Authorization headers must be equal. The SDK reads the clock itself, so Date is faked
 * to spread the timestamps over many UTC dates.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import * as fc from 'fast-check';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tc3Authorization } from '../../../../lib/vendor/signing/tc3-hmac-sha256.js';
import { listenOnLoopback } from '../../../../sim/loopback-server.js';
import { loopbackAgent } from '../../../support/loopback-agent.js';
import { PROPERTY_TIMEOUT_MS, propertyRuns } from '../../../support/property-runs.js';

interface Captured {
  headers: IncomingHttpHeaders;
  body: string;
}

let captured: Captured[] = [];
let port = 0;
let closeServer: () => Promise<void> = async () => {};

beforeAll(async () => {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      captured.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"Response":{"RequestId":"captured"}}');
    });
  });
  const loopback = await listenOnLoopback(server);
  port = loopback.port;
  closeServer = loopback.close;
});
afterAll(async () => {
  vi.useRealTimers();
  await closeServer();
});

/** Every socket to the loopback server, whatever host the URL names: the SDK keeps the vendor's host and service. */
const agent = loopbackAgent(() => port);

// What a JSON body and a signature can get wrong: reserved characters, space, escapes, multi-byte and astral.
const VALUE_PIECES = [' ', '*', '~', '+', '/', '&', '=', '%', '"', '\\', '\n', 'a', 'Z', '9', 'é', '中', '未命名', '😀', '\u2028'];
const pieces = (from: readonly string[], maxLength: number) =>
  fc.array(fc.constantFrom(...from), { maxLength }).map((parts) => parts.join(''));
const text = fc.oneof(
  { arbitrary: fc.constant(''), weight: 1 },
  { arbitrary: pieces(VALUE_PIECES, 12), weight: 4 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }), weight: 1 },
);
const value = fc.oneof(
  { arbitrary: text, weight: 6 },
  { arbitrary: fc.integer({ min: -1_000_000, max: 43_200 }), weight: 2 },
  { arbitrary: fc.boolean(), weight: 1 },
  { arbitrary: fc.array(text, { maxLength: 3 }), weight: 1 },
);
/** Tencent's parameter names are PascalCase; 0–6 of them. */
const params = fc.dictionary(fc.stringMatching(/^[A-Z][A-Za-z0-9]{0,11}$/), value, { maxKeys: 6, noNullPrototype: true });
const service = fc.constantFrom('sts', 'cvm', 'cam', 'tmt', 'ocr');
const host = fc.record({ service, regional: fc.boolean() }).map(({ service: name, regional }) => ({
  service: name,
  host: regional ? `${name}.ap-guangzhou.tencentcloudapi.com` : `${name}.tencentcloudapi.com`,
}));
const caseOf = fc.record({
  host,
  action: fc.constantFrom('AssumeRole', 'GetFederationToken', 'DescribeInstances', 'TextTranslate'),
  version: fc.constantFrom('2018-08-13', '2017-03-12', '2019-01-16'),
  region: fc.constantFrom('ap-guangzhou', 'ap-singapore', 'na-siliconvalley'),
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8'),
  // Whole seconds, as X-TC-Timestamp carries; midnights UTC are where a local-time date would go wrong.
  time: fc.oneof(
    fc.integer({ min: Date.UTC(2000, 0, 1) / 1000, max: Date.UTC(2099, 11, 31) / 1000 }),
    fc.integer({ min: 10_957, max: 47_846 }).chain((day) => fc.integer({ min: day * 86_400 - 2, max: day * 86_400 + 1 })),
  ),
  secretId: fc.stringMatching(/^[A-Za-z0-9]{1,36}$/).map((id) => `AKID${id}`),
  secretKey: fc.oneof(fc.stringMatching(/^[A-Za-z0-9]{1,40}$/), pieces(VALUE_PIECES, 10)).map((key) => `key${key}`),
  params,
});

describe('TC3-HMAC-SHA256 against tencentcloud-sdk-nodejs-common (CommonClient through a capturing loopback)', () => {
  it(
    'gives the Authorization the SDK gives for the same request: unicode, spaces, * ~ + / & =, empty values',
    async () => {
      const run = propertyRuns(300, 0.25);
      const dates = new Set<string>();
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        await fc.assert(
          fc.asyncProperty(caseOf, async (c) => {
            captured = [];
            vi.setSystemTime(c.time * 1000);
            const client = new CommonClient(c.host.host, c.version, {
              credential: { secretId: c.secretId, secretKey: c.secretKey },
              region: c.region,
              profile: { httpProfile: { protocol: 'http://', agent, reqTimeout: 10, headers: { 'Content-Type': c.contentType } } },
            });
            await client.request(c.action, c.params);
            expect(captured).toHaveLength(1);
            const sent = captured[0]!;
            // The SDK signed what it sent at the faked time, with the host and service of the URL.
            expect(sent.headers['x-tc-timestamp']).toBe(String(c.time));
            expect(sent.headers['content-type']).toBe(c.contentType);
            const ours = tc3Authorization(
              {
                method: 'POST',
                path: '/',
                query: '',
                headers: { 'content-type': c.contentType, host: c.host.host },
                body: sent.body,
                timestamp: c.time,
                service: c.host.service,
              },
              { secretId: c.secretId, secretKey: c.secretKey },
            );
            expect(ours).toBe(sent.headers.authorization);
            dates.add(new Date(c.time * 1000).toISOString().slice(0, 10));
          }),
          run,
        );
      } finally {
        vi.useRealTimers();
      }
      // The runs really did span many credential-scope dates.
      expect(dates.size).toBeGreaterThan(run.numRuns! / 3);
    },
    PROPERTY_TIMEOUT_MS,
  );
});
