/**
 * Property tests against the vendor's own implementation, the devDependency
 * @alicloud/openapi-util (docs/vendors.md: where our reading of the docs and the vendor code disagree, the code wins).
 */
import { Readable } from 'node:stream';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Acs3Request, acs3Authorization, sha256Hex } from '../../../../lib/vendor/signing/acs3-hmac-sha256.js';
import { rpcSignature } from '../../../../lib/vendor/signing/hmac-sha1.js';
import { PROPERTY_TIMEOUT_MS, propertyRuns } from '../../../support/property-runs.js';
import { aliyunTimestamp, OpenApiUtil as Official } from '../../../support/sign-for-tests.js';
import { ACS3_EXAMPLE, HMAC_SHA1_EXAMPLE } from '../../../support/vendor-examples.js';

// What percent-encoding can get wrong: reserved characters, !'()*, space, `%`, multi-byte and astral.
const VALUE_PIECES = [
  ' ',
  '*',
  '~',
  '+',
  '/',
  '&',
  '=',
  '%',
  '!',
  "'",
  '(',
  ')',
  '-',
  '_',
  '.',
  ':',
  '?',
  '#',
  'a',
  'Z',
  '9',
  'é',
  '中',
  '😀',
];
// Alibaba's names are letters, digits and `.` (Tag.1.Key); the rest checks that names are treated as the vendor does.
// No astral characters in names: we sort by UTF-8 bytes, the vendor by UTF-16 units (they differ only there).
const NAME_PIECES = ['A', 'b', 'C', 'z', 'Id', 'Key', '1', '2', '.', ' ', '*', '~', '+', '/', '&', '=', '%', "'", 'é', '中'];

const pieces = (from: readonly string[], maxLength: number) =>
  fc.array(fc.constantFrom(...from), { maxLength }).map((parts) => parts.join(''));
/** A value: about one in five is empty; otherwise pieces, or any well-formed text. */
const value = fc.oneof(
  { arbitrary: fc.constant(''), weight: 1 },
  { arbitrary: pieces(VALUE_PIECES, 12), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }), weight: 1 },
);
/** 0–6 parameters. */
const params = fc.dictionary(
  pieces(NAME_PIECES, 4).map((name) => `P${name}`),
  value,
  { maxKeys: 6, noNullPrototype: true },
);
const secret = fc.oneof(pieces(VALUE_PIECES, 10), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 })).map((s) => `secret-${s}`);
const timestamp = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
  .map(aliyunTimestamp);
const nonce = pieces(['a', 'f', '0', '9', '-'], 32).map((s) => `nonce-${s}`);
const action = fc.constantFrom('GetToken', 'GetChatappUploadAuthorization', 'ProvisionExternalApplication', 'GetExternalApplication');
const version = fc.constantFrom('2021-09-31', '2020-06-06', '2019-08-15');
const host = fc.constantFrom('bpstudio.cn-hangzhou.aliyuncs.com', 'cams.ap-southeast-1.aliyuncs.com', 'ims.aliyuncs.com');
const accessKeyId = fc.stringMatching(/^[A-Za-z0-9]{1,24}$/).map((id) => `AK${id}`);

/** The $tea.Request fields getAuthorization reads are method, pathname, query and headers; the rest satisfy the type. */
function teaRequest(req: Acs3Request) {
  return {
    protocol: 'https',
    port: 443,
    method: req.method,
    pathname: req.path,
    query: req.query,
    headers: req.headers,
    body: Readable.from([]),
  };
}

const acs3Case = fc
  .record({
    method: fc.constantFrom('POST', 'GET'),
    host,
    query: params,
    form: fc.option(params, { nil: undefined }),
    action,
    version,
    date: timestamp,
    nonce,
    // Unsigned headers must be ignored by both; `x-acs-*` ones are signed, their values trimmed.
    accessKeyHeader: fc.option(fc.constantFrom(' AK1 ', 'AK2', '\tAK3'), { nil: undefined }),
    accessKeyId,
    secret,
  })
  .map((c) => {
    const body = c.form === undefined ? '' : new URLSearchParams(c.form).toString();
    const request: Acs3Request = {
      method: c.method,
      host: c.host,
      path: '/',
      query: c.query,
      headers: {
        host: c.host,
        'x-acs-action': c.action,
        'x-acs-version': c.version,
        'x-acs-date': c.date,
        'x-acs-signature-nonce': c.nonce,
        'x-acs-content-sha256': sha256Hex(body),
        ...(body && { 'content-type': 'application/x-www-form-urlencoded' }),
        accept: 'application/json',
        ...(c.accessKeyHeader !== undefined && { 'x-acs-accesskey-id': c.accessKeyHeader }),
      },
      body,
    };
    return { request, credentials: { accessKeyId: c.accessKeyId, accessKeySecret: c.secret } };
  });

describe('ACS3-HMAC-SHA256 against @alicloud/openapi-util getAuthorization', () => {
  it(
    'agrees on random requests: query and form values with reserved, empty and unicode text',
    () => {
      const run = propertyRuns(300);
      let withBody = 0;
      fc.assert(
        fc.property(acs3Case, ({ request, credentials }) => {
          if (request.body) withBody++;
          const official = Official.getAuthorization(
            teaRequest(request),
            'ACS3-HMAC-SHA256',
            sha256Hex(request.body ?? ''),
            credentials.accessKeyId,
            credentials.accessKeySecret,
          );
          expect(acs3Authorization(request, credentials)).toBe(official);
        }),
        run,
      );
      // The generator really did exercise both shapes.
      expect(withBody).toBeGreaterThan(run.numRuns! / 4);
      expect(withBody).toBeLessThan((run.numRuns! * 3) / 4);
    },
    PROPERTY_TIMEOUT_MS,
  );

  it('agrees with the vendor example, which pins the official code to the documented signature', () => {
    const { request: req, credentials, signature } = ACS3_EXAMPLE;
    const official = Official.getAuthorization(
      teaRequest(req),
      'ACS3-HMAC-SHA256',
      sha256Hex(''),
      credentials.accessKeyId,
      credentials.accessKeySecret,
    );
    expect(official).toMatch(new RegExp(`,Signature=${signature}$`));
    expect(acs3Authorization(req, credentials)).toBe(official);
  });
});

describe('RPC HMAC-SHA1 against @alicloud/openapi-util getRPCSignature', () => {
  it(
    'agrees on random requests: parameter values with reserved, empty and unicode text',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom('GET', 'POST'),
          action,
          version,
          accessKeyId,
          nonce,
          timestamp,
          params,
          secret,
          (method, act, ver, id, signatureNonce, time, extra, key) => {
            const all = {
              Action: act,
              Version: ver,
              Format: 'JSON',
              AccessKeyId: id,
              SignatureMethod: 'HMAC-SHA1',
              SignatureVersion: '1.0',
              SignatureNonce: signatureNonce,
              Timestamp: time,
              ...extra,
            };
            expect(rpcSignature(method, all, key)).toBe(Official.getRPCSignature(all, method, key));
          },
        ),
        propertyRuns(300),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it('agrees with the vendor example', () => {
    const { method, params: example, secret: key, signature } = HMAC_SHA1_EXAMPLE;
    expect(Official.getRPCSignature(example, method, key)).toBe(signature);
    expect(rpcSignature(method, example, key)).toBe(signature);
  });
});
