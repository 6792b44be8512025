/**
 * Account names, their lists (`<VENDOR>_ACCOUNTS`), their key parameters, and how a rule's
 * `account` is rendered for a caller.
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import {
  accountKeysParameter,
  accountList,
  accountsVariable,
  accountTemplate,
  DEFAULT_ACCOUNT,
  MAX_ACCOUNTS,
  renderAccount,
} from '../../../lib/access/account.js';
import type { Caller } from '../../../lib/access/caller.js';

const jwt = (claims: Record<string, string | string[]>): Caller => ({
  kind: 'jwt',
  claims,
  issuer: 'https://issuer.example.test',
  subject: 'u1',
});

describe('account lists and key parameters', () => {
  it('names the variable after the vendor', () => {
    expect(accountsVariable('aliyun')).toBe('ALIYUN_ACCOUNTS');
    expect(accountsVariable('tencent')).toBe('TENCENT_ACCOUNTS');
    expect(accountsVariable('ucloud')).toBe('UCLOUD_ACCOUNTS');
  });

  it('parses a comma-separated list; unset is no account besides default', () => {
    expect(z.parse(accountList, 'acme, globex ,b-2')).toEqual(['acme', 'globex', 'b-2']);
    expect(z.parse(accountList, undefined)).toEqual([]);
  });

  it.each(['Acme', 'acme/x', 'a_b', 'x'.repeat(33), 'acme,ACME'])('refuses %j in the list', (text) => {
    expect(z.safeParse(accountList, text).success).toBe(false);
  });

  it(`refuses more than ${MAX_ACCOUNTS} accounts`, () => {
    const names = Array.from({ length: MAX_ACCOUNTS + 1 }, (_, i) => `a${i}`).join(',');
    expect(z.safeParse(accountList, names).success).toBe(false);
  });

  it('keeps the key parameter itself for default, and appends the name for any other account', () => {
    expect(accountKeysParameter('/cloud-token-broker/prod/keys/aliyun')).toBe('/cloud-token-broker/prod/keys/aliyun');
    expect(accountKeysParameter('/cloud-token-broker/prod/keys/aliyun', DEFAULT_ACCOUNT)).toBe('/cloud-token-broker/prod/keys/aliyun');
    expect(accountKeysParameter('/cloud-token-broker/prod/keys/aliyun', 'acme')).toBe('/cloud-token-broker/prod/keys/aliyun/acme');
  });
});

describe("a rule's account", () => {
  it('takes a name or exactly one ${claim}', () => {
    for (const ok of ['acme', '${org}', '${custom:org}']) expect(z.safeParse(accountTemplate, ok).success).toBe(true);
    for (const bad of ['ACME', 'acme-${org}', '${org}${team}', '', '${}']) expect(z.safeParse(accountTemplate, bad).success).toBe(false);
  });

  it('renders a literal as it is, and a claim as its value', () => {
    expect(renderAccount('acme', jwt({}))).toEqual({ account: 'acme' });
    expect(renderAccount('${org}', jwt({ org: 'globex' }))).toEqual({ account: 'globex' });
  });

  it.each([
    ['missing', {}],
    ['a list', { org: ['acme', 'globex'] }],
    ['empty', { org: '' }],
    ['upper case', { org: 'Acme' }],
    ['a path', { org: 'acme/../globex' }],
    ['too long', { org: 'a'.repeat(33) }],
    ['a wildcard', { org: '*' }],
  ])('refuses a claim that is %s, naming the claim and never its value', (_case, claims) => {
    const rendering = renderAccount('${org}', jwt(claims as Record<string, string>));
    expect(rendering).toMatchObject({ refused: { claim: 'org' } });
    const value = (claims as Record<string, unknown>).org;
    if (typeof value === 'string' && value.length > 2) expect(JSON.stringify(rendering)).not.toContain(value);
  });
});
