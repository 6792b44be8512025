import { describe, expect, it } from 'vitest';
import type { Caller } from '../../../lib/access/caller.js';
import { roleSessionName, SESSION_NAME } from '../../../lib/access/session-name.js';

const jwt = (subject?: string): Caller => ({ kind: 'jwt', ...(subject !== undefined && { subject }), claims: {} });
const iam = (principal: string): Caller => ({ kind: 'iam', principal });
/** `<readable>-<10 hex>`: a name that had to be changed, cut or qualified. */
const hashed = (readable: string) => new RegExp(`^${readable.replace(/[.]/g, '\\.')}-[0-9a-f]{10}$`);

describe('roleSessionName', () => {
  it('is the JWT subject itself when both vendors take it', () => {
    expect(roleSessionName(jwt('user-of-tenant-a'))).toBe('user-of-tenant-a');
    expect(roleSessionName(jwt('alice@example.com'))).toBe('alice@example.com');
    expect(roleSessionName(jwt('0b9a7c2e-6d4f-4c1a-9e8b-3f2d1c0b9a87'))).toBe('0b9a7c2e-6d4f-4c1a-9e8b-3f2d1c0b9a87');
  });

  it('names an assumed role by role and session, an IAM user by name, both with a hash of the whole ARN (account included)', () => {
    const role = roleSessionName(iam('arn:aws:sts::123456789012:assumed-role/onboarding-prod/i-0abc'));
    expect(role).toMatch(hashed('onboarding-prod@i-0abc'));
    expect(roleSessionName(iam('arn:aws:sts::999999999999:assumed-role/onboarding-prod/i-0abc'))).not.toBe(role);
    expect(roleSessionName(iam('arn:aws:iam::123456789012:user/division/alice'))).toMatch(hashed('alice'));
    expect(roleSessionName(iam('arn:aws:iam::123456789012:root'))).toMatch(hashed('root'));
  });

  it('is "anonymous" for a caller without an authorizer, and "jwt" with a hash for a JWT without a subject', () => {
    expect(roleSessionName({ kind: 'anonymous' })).toBe('anonymous');
    expect(roleSessionName(jwt())).toMatch(hashed('jwt'));
  });

  it.each(['anonymous', 'jwt', 'iam', 'Anonymous'])('never gives a JWT subject %j the name another kind of caller has', (subject) => {
    expect(roleSessionName(jwt(subject))).toMatch(hashed(subject));
    expect(roleSessionName(jwt(subject))).not.toBe(roleSessionName({ kind: 'anonymous' }));
    expect(roleSessionName(jwt(subject))).not.toBe(roleSessionName(jwt()));
  });

  it('depends on the issuer as well as the subject: two issuers of one subject get two names', () => {
    const of = (issuer: string): Caller => ({ kind: 'jwt', subject: 'user-7', issuer, claims: {} });
    expect(roleSessionName(of('https://a.example.test'))).toMatch(hashed('user-7'));
    expect(roleSessionName(of('https://a.example.test'))).not.toBe(roleSessionName(of('https://b.example.test')));
    expect(roleSessionName(of('https://a.example.test'))).toBe(roleSessionName(of('https://a.example.test')));
  });

  it("hashes a subject shaped like a hashed name, so no subject can copy another caller's name", () => {
    const victim = roleSessionName({ kind: 'jwt', subject: 'user-7', issuer: 'https://a.example.test', claims: {} });
    expect(roleSessionName(jwt(victim))).not.toBe(victim);
  });

  it.each([
    ['characters Alibaba Cloud refuses', 'auth0|abc+def=1', 'auth0_abc_def_1'],
    ['a space and non-ASCII letters', 'José Ñ 中', 'Jos_'],
    ['a path', 'tenant/../admin', 'tenant_.._admin'],
    ['one character (both vendors want 2)', 'a', 'a'],
  ])('replaces %s and adds the hash', (_name, subject, readable) => {
    const name = roleSessionName(jwt(subject));
    expect(name).toMatch(SESSION_NAME);
    expect(name.startsWith(`${readable}`)).toBe(true);
    expect(name).toMatch(/-[0-9a-f]{10}$/);
  });

  it('cuts a long subject to 64 characters, the hash keeping two subjects that share 53 characters apart', () => {
    const common = 'x'.repeat(70);
    const a = roleSessionName(jwt(`${common}-a`));
    const b = roleSessionName(jwt(`${common}-b`));
    expect(a).toHaveLength(64);
    expect(a).toMatch(hashed('x'.repeat(53)));
    expect(b).not.toBe(a);
  });

  it('keeps a subject of exactly 64 valid characters as it is', () => {
    expect(roleSessionName(jwt('s'.repeat(64)))).toBe('s'.repeat(64));
  });
});
