/**
 * readJsonParameter against the fake SSM (sim/fake-ssm.ts) through the real client: reads of one
 * parameter that overlap reach SSM once, as a cold instance's early key read and its vendor
 * call's own read do; a read that must be fresh does not join them.
 */

import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { clearParameters, readJsonParameter } from '../../../lib/aws/ssm-parameter.js';
import { useBrokerEnv } from '../../support/broker-env.js';

const broker = useBrokerEnv({ table: false });
const NAME = '/cloud-token-broker/test/some-json';
const schema = z.object({ n: z.number() });
const reads = () => broker.ssm.requests.filter((request) => request.names.includes(NAME)).length;

describe('readJsonParameter', () => {
  it('asks SSM once for reads of one parameter that overlap, and each gets the value', async () => {
    broker.ssm.put(NAME, { n: 1 });
    clearParameters();
    broker.ssm.clearRequests();
    const values = await Promise.all([1, 2, 3].map(() => readJsonParameter(NAME, schema, { cacheSeconds: 0 })));
    expect(values).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }]);
    expect(reads()).toBe(1);
  });

  it('a fresh read does not join one under way: it asks SSM itself and sees a changed value', async () => {
    broker.ssm.put(NAME, { n: 1 });
    clearParameters();
    broker.ssm.clearRequests();
    const cached = readJsonParameter(NAME, schema, { cacheSeconds: 60 });
    broker.ssm.put(NAME, { n: 2 });
    const fresh = readJsonParameter(NAME, schema, { cacheSeconds: 60, fresh: true });
    expect((await fresh).n).toBe(2);
    await cached;
    expect(reads()).toBe(2);
  });
});
