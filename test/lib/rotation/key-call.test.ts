/**
 * keyCall's own edges, apart from any vendor's codes (those are in test/lib/rotation/vendors/):
 * a vendor that cannot be reached is `transient` (`network`) after one attempt, an answer the
 * schema refuses quotes nothing of itself, and vendor times become ISO 8601 or nothing.
 */
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { isoOrUndefined, keyCall } from '../../../lib/rotation/key-call.js';
import { aliyunApi } from '../../../lib/vendor/aliyun.js';
import { listenOnLoopback } from '../../../sim/loopback-server.js';
import { SIMULATOR_DEFAULT_KEYS } from '../../../sim/vendor-simulator.js';
import { keyApiError } from '../../support/master-key-api.js';

const call = (endpoint: string) =>
  keyCall({
    api: 'Alibaba Cloud IMS',
    adapter: aliyunApi.adapter(aliyunApi.settingsDefaults()),
    endpoint,
    target: { action: 'ListAccessKeys', version: '2019-08-15', style: 'RPC', paramsIn: 'query' },
    params: {},
    keys: SIMULATOR_DEFAULT_KEYS.aliyun,
    codes: {},
    answer: z.object({ AccessKeys: z.object({}) }),
  });

describe('keyCall', () => {
  it('a vendor that cannot be reached is transient (network), after one attempt', async () => {
    // A port that was just free: nothing listens there now.
    const server = await listenOnLoopback(createServer());
    await server.close();
    const error = await keyApiError(call(server.url));
    expect([error.failure, error.vendorCode]).toEqual(['transient', 'network']);
  });

  it('a success the schema refuses is `other` (MalformedAnswer), its message quoting nothing of the answer', async () => {
    let requests = 0;
    const server = await listenOnLoopback(
      createServer((_req, res) => {
        requests += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"RequestId":"R-9","Secret":"leak-me-42424242"}');
      }),
    );
    try {
      const error = await keyApiError(call(server.url));
      expect([error.failure, error.vendorCode]).toEqual(['other', 'MalformedAnswer']);
      expect(error.message).toContain('R-9');
      expect(error.message).not.toContain('leak-me');
      expect(requests).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe('isoOrUndefined', () => {
  it('reads ISO text and epoch ms; absent, empty, null and nonsense are undefined', () => {
    expect(isoOrUndefined('2020-10-16T01:37:37Z')).toBe('2020-10-16T01:37:37.000Z');
    expect(isoOrUndefined(1671681023555)).toBe('2022-12-22T03:50:23.555Z');
    for (const value of [undefined, null, '', 'N/A']) expect(isoOrUndefined(value)).toBeUndefined();
  });
});
