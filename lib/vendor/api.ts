import type * as z from 'zod/mini';
import { envReader } from '../core/config.js';
import { registerSecretNames } from '../core/logger.js';

/** What a vendor adapter produces and how the vendor call treats an answer (docs/vendors.md, error classes). */
export interface SignedRequest {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body?: string;
}

/** How the vendor call treats a failed answer. */
export type FailureClass =
  /** Retry with backoff. */
  | 'throttled'
  | 'transient'
  /** Re-read the keys past the cache and retry once. */
  | 'key'
  /** Re-sign (new nonce and timestamp) and retry once. */
  | 'clock'
  | 'accessDenied'
  | 'notFound'
  | 'rejected'
  /** The broker sent something the vendor cannot route: our bug. */
  | 'bug'
  /** The answer could not be read at all. */
  | 'malformed';

/** A classified vendor answer. */
export type VendorOutcome =
  | { kind: 'ok'; payload: Record<string, unknown>; vendorRequestId?: string }
  | { kind: FailureClass; vendorCode: string; vendorRequestId?: string; retryAfterMs?: number };

/** Request parameters in the vendor's own names, before encoding; a list of records is Tencent Cloud's `Tags` (a JSON body only). */
export type VendorParams = Record<
  string,
  string | number | boolean | readonly string[] | readonly Readonly<Record<string, string>>[] | undefined
>;

/**
 * What a signer needs of an operation: its action and the vendor's own spec fields (`Extras`:
 * Alibaba's `version`, `style` and `paramsIn`, Tencent's `version` and `service`), which the
 * vendor declares (VendorApi) and each of its specs then must carry.
 */
export type OperationTarget<Extras extends object = object> = { action: string } & Extras;

/** The part of a vendor call that knows the vendor: how to sign, and how to read an answer. */
export interface VendorAdapter<Keys, Extras extends object = object> {
  sign(input: { endpoint: string; target: OperationTarget<Extras>; params: VendorParams; keys: Keys; now: Date }): SignedRequest;
  classify(status: number, headers: ResponseHeaders, text: string): VendorOutcome;
}

/** The configuration variable naming a vendor's key parameter: `TENCENT_KEYS_PARAMETER` (infra/environment.cjs derives it alike). */
export type KeysParameterVariable<Name extends string = string> = `${Uppercase<Name>}_KEYS_PARAMETER`;

/** `tencent` → `TENCENT_KEYS_PARAMETER`. */
export function keysParameterVariable<Name extends string>(vendor: Name): KeysParameterVariable<Name> {
  return `${vendor.toUpperCase()}_KEYS_PARAMETER` as KeysParameterVariable<Name>;
}

/** What a vendor's adapter file declares of it: everything that differs between vendors, in one place. */
export interface VendorDefinition<
  Name extends string,
  Keys extends z.ZodMiniType<Record<string, unknown>>,
  Settings extends z.ZodMiniObject,
  Extras extends object,
> {
  /** How specs, key parameters (`/cloud-token-broker/<stage>/keys/<name>`) and variables (`<NAME>_…`) name it. */
  name: Name;
  /** Its name in prose: "Tencent Cloud". */
  title: string;
  /** The master key's shape, as stored (JSON) in the SSM SecureString `<NAME>_KEYS_PARAMETER` names. */
  keys: Keys;
  /**
   * Field names whose values are secret wherever they appear in a log line: the master key's
   * secret half and the secrets of the vendor's answers and headers (lib/core/logger.ts masks them).
   * The first one is the key's secret half, whose value is also scrubbed from any string.
   */
  secretFields: readonly [keyof z.infer<Keys> & string, ...string[]];
  /**
   * The vendor's configuration variables with their defaults (docs/contracts.md, "Configuration"):
   * `<NAME>_KEYS_PARAMETER`, each base URL a spec may name as its `endpoint` (`…_ENDPOINT`),
   * and what its signer reads (ALIYUN_SIGNATURE, TENCENT_REGION).
   */
  settings: Settings;
  /**
   * The variables besides its key parameter and endpoints that a deployment sets for the
   * vendor's functions, each from the stage param named after it (TENCENT_REGION → tencentRegion;
   * infra/environment.cjs).
   */
  deploySettings?: readonly string[];
  /** How openapi.json describes the API an operation calls: "Tencent Cloud API 3.0, sts version 2018-08-13". */
  describe(target: OperationTarget<Extras>): string;
  /** Its signer and answer classifier, as its settings configure them. */
  adapter(settings: z.infer<Settings>): VendorAdapter<z.infer<Keys>, Extras>;
}

