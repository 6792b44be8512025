/**
 * The agent's route table: the two STS routes it serves by default (`aliyun`, `tencent`) and
 * the ones `--route <name>=<broker path>[:<json body>]` adds, each a broker path and the fixed
 * body the agent posts to it. A `--route` named `aliyun` or `tencent` replaces that default's
 * body (its path must stay the STS route: the endpoint's answer format depends on it).
 * @module
 */
import * as z from 'zod/mini';

/** One route the agent keeps credentials for. */
export interface RouteFlag {
  /** `/routes/<name>`; `aliyun` and `tencent` are the STS defaults. */
  name: string;
  /** The broker route posted to, `/v1/…`. */
  path: string;
  /** The fixed JSON body posted each time. */
  body: Record<string, unknown>;
}

/** The two defaults: Alibaba Cloud and Tencent Cloud STS with the vendors' default lifetimes (no body). */
export const DEFAULT_ROUTES: readonly RouteFlag[] = [
  { name: 'aliyun', path: '/v1/aliyun/sts/assume-role', body: {} },
  { name: 'tencent', path: '/v1/tencent/sts/assume-role', body: {} },
];

// The broker refuses bodies above 16 KiB; the agent refuses them first.
const MAX_BODY_BYTES = 16 * 1024;
const routeName = z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a route name is 1–63 of a-z, 0-9 and -'));
const brokerPath = z
  .string()
  .check(z.regex(/^\/v1(\/(?!\.{1,2}(?:\/|$))[A-Za-z0-9._-]+)+$/, 'a broker path is /v1/… (letters, digits, . _ -; no . or .. segment)'));
const body = z.record(z.string(), z.unknown());

/** Parses one `--route name=/v1/path[:{"json":"body"}]`; throws a clear Error. */
export function parseRouteFlag(value: string): RouteFlag {
  const eq = value.indexOf('=');
  if (eq < 1) throw new Error(`--route must be <name>=<broker path>[:<json body>], got ${JSON.stringify(value)}`);
  const rest = value.slice(eq + 1);
  const colon = rest.indexOf(':');
  const name = routeName.safeParse(value.slice(0, eq));
  const path = brokerPath.safeParse(colon < 0 ? rest : rest.slice(0, colon));
  if (!name.success) throw new Error(`--route ${JSON.stringify(value.slice(0, eq))}: ${name.error.issues[0]?.message}`);
  if (!path.success) throw new Error(`--route ${name.data}: ${path.error.issues[0]?.message}`);
  let parsedBody: unknown = {};
  if (colon >= 0) {
    const text = rest.slice(colon + 1);
    if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new Error(`--route ${name.data}: the body is over 16 KiB`);
    try {
      parsedBody = JSON.parse(text);
    } catch {
      throw new Error(`--route ${name.data}: the body after ":" is not JSON`);
    }
  }
  const checked = body.safeParse(parsedBody);
  if (!checked.success) throw new Error(`--route ${name.data}: the body must be a JSON object`);
  const fixed = DEFAULT_ROUTES.find((route) => route.name === name.data);
  if (fixed !== undefined && fixed.path !== path.data) {
    throw new Error(`--route ${name.data}: the ${name.data} route is ${fixed.path} (only its body may be set)`);
  }
  return { name: name.data, path: path.data, body: checked.data };
}

/** The defaults, with each `--route` replacing the default of its name or added after them; a name twice is an Error. */
export function routeTable(flags: readonly RouteFlag[]): RouteFlag[] {
  const seen = new Set<string>();
  for (const flag of flags) {
    if (seen.has(flag.name)) throw new Error(`--route ${flag.name} is given twice`);
    seen.add(flag.name);
  }
  const byName = new Map(flags.map((flag) => [flag.name, flag]));
  const defaults = DEFAULT_ROUTES.map((route) => byName.get(route.name) ?? route);
  return [...defaults, ...flags.filter((flag) => !DEFAULT_ROUTES.some((route) => route.name === flag.name))];
}
