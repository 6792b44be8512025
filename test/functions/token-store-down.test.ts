import { describe, expect, it } from 'vitest';
import { handler as cams } from '../../functions/cams-get-upload-authorization.js';
import { httpApiEvent } from '../../sim/lambda-events.js';
import { useBrokerEnv } from '../support/broker-env.js';
import { type HttpAnswer, invokeHttp } from '../support/invoke-http.js';
import { captureLogs } from '../support/log-capture.js';

const CAMS = '/v1/aliyun/cams/upload-authorization';

// No per-test reset: the one test below runs on the env as started.
const broker = useBrokerEnv({}, { resetEach: false });

describe('the token store', () => {
  it('is an optimisation: when it cannot be read, the request still works by calling the vendor', async () => {
    // Warm: the keys are now in memory, so only the store needs SSM from here on.
    expect((await invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId: 'first' }))).statusCode).toBe(200);
    await broker.ssm.close();

    const logs = captureLogs();
    let answer: HttpAnswer;
    try {
      answer = await invokeHttp(cams, httpApiEvent(CAMS, { custSpaceId: 'second' }));
    } finally {
      logs.restore();
    }
    expect(answer.statusCode).toBe(200);
    expect(broker.sim.callsTo('GetChatappUploadAuthorization').map((c) => c.params.CustSpaceId)).toEqual(['first', 'second']);
    expect(logs.records().some((r) => r.message === 'token store unreadable; calling the vendor')).toBe(true);
  });
});
