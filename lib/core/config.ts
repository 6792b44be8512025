/**
 * The broker's environment (docs/contracts.md, "Configuration"), read when a request needs it,
 * never at import time: a wrong value answers ConfigurationError instead of crashing the cold start.
 * @module
 */
import * as z from 'zod/mini';
import { parseOrThrow } from './schema.js';

/** A vendor's base URL (an `…_ENDPOINT` variable): http or https. */
export const baseUrl = z.url({ protocol: /^https?$/ });

/** A vendor's `<NAME>_KEYS_PARAMETER`: an SSM parameter name, by default the dev stage's. */
export function keysParameter(vendor: string) {
  return z._default(z.string().check(z.minLength(1)), `/cloud-token-broker/dev/keys/${vendor}`);
}

/** A CloudWatch namespace of ours: letters, digits and `. - _ / # :`, never `AWS/…`. */
export const METRICS_NAMESPACE_PATTERN = /^(?!AWS\/)[\w./#:-]{1,255}$/;

/** `a, b,c` → `['a', 'b', 'c']`; an empty list is allowed (nothing may be asked for). */
const commaList = z.pipe(
  z.string(),
  z.transform((text) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  ),
);

const configSchema = z.object({
  // A vendor's own variables (its key parameter, endpoints, signing settings) are declared by
  // its adapter (lib/vendor/<vendor>.ts, `settings`) and read with it (VendorApi.readSettings).
  KEYS_CACHE_SECONDS: z._default(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(86_400)), 300),
  /** The DynamoDB table of shared state (docs/contracts.md, "Shared state"); unset: memory only, per instance. */
  TOKEN_TABLE: z.optional(z.string().check(z.regex(/^[\w.-]{3,255}$/))),
  /**
   * The KMS key (id, ARN, alias name or alias ARN) whose data keys seal token items
   * (lib/state/token-seal.ts); with TOKEN_TABLE set and this unset, tokens stay in memory only.
   */
  TOKEN_KEY_ID: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^(arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:)?(alias\/[\w/-]{1,250}|(key\/)?(mrk-[0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}))$/,
        ),
      ),
  ),
  /** Longest a token-table call (and a KMS call for its data key) may take before the request goes on without the table. */
  TOKEN_TABLE_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.minimum(50), z.maximum(10_000)), 1_000),
  /** The share of an operation's rate limit one tenant may take in any second (lib/state/rate-budget.ts), 0 < share ≤ 1. */
  RATE_TENANT_SHARE: z._default(z.coerce.number().check(z.gt(0), z.lte(1)), 0.5),
  /** Most tokens one warm instance keeps in memory. */
  TOKEN_MEMORY_ENTRIES: z._default(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(1_000_000)), 1000),
  POLICY_PARAMETER: z.optional(z.string().check(z.minLength(1))),
  /** The RAM role Alibaba Cloud STS AssumeRole assumes for every caller (their scope is the session policy); unset: that route answers 503. */
  ALIYUN_STS_ROLE_ARN: z.optional(z.string().check(z.regex(/^acs:ram::\d+:role\/[\w.@+=,-]{1,64}$/))),
  /** The CAM role Tencent Cloud STS AssumeRole assumes for every caller; unset: that route answers 503. */
  TENCENT_STS_ROLE_ARN: z.optional(z.string().check(z.regex(/^qcs::cam::uin\/\d+:roleName\/[\w+=,.@-]{1,128}$/))),
  /**
   * The vendor account (lib/access/account.ts) the function's events, schedules and queue
   * messages use: they have no caller whose policy rule could choose one; unset: `default`.
   */
  EVENT_ACCOUNT: z.optional(z.string().check(z.regex(/^[a-z0-9-]{1,32}$/))),
  /** The scopes a provisioning event (SQS, EventBridge) may ask for, comma-separated: events are not callers of the caller policy. */
  EVENT_ALLOWED_SCOPES: z._default(commaList, ['openid', 'aliuid']),
  /** The SQS function's own dead-letter queue, by name: where a message a retry cannot help goes at once (lib/runtime/triggers/dead-letter.ts). */
  DEAD_LETTER_QUEUE: z.optional(z.string().check(z.regex(/^(?=.{1,80}$)[\w-]+(\.fifo)?$/))),
  /** Per-attempt timeout of a vendor call. */
  VENDOR_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.minimum(100)), 3_000),
  /** Time kept back from the Lambda deadline to answer 504 before it passes. */
  DEADLINE_MARGIN_MS: z._default(z.coerce.number().check(z.int(), z.minimum(0)), 300),
  /** CloudWatch namespace of the metrics written on the log lines (lib/core/metrics.ts); a deployment sets CloudTokenBroker/<stage>. */
  METRICS_NAMESPACE: z._default(z.string().check(z.regex(METRICS_NAMESPACE_PATTERN)), 'CloudTokenBroker'),
});

/** The parsed configuration, defaults applied. */
export type Config = z.infer<typeof configSchema>;
/** The variables that list what an event may ask for in one body field (an operation's `eventLimits`). */
export type EventLimitVariable = Extract<keyof Config, `EVENT_ALLOWED_${string}`>;
/** The variables that hold the role an STS operation assumes: what a spec's `assumesRole` may name. */
export type RoleArnVariable = Extract<keyof Config, `${string}_ROLE_ARN`>;

/**
 * A reader of the variables `schema` declares, parsed once and reused while they stay the same
 * (always, on Lambda); comparing each raw value with the one parsed is the cheapest way to
 * notice a change, which tests and local runs make. `env` defaults to process.env.
 */
export function envReader<S extends z.ZodMiniObject>(schema: S, env?: Record<string, string | undefined>): () => z.infer<S> {
  const names = Object.keys(schema.def.shape);
  let cached: { raw: (string | undefined)[]; config: z.infer<S> } | undefined;
  return () => {
    const source = env ?? process.env;
    if (cached !== undefined) {
      const { raw } = cached;
      let same = true;
      for (let i = 0; i < names.length; i++) {
        if (source[names[i]!] !== raw[i]) {
          same = false;
          break;
        }
      }
      if (same) return cached.config;
    }
    const raw = names.map((name) => source[name]);
    // Empty variables count as unset, so `FOO=` in a template falls back to the default.
    const values: Record<string, string> = {};
    for (let i = 0; i < names.length; i++) if (raw[i]) values[names[i]!] = raw[i]!;
    const config = parseOrThrow(schema, values, 'ConfigurationError', 'The broker is misconfigured; see its logs.') as z.infer<S>;
    cached = { raw, config };
    return config;
  };
}

/** The broker's own configuration (every vendor's is its adapter's: VendorApi.readSettings). */
export const readConfig: () => Config = envReader(configSchema);

/** Every variable at its default: what a deployment gets when it sets nothing (deploy templates read this). */
export function configDefaults(): Config {
  return parseOrThrow(configSchema, {}, 'ConfigurationError', 'The configuration defaults do not parse.');
}

/** The deploy stage param that sets a configuration variable: `ALIYUN_CAMS_ENDPOINT` → `aliyunCamsEndpoint`. */
export function stageParamName(variable: string): string {
  return variable.toLowerCase().replace(/_([a-z0-9])/g, (_match, next: string) => next.toUpperCase());
}
