import { describe, expect, it } from 'vitest';
import { BrokerError, ERROR_STATUS, type ErrorCode, isPermanentFailure } from '../../../lib/core/errors.js';

describe('isPermanentFailure', () => {
  it('holds for the refusals docs/contracts.md lists as final for a message, and for no other code', () => {
    const codes = Object.keys(ERROR_STATUS) as ErrorCode[];
    const permanent = codes.filter((code) => isPermanentFailure(new BrokerError(code, 'a message')));
    expect(permanent.sort()).toEqual([
      'Forbidden',
      'InternalError',
      'InvalidRequest',
      'PayloadTooLarge',
      'VendorAccessDenied',
      'VendorNotFound',
      'VendorRejected',
    ]);
  });
});
