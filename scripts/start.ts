// npm start: the whole service on http://localhost:3000 through serverless-offline (run by
// osls), with the vendor simulator, a fake SSM seeded with local keys, a fake SQS holding the
// dead-letter queues and a local token table (dynalite) started alongside: no AWS or vendor
// account needed. The functions run from the very zips a deploy
// ships (`osls package`), which serverless-offline unpacks. What is wired, and the routes
// shown, come from the operation registry (lib/operations).
//
//   npm start                       simulator + fake SSM + fake SQS + local token table (the default)
//   npm start -- --real-vendors --i-understand-real-credentials
//                                   real vendor endpoints, keys from real SSM (your AWS credentials),
//                                   stage `dev` unless --stage is given; refused without the second flag
//   npm start -- --allow-origin https://app.example   (repeatable; or BROKER_ALLOWED_ORIGINS=a,b)
//                                   a web page origin let through; by default every request that
//                                   carries an Origin header is answered 403
//   PORT=3000 LAMBDA_PORT=3002      where the HTTP API and the Lambda invoke API listen
//   SIM_LIFETIME_SCALE=0.0166667    the simulator's STS credentials live this share of the asked
//                                   lifetime (default 1): 1/60 makes 900 s live 15 s, to watch refreshes
//
// The functions' metric lines (EMF, lib/core/metrics.ts) pass through as they are and are summed
// (sim/metrics-summary.ts): a summary is printed on Ctrl-C, and at any time on SIGUSR2
// (`kill -USR2 <pid>`, the pid the banner shows).
//
// serverless-offline reflects any Origin with credentials allowed, on both ports, and cannot
// be told to refuse one; so it listens on Unix sockets in a directory only this user can enter
// (no page can reach a Unix socket), and each public port is an origin guard
// (sim/origin-guard.ts) in front of one. Everything else started here (simulator, fake SSM,
// fake SQS, local table) answers 403 to any request from a web page (sim/loopback-server.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSMClient } from '@aws-sdk/client-ssm';
import { stageParamName } from '../lib/core/config.js';
import { loadOperations } from '../lib/operations/index.js';
import { triggerOf } from '../lib/spec/operation.js';
import {
  endpointVariables,
  exampleBody,
  keyParametersUnder,
  startLocalWorld,
  VENDOR_ENDPOINT_VARIABLES,
  VENDOR_NAMES,
} from '../sim/local-world.js';
import { createMetricsSummary } from '../sim/metrics-summary.js';
import { startObjectStorage } from '../sim/object-storage.js';
import { parseAllowedOrigin, startOriginGuard } from '../sim/origin-guard.js';

const args = process.argv.slice(2);

function fail(message: string): never {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(2);
}

function optionValues(name: string): string[] {
  const values: string[] = [];
  args.forEach((arg, i) => {
    if (arg === name) values.push(args[i + 1] ?? fail(`${name} needs a value`));
    else if (arg.startsWith(`${name}=`)) values.push(arg.slice(name.length + 1));
  });
  return values;
}

const realVendors = args.includes('--real-vendors') || process.env.BROKER_REAL_VENDORS === '1';
const realCredentialsUnderstood = args.includes('--i-understand-real-credentials') || process.env.BROKER_REAL_CREDENTIALS === 'understood';
if (realVendors && !realCredentialsUnderstood) {
  fail(
    [
      '--real-vendors refused: it calls the real vendor endpoints with the master keys read from real SSM',
      '(your AWS credentials), so every local request spends real credentials. To go ahead, add',
      '--i-understand-real-credentials (or set BROKER_REAL_CREDENTIALS=understood).',
    ].join('\n'),
  );
}
const allowedOrigins = [...optionValues('--allow-origin'), ...(process.env.BROKER_ALLOWED_ORIGINS ?? '').split(',')]
  .map((value) => value.trim())
  .filter(Boolean)
  .map((value) => {
    const origin = parseAllowedOrigin(value);
    return origin instanceof Error ? fail(`--allow-origin / BROKER_ALLOWED_ORIGINS: ${origin.message}`) : origin;
  });
const stage = optionValues('--stage')[0] ?? (realVendors ? 'dev' : 'local');
/** SIM_LIFETIME_SCALE: a share in (0, 1] of the asked STS lifetime the simulator's credentials live (docs/local-run.md). */
const lifetimeScale = Number(process.env.SIM_LIFETIME_SCALE ?? 1);
if (!(lifetimeScale > 0 && lifetimeScale <= 1))
  fail(`SIM_LIFETIME_SCALE must be a number in (0, 1], got ${process.env.SIM_LIFETIME_SCALE}`);
