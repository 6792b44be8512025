/**
 * The agent's command line: `cloud-token-broker-agent [print aliyun] --broker <url> [--listen
 * host:port] [--auth iam|jwt-file=<path>|none] [--route name=path[:json]]… [--help]`, parsed by
 * node:util parseArgs and checked by a zod schema, so every flag is read in one place and a
 * wrong one is a clear error before anything listens.
 * @module
 */
import { parseArgs } from 'node:util';
import * as z from 'zod/mini';
import { type BrokerAuth, parseAuth } from '../client/auth.js';
import { parseRouteFlag, type RouteFlag } from './routes.js';

/** Where the agent listens when `--listen` is not given (the design's default). */
export const DEFAULT_LISTEN = '127.0.0.1:9911';

/** Host names the agent may listen on: loopback only, so no other machine can reach the credentials. */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '::1', 'localhost']);

/** A `--listen` value: host and port, the host on loopback. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** What the command line asks for, once checked. */
export interface AgentFlags {
  /** `serve` (the default) or `print aliyun` (the external-process JSON, once). */
  command: 'serve' | 'print-aliyun';
  /** Base URL of the broker; absent only for `print aliyun`, which then asks the running agent alone. */
  broker?: string;
  listen: ListenAddress;
  auth: BrokerAuth;
  routes: RouteFlag[];
  help: boolean;
}

/** `host:port` (`[::1]:port` for IPv6) with a loopback host, or an Error saying why not. */
export function parseListen(value: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  if (!match) throw new Error(`--listen must be host:port (e.g. ${DEFAULT_LISTEN}), got ${JSON.stringify(value)}`);
  const host = (match[1] ?? match[2])!;
  const port = Number(match[3]);
  if (port > 65_535) throw new Error(`--listen: port ${port} is out of range`);
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new Error(`--listen: ${host} is not loopback; the agent listens only on 127.0.0.1, ::1 or localhost`);
  }
  return { host, port };
}

const rawFlags = z.object({
  positionals: z.array(z.string()),
  values: z.object({
    broker: z.optional(z.string()),
    listen: z.optional(z.string()),
    auth: z.optional(z.string()),
    route: z.optional(z.array(z.string())),
    help: z.optional(z.boolean()),
  }),
});

/** The default when `--auth` is not given: the AWS default credential chain, as a task or pod role provides it. */
export const DEFAULT_AUTH = 'iam';

/** Parses and checks `argv` (without node and the script); throws an Error with a clear message. */
export function parseFlags(argv: readonly string[]): AgentFlags {
  let parsed: unknown;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        broker: { type: 'string' },
        listen: { type: 'string' },
        auth: { type: 'string' },
        route: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)} (see --help)`);
  }
  const { positionals, values } = rawFlags.parse(parsed);
  const help = values.help === true;
  let command: AgentFlags['command'] = 'serve';
  if (positionals.length > 0) {
    if (positionals.join(' ') !== 'print aliyun')
      throw new Error(`unknown command ${JSON.stringify(positionals.join(' '))} (only "print aliyun"; see --help)`);
    command = 'print-aliyun';
  }
  const listen = parseListen(values.listen ?? DEFAULT_LISTEN);
  if (!help && command === 'serve' && values.broker === undefined) throw new Error('--broker <base URL> is required (see --help)');
  return {
    command,
    ...(values.broker !== undefined && { broker: values.broker }),
    listen,
    auth: parseAuth(values.auth ?? DEFAULT_AUTH),
    routes: (values.route ?? []).map(parseRouteFlag),
    help,
  };
}
