import { describe, expect, it } from 'vitest';
import { DEFAULT_LISTEN, parseFlags, parseListen } from '../../agent/flags.js';

describe('parseFlags', () => {
  it('needs --broker to serve; defaults to 127.0.0.1:9911 and --auth iam', () => {
    expect(() => parseFlags([])).toThrow(/--broker <base URL> is required/);
    const flags = parseFlags(['--broker', 'https://broker.example']);
    expect(flags).toMatchObject({
      command: 'serve',
      broker: 'https://broker.example',
      listen: { host: '127.0.0.1', port: 9911 },
      auth: { kind: 'iam' },
    });
    expect(DEFAULT_LISTEN).toBe('127.0.0.1:9911');
  });

  it('reads every flag, --route repeatable, and the print aliyun command (which needs no --broker)', () => {
    const flags = parseFlags([
      '--broker=http://127.0.0.1:3000',
      '--listen',
      '[::1]:0',
      '--auth',
      'jwt-file=/var/run/secrets/token',
      '--route',
      'ufile=/v1/ucloud/ufile/tokens:{"tokenName":"uploads"}',
      '--route',
      'aliyun=/v1/aliyun/sts/assume-role:{"durationSeconds":900}',
    ]);
    expect(flags.listen).toEqual({ host: '::1', port: 0 });
    expect(flags.auth).toEqual({ kind: 'jwt-file', path: '/var/run/secrets/token' });
    expect(flags.routes.map((r) => r.name)).toEqual(['ufile', 'aliyun']);
    expect(parseFlags(['print', 'aliyun']).command).toBe('print-aliyun');
    expect(parseFlags(['--help']).help).toBe(true);
  });

  it('refuses unknown flags, commands and auth modes with a clear error', () => {
    expect(() => parseFlags(['--broker', 'https://b', '--port', '1'])).toThrow(/--port.*see --help/);
    expect(() => parseFlags(['print', 'tencent'])).toThrow(/unknown command "print tencent"/);
    expect(() => parseFlags(['--broker', 'https://b', '--auth', 'basic'])).toThrow();
  });
});

describe('parseListen', () => {
  it('takes loopback hosts only', () => {
    expect(parseListen('localhost:80')).toEqual({ host: 'localhost', port: 80 });
    for (const value of ['0.0.0.0:9911', '[::]:9911', '10.0.0.5:9911', 'example.com:9911']) {
      expect(() => parseListen(value), value).toThrow(/is not loopback/);
    }
    expect(() => parseListen('9911')).toThrow(/host:port/);
    expect(() => parseListen('127.0.0.1:70000')).toThrow(/out of range/);
  });
});
