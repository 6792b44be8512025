/**
 * Property tests against the vendor's own implementation, the devDependency
 * @alicloud/openapi-util (docs/vendors.md: where our reading of the docs and the vendor code disagree, the code wins).
 */
import { Readable } from 'node:stream';
import OpenApiUtil from '@alicloud/openapi-util';
import { describe, expect, it } from 'vitest';
import { type Acs3Request, acs3Authorization, sha256Hex } from '../../../lib/signing/acs3-hmac-sha256.js';
import { rpcSignature } from '../../../lib/signing/hmac-sha1.js';
import { ACS3_EXAMPLE, HMAC_SHA1_EXAMPLE } from '../../support/vendor-examples.js';

// A CJS module with `exports.default`: Node's ESM loader (and tsc) see module.exports, vitest unwraps it.
type OfficialUtil = typeof OpenApiUtil.default;
const Official: OfficialUtil = 'getAuthorization' in OpenApiUtil ? (OpenApiUtil as unknown as OfficialUtil) : OpenApiUtil.default;
const RUNS = 300;

/** mulberry32: small and deterministic, so a failing case reproduces from the seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

function generator(seed: number) {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const text = (pieces: readonly string[], max: number) =>
    Array.from({ length: Math.floor(random() * (max + 1)) }, () => pick(pieces)).join('');
  /** 0–6 parameters; about one value in five is empty. */
  const params = (): Record<string, string> =>
    Object.fromEntries(
      Array.from({ length: Math.floor(random() * 7) }, () => [`P${text(NAME_PIECES, 4)}`, random() < 0.2 ? '' : text(VALUE_PIECES, 12)]),
    );
  return { random, pick, text, params };
}

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

describe('ACS3-HMAC-SHA256 against @alicloud/openapi-util getAuthorization', () => {
  it(`agrees on ${RUNS} seeded random requests`, () => {
    const g = generator(0xac53);
    let withBody = 0;
    for (let i = 0; i < RUNS; i++) {
      const body = g.random() < 0.5 ? '' : new URLSearchParams(g.params()).toString();
      if (body) withBody++;
      const host = g.pick(['bpstudio.cn-hangzhou.aliyuncs.com', 'cams.ap-southeast-1.aliyuncs.com', 'ims.aliyuncs.com']);
      const req: Acs3Request = {
        method: g.pick(['POST', 'GET']),
        host,
        path: '/',
        query: g.params(),
        headers: {
          host,
          'x-acs-action': g.pick(['GetToken', 'GetChatappUploadAuthorization', 'ProvisionExternalApplication']),
          'x-acs-version': g.pick(['2021-09-31', '2020-06-06', '2019-08-15']),
          'x-acs-date': new Date(1_700_000_000_000 + i * 997_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          'x-acs-signature-nonce': `nonce-${i}-${g.text(['a', 'f', '0', '9'], 8)}`,
          'x-acs-content-sha256': sha256Hex(body),
          ...(body && { 'content-type': 'application/x-www-form-urlencoded' }),
          // Unsigned headers must be ignored by both.
          accept: 'application/json',
          ...(g.random() < 0.3 && { 'x-acs-accesskey-id': ` AK${i} ` }),
        },
        body,
      };
      const credentials = { accessKeyId: `AK${i}`, accessKeySecret: `secret-${g.text(VALUE_PIECES, 10)}` };
      const official = Official.getAuthorization(
        teaRequest(req),
        'ACS3-HMAC-SHA256',
        sha256Hex(body),
        credentials.accessKeyId,
        credentials.accessKeySecret,
      );
      expect(acs3Authorization(req, credentials), JSON.stringify(req)).toBe(official);
    }
    // The generator really did exercise both shapes.
    expect(withBody).toBeGreaterThan(RUNS / 4);
    expect(withBody).toBeLessThan((RUNS * 3) / 4);
  });

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
  it(`agrees on ${RUNS} seeded random requests`, () => {
    const g = generator(0x5a1);
    for (let i = 0; i < RUNS; i++) {
      const params = {
        Action: g.pick(['GetToken', 'GetChatappUploadAuthorization', 'ProvisionExternalApplication']),
        Version: g.pick(['2021-09-31', '2020-06-06', '2019-08-15']),
        Format: 'JSON',
        AccessKeyId: `AK${i}`,
        SignatureMethod: 'HMAC-SHA1',
        SignatureVersion: '1.0',
        SignatureNonce: `nonce-${i}`,
        Timestamp: new Date(1_700_000_000_000 + i * 997_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ...g.params(),
      };
      const method = g.pick(['GET', 'POST']);
      const secret = `secret-${g.text(VALUE_PIECES, 10)}`;
      expect(rpcSignature(method, params, secret), JSON.stringify({ method, params })).toBe(
        Official.getRPCSignature(params, method, secret),
      );
    }
  });

  it('agrees with the vendor example', () => {
    const { method, params, secret, signature } = HMAC_SHA1_EXAMPLE;
    expect(Official.getRPCSignature(params, method, secret)).toBe(signature);
    expect(rpcSignature(method, params, secret)).toBe(signature);
  });
});
