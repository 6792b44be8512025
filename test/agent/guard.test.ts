import { describe, expect, it } from 'vitest';
import { hostName, refusal } from '../../agent/guard.js';

describe('the agent’s guard', () => {
  it('lets a local GET through, whichever loopback name it uses', () => {
    for (const host of ['127.0.0.1:9911', 'localhost:9911', 'LOCALHOST', '[::1]:9911'])
      expect(refusal('GET', { host }), host).toBeUndefined();
    expect(refusal('GET', { host: '127.0.0.1:9911', 'sec-fetch-site': 'none' })).toBeUndefined();
  });

  it('refuses a web page (Origin, Sec-Fetch-Site) and a non-loopback or missing Host with 403', () => {
    const local = { host: '127.0.0.1:9911' };
    expect(refusal('GET', { ...local, origin: 'https://evil.example' })?.status).toBe(403);
    expect(refusal('GET', { ...local, origin: 'null' })?.status).toBe(403);
    expect(refusal('GET', { ...local, 'sec-fetch-site': 'same-origin' })?.status).toBe(403);
    for (const host of ['evil.example:9911', '127.0.0.1.evil.example', '[::ffff:7f00:1]:9911', '0.0.0.0:9911', 'localhost.:9911', '']) {
      expect(refusal('GET', { host })?.status, host).toBe(403);
    }
    expect(refusal('GET', {})?.status).toBe(403);
  });

  it('answers anything but GET with 405', () => {
    expect(refusal('POST', { host: 'localhost' })).toMatchObject({ status: 405, code: 'MethodNotAllowed' });
    expect(refusal('HEAD', { host: 'localhost' })?.status).toBe(405);
  });

  it('reads the host name of a Host header', () => {
    expect(hostName('[::1]:80')).toBe('::1');
    expect(hostName('Localhost')).toBe('localhost');
    expect(hostName('a:b:c')).toBeUndefined();
  });
});
