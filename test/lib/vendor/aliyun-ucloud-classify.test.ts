import { describe, expect, it } from 'vitest';
import { classifyAliyunAnswer, classifyAliyunCode } from '../../../lib/vendor/aliyun.js';
import { classifyUcloudAnswer, classifyUcloudRetCode } from '../../../lib/vendor/ucloud.js';

describe('classifyAliyunCode (docs/vendors.md, "Alibaba Cloud errors")', () => {
  it.each([
    ['Throttling', 'throttled'],
    ['Throttling.User', 'throttled'],
    ['Throttling.Api', 'throttled'],
    ['System.LimitControl', 'throttled'],
    ['ServiceUnavailable', 'transient'],
    ['InternalError', 'transient'],
    ['SignatureDoesNotMatch', 'key'],
    ['IncompleteSignature', 'key'],
    ['InvalidAccessKeyId.NotFound', 'key'],
    ['InvalidAccessKeyId.Inactive', 'key'],
    ['InvalidTimeStamp.Expired', 'clock'],
    ['SignatureNonceUsed', 'clock'],
    ['Forbidden.RAM', 'accessDenied'],
    ['NoPermission', 'accessDenied'],
    ['Ram.PermissionDeny', 'accessDenied'],
    ['Product.Unsubscript', 'accessDenied'],
    ['Unknown.ResourceOwnerId', 'accessDenied'],
    ['EntityNotExist.Application', 'notFound'],
    ['CustSpace.NotFound', 'notFound'],
    ['InvalidParameter', 'rejected'],
    ['InvalidAction.NotFound', 'bug'],
  ] as const)('%s → %s', (code, kind) => {
    expect(classifyAliyunCode(code, 400)).toBe(kind);
  });

  it('treats an unknown code with a 5xx status as transient', () => {
    expect(classifyAliyunCode('SomethingOdd', 502)).toBe('transient');
  });
});

describe('classifyAliyunAnswer', () => {
  const headers = (h: Record<string, string> = {}) => new Headers(h);

  it("accepts the products' success envelopes and keeps the RequestId", () => {
    expect(classifyAliyunAnswer(200, headers(), '{"Code":"200","RequestId":"r","Data":{}}')).toMatchObject({
      kind: 'ok',
      vendorRequestId: 'r',
    });
    expect(classifyAliyunAnswer(200, headers(), '{"Code":"OK","RequestId":"r"}').kind).toBe('ok');
    expect(classifyAliyunAnswer(200, headers(), '{"RequestId":"r","ExternalApplication":{}}').kind).toBe('ok');
  });

  it('treats an error Code inside an HTTP 200 as an error', () => {
    expect(classifyAliyunAnswer(200, headers(), '{"Code":"System.LimitControl","RequestId":"r"}')).toMatchObject({ kind: 'throttled' });
  });

  it('reads x-acs-retry-after as milliseconds', () => {
    expect(classifyAliyunAnswer(400, headers({ 'x-acs-retry-after': '1500' }), '{"Code":"Throttling.User"}')).toMatchObject({
      retryAfterMs: 1_500,
    });
    expect(classifyAliyunAnswer(429, headers({ 'retry-after': '2' }), '{"Code":"Throttling"}')).toMatchObject({ retryAfterMs: 2_000 });
  });

  it('retries an unreadable 5xx and refuses an unreadable 2xx', () => {
    expect(classifyAliyunAnswer(503, headers(), '<html>')).toMatchObject({ kind: 'transient', vendorCode: 'HTTP 503' });
    expect(classifyAliyunAnswer(200, headers(), '{"Data":')).toMatchObject({ kind: 'malformed' });
  });
});

describe('UCloud RetCode classes', () => {
  it.each([
    [153, 'throttled'],
    [110, 'transient'],
    [130, 'transient'],
    [150, 'transient'],
    [171, 'key'],
    [172, 'key'],
    [174, 'key'],
    [160, 'bug'],
    [161, 'bug'],
    [292, 'notFound'],
    [293, 'accessDenied'],
    [294, 'accessDenied'],
    [295, 'accessDenied'],
    [299, 'accessDenied'],
    [230, 'rejected'],
  ] as const)('RetCode %i → %s', (code, kind) => {
    expect(classifyUcloudRetCode(code)).toBe(kind);
  });

  it('reads RetCode 0 as success and a non-JSON 5xx as transient', () => {
    expect(classifyUcloudAnswer(200, new Headers(), '{"RetCode":0,"DataSet":[]}').kind).toBe('ok');
    expect(classifyUcloudAnswer(502, new Headers(), 'bad gateway').kind).toBe('transient');
    expect(classifyUcloudAnswer(200, new Headers(), '{"RetCode":153}')).toMatchObject({ kind: 'throttled', vendorCode: 'RetCode 153' });
  });
});