/**
 * A vendor as an operation spec names it (`api`): made by defineVendor in lib/vendor/<name>.ts.
 * Each spec imports its own vendor's, so a function's bundle holds no other vendor's code;
 * only tools, infra, the simulator's wiring and tests list them all (lib/vendor/index.ts).
 */
export interface VendorApi<
  Name extends string = string,
  Keys extends z.ZodMiniType<Record<string, unknown>> = z.ZodMiniType<Record<string, unknown>>,
  Settings extends z.ZodMiniObject = z.ZodMiniObject,
  Extras extends object = object,
> extends VendorDefinition<Name, Keys, Settings, Extras> {
  /** Its settings from the environment, parsed once per change; a wrong value is ConfigurationError. */
  readSettings(): z.infer<Settings>;
  /** Its settings at their defaults: what a deployment gets when it sets nothing. */
  settingsDefaults(): z.infer<Settings>;
  /** Type only: the spec fields this vendor's operations carry. */
  readonly extras?: Extras;
}

/** The key shape of a vendor. */
export type KeysOf<Api extends VendorApi> = z.infer<Api['keys']>;
/** The configuration variables of a vendor. */
export type SettingsOf<Api extends VendorApi> = z.infer<Api['settings']>;
/** The variables holding a base URL of the vendor: what its specs may name as `endpoint` (any `…_ENDPOINT` for a vendor unknown to the type). */
export type EndpointOf<Api extends VendorApi> = string extends keyof SettingsOf<Api>
  ? `${string}_ENDPOINT`
  : Extract<keyof SettingsOf<Api>, `${string}_ENDPOINT`>;
/** The spec fields the vendor's operations carry besides the common ones. */
export type ExtrasOf<Api extends VendorApi> = NonNullable<Api['extras']>;

/** Marks a vendor made by defineVendor, so the vendor registry can tell it from other exports. */
const VENDOR = Symbol.for('cloud-token-broker.vendor');

/**
 * Declares a vendor; lib/vendor/index.ts finds every value made here. Its secret field names
 * join the logger's as the module loads: a function's logger masks its own vendor's, and a
 * process that loads the registry (tools, tests) masks every vendor's.
 */
export function defineVendor<
  const Name extends string,
  Keys extends z.ZodMiniType<Record<string, unknown>>,
  Settings extends z.ZodMiniObject,
  Extras extends object = Record<never, never>,
>(definition: VendorDefinition<Name, Keys, Settings, Extras>): VendorApi<Name, Keys, Settings, Extras> {
  const variable = keysParameterVariable(definition.name);
  for (const name of [variable, ...(definition.deploySettings ?? [])]) {
    if (!(name in definition.settings.shape)) throw new Error(`vendor ${definition.name} declares no ${name} in its settings`);
  }
  registerSecretNames(definition.secretFields);
  const readSettings = envReader(definition.settings);
  return Object.freeze({
    ...definition,
    readSettings,
    settingsDefaults: () => envReader(definition.settings, {})(),
    [VENDOR]: true,
  });
}

/** True for a value made by defineVendor. */
export function isVendor(value: unknown): value is VendorApi {
  return typeof value === 'object' && value !== null && VENDOR in value;
}

/** What an adapter reads of an answer's headers (a `Headers` object has it too): a value by name, any case. */
export interface ResponseHeaders {
  get(name: string): string | null;
}

/** Parses a JSON object body, or returns undefined for anything else. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Retry-After in seconds (RFC 9110: delay-seconds or an HTTP date) as milliseconds. */
export function retryAfterMs(headers: ResponseHeaders, now = Date.now()): number | undefined {
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
