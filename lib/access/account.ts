/**
 * Vendor accounts (docs/contracts.md, "Accounts"): a vendor may have several named accounts
 * besides `default`, listed in `<VENDOR>_ACCOUNTS`; each has its own key parameter
 * (`<KEYS_PARAMETER>/<name>`, `default` keeps `<KEYS_PARAMETER>` itself), its own rate
 * budgets, token items and metrics. A caller-policy rule picks one (`"account"`), a literal
 * or a claim; this module holds the names, their lists and how a rule's choice is rendered.
 * @module
 */
import * as z from 'zod/mini';
import type { Caller } from './caller.js';
import { claimRefusal, claimValue, REFERENCE } from './claims.js';

/** The account every vendor has, whose key parameter is `<KEYS_PARAMETER>` itself. */
export const DEFAULT_ACCOUNT = 'default';

/** What an account name may be: short, lower case, no separator of a parameter path or a table key. */
export const ACCOUNT_NAME = /^[a-z0-9-]{1,32}$/;

/** Most accounts a vendor may list: each is a parameter its functions may read, and a set of alarms. */
export const MAX_ACCOUNTS = 50;

/** One account name. */
export const accountName = z.string().check(z.regex(ACCOUNT_NAME));

/**
 * `<VENDOR>_ACCOUNTS`: comma-separated names besides `default` (which is implicit, and may be
 * listed too); a wrong name is a ConfigurationError, not an account silently left out.
 */
export const accountList = z._default(
  z.pipe(
    z.string(),
    z.pipe(
      z.transform((text: string) =>
        text
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean),
      ),
      z.array(accountName).check(z.maxLength(MAX_ACCOUNTS)),
    ),
  ),
  [],
);

/** The variable listing a vendor's accounts: `tencent` → `TENCENT_ACCOUNTS` (infra/environment.cjs derives it alike). */
export type AccountsVariable<Name extends string = string> = `${Uppercase<Name>}_ACCOUNTS`;

/** `tencent` → `TENCENT_ACCOUNTS`. */
export function accountsVariable<Name extends string>(vendor: Name): AccountsVariable<Name> {
  return `${vendor.toUpperCase()}_ACCOUNTS` as AccountsVariable<Name>;
}

/** The key parameter of `account`, given the vendor's `<KEYS_PARAMETER>`. */
export function accountKeysParameter(keysParameter: string, account: string = DEFAULT_ACCOUNT): string {
  return account === DEFAULT_ACCOUNT ? keysParameter : `${keysParameter}/${account}`;
}

/** A rule's `account`, rendered for a caller: the name, or the claim that could not be used and why. */
export type AccountRendering = { account: string } | { refused: { claim: string; reason: string } };

/** A rule's `account` field: a literal account name, or exactly one `${claim}` reference. */
export const accountTemplate = z.string().check(
  z.refine((text) => ACCOUNT_NAME.test(text) || /^\$\{[A-Za-z_][\w:.-]{0,127}\}$/.test(text), {
    message: 'must be an account name (a-z 0-9 -, 1 to 32) or one ${claim}',
  }),
);

/**
 * Renders a rule's `account`: a literal as it is; a `${claim}` as the caller's claim, which
 * must be present, pass the claims' allow-list (claimRefusal) and be an account name. A claim
 * that cannot be used refuses the request: falling back to `default` would hand a caller
 * without the claim the default account's credentials.
 */
export function renderAccount(template: string, caller: Caller): AccountRendering {
  const match = new RegExp(`^${REFERENCE.source}$`).exec(template);
  if (match === null) return { account: template };
  const claim = match[1]!;
  const value = claimValue(caller, claim);
  if (value === undefined) return { refused: { claim, reason: 'is missing, empty or a list' } };
  const reason = claimRefusal(value) ?? (ACCOUNT_NAME.test(value) ? undefined : 'is not an account name (a-z 0-9 -, 1 to 32)');
  return reason === undefined ? { account: value } : { refused: { claim, reason } };
}
