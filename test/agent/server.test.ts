import { describe, expect, it } from 'vitest';
import { NotServable } from '../../agent/formats.js';
import { failure } from '../../agent/server.js';
import { BrokerCallError } from '../../client/broker-client.js';

describe('failure: what an endpoint answers when it has nothing to serve', () => {
  it('503 when the broker cannot be reached or the credentials held cannot be served; 502 when the broker refused or answered nonsense', () => {
    expect(failure(new BrokerCallError('broker /v1/x: unreachable'))).toEqual({ status: 503, code: 'BrokerUnavailable' });
    expect(failure(new NotServable('expired'))).toEqual({ status: 503, code: 'CredentialsUnavailable' });
    expect(failure(new BrokerCallError('403', { status: 403, code: 'Forbidden' }))).toEqual({ status: 502, code: 'BrokerRefused' });
    expect(failure(new BrokerCallError('not the broker’s', { status: 200 }))).toEqual({ status: 502, code: 'BadBrokerAnswer' });
    expect(failure(new Error('the credentials source answered without expiresAt'))).toEqual({ status: 502, code: 'BadBrokerAnswer' });
  });
});
