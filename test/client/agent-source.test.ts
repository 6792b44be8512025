/**
 * client/agent-source.ts: a running agent as a credentials source: loopback http only, asked again
 * within a minute (or a quarter of the time left), its failures as errors that name the status and
 * the agent's error code.
 */
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { agentEndpoint, askAgainAt, fromAgent } from '../../client/agent-source.js';
import { listenOnLoopback } from '../../sim/loopback-server.js';

describe('a credentials agent as the source', () => {
  it('is reached on loopback http only', () => {
    expect(agentEndpoint('http://127.0.0.1:9911/aliyun/credentials').port).toBe('9911');
    expect(agentEndpoint('http://[::1]:9911/aliyun/credentials').hostname).toBe('[::1]');
    expect(() => agentEndpoint('http://10.0.0.8:9911/aliyun/credentials')).toThrow('loopback http only');
    expect(() => agentEndpoint('https://127.0.0.1:9911/aliyun/credentials')).toThrow('loopback http only');
  });

  it('is asked again within a minute, sooner when little time is left', () => {
    expect(askAgainAt(3_600_000, 0)).toBe(60_000);
    expect(askAgainAt(100_000, 0)).toBe(25_000);
    expect(askAgainAt(0, 10)).toBe(10);
  });

  it('fails with the status and the agent’s error code, never the body', async () => {
    const agent = await listenOnLoopback(
      createServer((_req, res) =>
        res
          .writeHead(503, { 'content-type': 'application/json' })
          .end('{"error":{"code":"BrokerUnavailable","message":"secret-ish detail"}}'),
      ),
    );
    try {
      const source = fromAgent(`${agent.url}/aliyun/credentials`, () => ({ data: 1, expiresAt: Date.now() + 3_600_000 }));
      const error = await source.get().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/answered 503 BrokerUnavailable$/);
      expect(error?.message).not.toContain('secret-ish');
    } finally {
      await agent.close();
    }
    const gone = fromAgent(`${agent.url}/aliyun/credentials`, () => ({ data: 1, expiresAt: 0 }));
    await expect(gone.get()).rejects.toThrow('cannot be reached');
  });
});