const httpPort = Number(process.env.PORT ?? 3000);
const lambdaPort = Number(process.env.LAMBDA_PORT ?? 3002);
const osls = new URL('../node_modules/.bin/osls', import.meta.url).pathname;
const root = new URL('..', import.meta.url).pathname;

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];
let stopping = false;

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(cleanups.map((cleanup) => cleanup().catch(() => undefined)));
  }
  process.exit(code);
}

// What the functions measured in this run, from the metric lines they print.
const metrics = createMetricsSummary();
const printMetrics = () => process.stdout.write(`\n${metrics.render()}\n\n`);
process.on('SIGINT', () => {
  if (!stopping) printMetrics();
  void stop(0);
});
process.on('SIGTERM', () => void stop(0));
process.on('SIGUSR2', printMetrics);

/**
 * Where serverless-offline listens behind the guards: two Unix sockets (hapi takes a path as its
 * port) in a fresh directory that only this user may enter (mkdtemp makes it 0700), removed on
 * stop. A short path: a socket's path is limited to about 100 bytes.
 */
function innerSockets(): { http: string; lambda: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return { http: join(dir, 'http.sock'), lambda: join(dir, 'lambda.sock') };
}

const operations = await loadOperations();
/** The names infra/queues.cjs gives the dead-letter queues, which serverless.yml hands the functions (DEAD_LETTER_QUEUE). */
const deadLetterQueues = operations
  .filter((op) => triggerOf(op, 'sqs') !== undefined)
  .map((op) => `cloud-token-broker-${stage}-${op.functionName}-dlq`);
const params: string[] = [];
const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
let banner: string[];

if (realVendors) {
  // The functions run the deployment zips, whose AWS credential chain is Lambda's: the environment
  // only (lib/aws/lambda-credentials.ts). Yours are resolved here with the SDK's whole chain
  // (AWS_PROFILE, SSO, shared files, …) and handed over as Lambda hands over a role's.
  try {
    const credentials = await new SSMClient({}).config.credentials();
    Object.assign(env, {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      ...(credentials.sessionToken !== undefined && { AWS_SESSION_TOKEN: credentials.sessionToken }),
    });
    delete env.AWS_PROFILE;
  } catch (error) {
    process.stderr.write(`npm start: no AWS credentials for real SSM: ${error instanceof Error ? error.message : String(error)}\n`);
    await stop(2);
  }
  banner = [
    `vendors:  real (the endpoints of serverless.yml: ${endpointVariables(operations).join(', ')})`,
    `keys:     AWS SSM /cloud-token-broker/${stage}/keys/{${VENDOR_NAMES.join(',')}}, with your AWS credentials (${process.env.AWS_PROFILE ? `profile ${process.env.AWS_PROFILE}` : 'default chain'}, resolved once at start: restart when they expire)`,
    `table:    the stage's DynamoDB token table, cloud-token-broker-${stage}-tokens`,
    `queues:   refused provisioning messages go to the stage's SQS dead-letter queue: ${deadLetterQueues.join(', ') || 'none'}`,
  ];
} else {
  const world = await startLocalWorld({
    keyParameters: keyParametersUnder(`/cloud-token-broker/${stage}/keys`),
    ucloudProjectId: 'org-local',
    simulator: { log: process.env.SIM_LOG === '1', stsLifetimeScale: lifetimeScale },
    // The name serverless.yml gives TOKEN_TABLE for the stage.
    tableName: `cloud-token-broker-${stage}-tokens`,
    // The alias serverless.yml gives TOKEN_KEY_ID for the stage: the fake KMS seals the table's items with it.
    tokenKeyAlias: `alias/cloud-token-broker-${stage}-tokens`,
    queues: deadLetterQueues,
    // The STS routes refuse without a caller policy: the local one names them with a session policy.
    policyParameter: `/cloud-token-broker/${stage}/policy`,
  });
  cleanups.push(() => world.close());
  // A local OSS bucket (sim/object-storage.ts) that accepts what the simulator's STS issued, as the
  // local session policy names it: an app (or the credentials agent's SDKs) can write with them.
  const bucket = await startObjectStorage({ bucket: 'cloud-token-broker-local', lookup: (id) => world.sim.issuedCredentials(id) });
  cleanups.push(() => bucket.close());
  // serverless.yml sets POLICY_PARAMETER to /cloud-token-broker/<stage>/policy when callerPolicy is enabled.
  params.push('--param=callerPolicy=enabled');
  // serverless.yml sets each endpoint variable from the stage param of the same name in camelCase.
  for (const [variable, url] of Object.entries(world.endpoints)) params.push(`--param=${stageParamName(variable)}=${url}`);
  // The hosts only the master-key rotation functions call (TENCENT_CAM_ENDPOINT; infra/functions.cjs
  // sets them from the same params): at the simulator too, never at the real vendor.
  for (const variable of VENDOR_ENDPOINT_VARIABLES.filter((name) => !(name in world.endpoints))) {
    params.push(`--param=${stageParamName(variable)}=${world.sim.url}`);
  }
  for (const [variable, arn] of Object.entries(world.roles)) params.push(`--param=${stageParamName(variable)}=${arn}`);
  // serverless-offline hands the functions every AWS_* variable of its own environment.
  Object.assign(env, world.awsEnv);
  banner = [
    `vendors:  simulator at ${world.sim.url} (${Object.keys(world.endpoints).join(', ')})`,
    `keys:     fake SSM at ${world.ssm.url}, seeded with local keys under /cloud-token-broker/${stage}/keys/ and a caller policy at /cloud-token-broker/${stage}/policy (STS routes scoped by a session policy)`,
    `table:    local token table ${world.table!.tableName} at ${world.table!.url} (dynalite), tokens sealed by the fake KMS at ${world.kms.url} (alias/cloud-token-broker-${stage}-tokens)`,
    `queues:   fake SQS at ${world.sqs.url}, holding the dead-letter queues ${deadLetterQueues.join(', ') || '(none)'}`,
    `storage:  local OSS bucket ${bucket.bucket} at ${bucket.url} (an ali-oss endpoint; the STS route's credentials may write uploads/*)`,
    ...(lifetimeScale === 1 ? [] : [`sts:      credentials live ${lifetimeScale} of the lifetime asked (SIM_LIFETIME_SCALE)`]),
  ];
}

