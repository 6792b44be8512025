/**
 * `cloud-token-broker-agent`: the credentials agent's entry. Parses the flags, then either
 * prints `--help`, runs `print aliyun` once, or serves: it holds one set of refreshing
 * credentials per route (fetched eagerly in the background, so a route the broker refuses does
 * not stop the others or the start), listens on loopback and prints the environment lines an app
 * needs. SIGINT and SIGTERM stop it.
 * @module
 */
import { createBrokerClient } from '../client/broker-client.js';
import { bannerLines } from './banner.js';
import { type AgentFlags, parseFlags } from './flags.js';
import { holdRoutes } from './held-routes.js';
import { HELP } from './help.js';
import { log } from './log.js';
import { printAliyun } from './print.js';
import { routeTable } from './routes.js';
import { startAgentServer } from './server.js';

async function serve(flags: AgentFlags & { broker: string }): Promise<void> {
  const routes = routeTable(flags.routes);
  const client = createBrokerClient({ broker: flags.broker, auth: flags.auth });
  const held = holdRoutes(routes, client);
  const server = await startAgentServer(flags.listen, held);
  for (const { credentials } of held.values()) {
    credentials.start();
    // The first fetch now; a failure is logged by held-routes and answered on its endpoint.
    credentials.get().catch(() => undefined);
  }
  // The timers are unref'd: this keeps the process alive until a signal.
  const alive = setInterval(() => undefined, 2 ** 30);
  const stop = (signal: string) => {
    log('info', 'stopping', { signal });
    clearInterval(alive);
    for (const { credentials } of held.values()) credentials.stop();
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.stdout.write(
    `${bannerLines(
      server.url,
      routes.map((r) => r.name),
    ).join('\n')}\n`,
  );
  log('info', 'listening', {
    url: server.url,
    broker: flags.broker,
    auth: flags.auth.kind,
    routes: routes.map((r) => `${r.name}=${r.path}`).join(' '),
  });
}

/** Runs the command line `argv`; resolves with the exit code for a one-shot command, or never while serving. */
export async function main(argv: readonly string[]): Promise<number | undefined> {
  let flags: AgentFlags;
  try {
    flags = parseFlags(argv);
  } catch (error) {
    process.stderr.write(`cloud-token-broker-agent: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    if (flags.command === 'print-aliyun') {
      process.stdout.write(`${JSON.stringify(await printAliyun(flags))}\n`);
      return 0;
    }
    routeTable(flags.routes); // a name given twice is refused before anything listens
    // SigV4 signs for a region: without one every broker call would fail, so the start does.
    if (flags.auth.kind === 'iam' && !process.env.AWS_REGION) {
      throw new Error('--auth iam needs AWS_REGION (the region of the broker’s API, which SigV4 signs for)');
    }
    await serve({ ...flags, broker: flags.broker! });
    return undefined;
  } catch (error) {
    process.stderr.write(`cloud-token-broker-agent: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
