// The vendors' worked signing examples, each written out once (docs/vendors.md: "ACS3-HMAC-SHA256", "HMAC-SHA1", UCloud).
import type { Acs3Credentials, Acs3Request } from '../../lib/vendor/signing/acs3-hmac-sha256.js';

/** SHA-256 of the empty string: the payload hash of a request without a body. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const ACS3_SIGNED_HEADERS = 'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version';
const ACS3_SIGNATURE = '06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0';

/** ACS3-HMAC-SHA256: the RunInstances example. */
export const ACS3_EXAMPLE: {
  readonly credentials: Acs3Credentials;
  readonly request: Acs3Request;
  /** The signed header names, sorted and joined with `;`. */
  readonly signedHeaders: string;
  readonly canonicalRequest: string;
  readonly hashedCanonicalRequest: string;
  /** The hex signature alone. */
  readonly signature: string;
  /** The whole `Authorization` header value. */
  readonly authorization: string;
} = {
  credentials: { accessKeyId: 'YourAccessKeyId', accessKeySecret: 'YourAccessKeySecret' },
  request: {
    method: 'POST',
    host: 'ecs.cn-shanghai.aliyuncs.com',
    path: '/',
    query: { RegionId: 'cn-shanghai', ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd' },
    headers: {
      host: 'ecs.cn-shanghai.aliyuncs.com',
      'x-acs-action': 'RunInstances',
      'x-acs-version': '2014-05-26',
      'x-acs-date': '2023-10-26T10:22:32Z',
      'x-acs-signature-nonce': '3156853299f313e23d1673dc12e1703d',
      'x-acs-content-sha256': EMPTY_SHA256,
    },
    body: '',
  },
  signedHeaders: ACS3_SIGNED_HEADERS,
  canonicalRequest: [
    'POST',
    '/',
    'ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai',
    'host:ecs.cn-shanghai.aliyuncs.com',
    'x-acs-action:RunInstances',
    `x-acs-content-sha256:${EMPTY_SHA256}`,
    'x-acs-date:2023-10-26T10:22:32Z',
    'x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d',
    'x-acs-version:2014-05-26',
    '',
    ACS3_SIGNED_HEADERS,
    EMPTY_SHA256,
  ].join('\n'),
  hashedCanonicalRequest: '7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259',
  signature: ACS3_SIGNATURE,
  authorization: `ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=${ACS3_SIGNED_HEADERS},Signature=${ACS3_SIGNATURE}`,
};

/** HMAC-SHA1 (RPC, SignatureVersion 1.0): the DescribeRegions example. */
export const HMAC_SHA1_EXAMPLE: {
  readonly method: string;
  readonly params: Readonly<Record<string, string>>;
  readonly secret: string;
  readonly stringToSign: string;
  readonly signature: string;
} = {
  method: 'GET',
  params: {
    AccessKeyId: 'testid',
    Action: 'DescribeRegions',
    Format: 'XML',
    SignatureMethod: 'HMAC-SHA1',
    SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
    SignatureVersion: '1.0',
    Timestamp: '2016-02-23T12:46:24Z',
    Version: '2014-05-26',
  },
  secret: 'testsecret',
  stringToSign:
    'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26',
  signature: 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=',
};

/** UCloud (SHA-1 over sorted name+value pairs, PublicKey among them): the DescribeUHostInstance example. */
export const UCLOUD_EXAMPLE: {
  /** Without PublicKey, which the signer adds. */
  readonly params: { readonly Action: string; readonly Region: string; readonly Limit: number };
  readonly publicKey: string;
  readonly privateKey: string;
  readonly signature: string;
} = {
  params: { Action: 'DescribeUHostInstance', Region: 'cn-bj2', Limit: 10 },
  publicKey: 'ucloudsomeone@example.com1296235120854146120',
  privateKey: '46f09bb9fab4f12dfc160dae12273d5332b5debe',
  signature: 'cba5cf5ec4d4233d206b1b54951e3787350a642f',
};

const TC3_PAYLOAD = String.raw`{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`;
const TC3_PAYLOAD_HASH = '35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064';

/**
 * TC3-HMAC-SHA256: the CVM DescribeInstances example of Tencent Cloud's "Signature v3" page
 * (API 3.0). The English page prints the SecretKey in its pseudocode; its SecretId is masked
 * there (AKID…EXAMPLE) and given in full by earlier versions of the page; the SecretId is not
 * part of the signature. The body is sent with `\u` escapes, six characters each, as printed.
 */
export const TC3_EXAMPLE = {
  credentials: { secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE', secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE' },
  host: 'cvm.tencentcloudapi.com',
  service: 'cvm',
  action: 'DescribeInstances',
  version: '2017-03-12',
  region: 'ap-guangzhou',
  timestamp: 1551113065,
  contentType: 'application/json; charset=utf-8',
  payload: TC3_PAYLOAD,
  payloadHash: TC3_PAYLOAD_HASH,
  canonicalRequest: [
    'POST',
    '/',
    '',
    'content-type:application/json; charset=utf-8',
    'host:cvm.tencentcloudapi.com',
    '',
    'content-type;host',
    TC3_PAYLOAD_HASH,
  ].join('\n'),
  hashedCanonicalRequest: '5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031',
  credentialScope: '2019-02-25/cvm/tc3_request',
  signature: '72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
  authorization:
    'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
} as const;

/**
 * The same example as the current Chinese "签名方法 v3" page prints it: `x-tc-action` signed
 * as well (its value lower-cased), and the SecretKey masked as 32 `*`, which is the key its
 * printed signature was computed with.
 */
export const TC3_EXAMPLE_WITH_ACTION = {
  secretKey: '*'.repeat(32),
  canonicalRequest: [
    'POST',
    '/',
    '',
    'content-type:application/json; charset=utf-8',
    'host:cvm.tencentcloudapi.com',
    'x-tc-action:describeinstances',
    '',
    'content-type;host;x-tc-action',
    TC3_PAYLOAD_HASH,
  ].join('\n'),
  hashedCanonicalRequest: '7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84',
  signature: '10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f',
} as const;