// The public ports are the guards'; serverless-offline listens behind them on Unix sockets only.
const inner = innerSockets();
for (const [port, socket] of [
  [httpPort, inner.http],
  [lambdaPort, inner.lambda],
] as const) {
  try {
    const guard = await startOriginGuard({ port, target: `unix:${socket}`, allowedOrigins });
    cleanups.push(() => guard.close());
  } catch (error) {
    process.stderr.write(`npm start: cannot listen on port ${port}: ${error instanceof Error ? error.message : String(error)}\n`);
    await stop(1);
  }
}

const offline = spawn(
  osls,
  [
    'offline',
    'start',
    '--stage',
    stage,
    ...params,
    '--host',
    '127.0.0.1',
    '--httpPort',
    inner.http,
    '--lambdaPort',
    inner.lambda,
    '--noAuth',
    '--noPrependStageInUrl',
  ],
  { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
);
children.add(offline);
offline.on('exit', (code) => void stop(code ?? 1));

// Until the server is ready its chatter (on either stream) is held back, so the banner comes
// first; it is shown if the server never gets there.
let ready = false;
let held = '';
offline.on('exit', () => {
  if (!ready) process.stderr.write(held);
});

function curl(route: string, body: unknown): string {
  return `  curl -s -X POST http://localhost:${httpPort}${route} -H 'content-type: application/json' -d '${JSON.stringify(body)}'`;
}

/** What is left of each stream after its last newline: a line is summed once it is whole. */
const partial = new Map<NodeJS.WriteStream, string>();

function onOutput(chunk: Buffer, to: NodeJS.WriteStream): void {
  const lines = ((partial.get(to) ?? '') + chunk.toString()).split('\n');
  partial.set(to, lines.pop() ?? '');
  for (const line of lines) metrics.add(line);
  if (ready) {
    // Function logs (one JSON object a line) pass through; serverless-offline's own chatter too.
    to.write(chunk);
    return;
  }
  held += chunk.toString();
  if (!held.includes('Server ready')) return;
  ready = true;
  const width = Math.max(...operations.map((op) => op.route.length));
  console.log(
    [
      `cloud-token-broker (stage ${stage}) listening on http://localhost:${httpPort}`,
      ...banner,
      `lambda invoke API on http://localhost:${lambdaPort} (SQS / EventBridge / rotation events; see docs/local-run.md)`,
      `origins:  a request with an Origin header is refused (403) unless allowed; allowed: ${allowedOrigins.join(', ') || 'none'}`,
      `metrics:  a summary of the functions' metrics on Ctrl-C, or now with: kill -USR2 ${process.pid}`,
      '',
      'routes:',
      ...operations.map((op) => `  POST ${op.route.padEnd(width)}  ${op.name}`),
      '',
      'try:',
      ...operations.map((op) => curl(op.route, exampleBody(op))),
      '',
      'Ctrl-C stops everything started here.',
      '',
    ].join('\n'),
  );
}
offline.stdout!.on('data', (chunk: Buffer) => onOutput(chunk, process.stdout));
offline.stderr!.on('data', (chunk: Buffer) => onOutput(chunk, process.stderr));
