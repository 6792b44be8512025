// The vendors' worked signing examples, each written out once (docs/vendors.md: "ACS3-HMAC-SHA256", "HMAC-SHA1", UCloud).
import type { Acs3Credentials, Acs3Request } from '../../lib/signing/acs3-hmac-sha256.js';

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
