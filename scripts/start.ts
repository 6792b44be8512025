// npm start: the whole service on http://localhost:3000 through serverless-offline (run by
// osls), with the vendor simulator, a fake SSM and a local token table (dynalite) started
// alongside and seeded with local keys: no AWS or vendor account needed. The functions run
// from the very zips a deploy ships (`osls package`), which serverless-offline unpacks.
//
//   npm start                       simulator + fake SSM + local token table (the default)
//   npm start -- --real-vendors     real vendor endpoints, keys from real SSM and the stage's token table
//                                   (your AWS credentials), stage `dev` unless --stage is given
//   PORT=3000 LAMBDA_PORT=3002      where the HTTP API and the Lambda invoke API listen
import { type ChildProcess, spawn } from 'node:child_process';
import { startLocalTable } from '../sim/local-table.js';
import { startFakeSsm } from '../test/support/fake-ssm.js';
import { SIMULATOR_DEFAULT_KEYS, startVendorSimulator } from '../test/support/vendor-simulator.js';

const args = process.argv.slice(2);
const realVendors = args.includes('--real-vendors') || process.env.BROKER_REAL_VENDORS === '1';
const stageArg = args.indexOf('--stage');
const stage = stageArg >= 0 ? args[stageArg + 1]! : realVendors ? 'dev' : 'local';
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
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

const params: string[] = [];
const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
let banner: string[];

if (realVendors) {
  banner = [
    `vendors:  real (${'the endpoints of serverless.yml'})`,
    `keys:     AWS SSM /cloud-token-broker/${stage}/keys/{aliyun,ucloud}, with your AWS credentials (${process.env.AWS_PROFILE ? `profile ${process.env.AWS_PROFILE}` : 'default chain'})`,
    `table:    the stage's DynamoDB token table (TOKEN_TABLE of serverless.yml)`,
  ];
} else {
  // The table's name is the one serverless.yml gives TOKEN_TABLE for the stage.
  const [sim, ssm, table] = await Promise.all([
    startVendorSimulator({ log: process.env.SIM_LOG === '1' }),
    startFakeSsm(),
    startLocalTable({ tableName: `cloud-token-broker-${stage}-tokens` }),
  ]);
  cleanups.push(
    () => sim.close(),
    () => ssm.close(),
    () => table.close(),
  );
  ssm.put(`/cloud-token-broker/${stage}/keys/aliyun`, SIMULATOR_DEFAULT_KEYS.aliyun);
  ssm.put(`/cloud-token-broker/${stage}/keys/ucloud`, { ...SIMULATOR_DEFAULT_KEYS.ucloud, projectId: 'org-local' });
  for (const name of ['aliyunBpstudioEndpoint', 'aliyunCamsEndpoint', 'aliyunImsEndpoint', 'ucloudApiEndpoint'])
    params.push(`--param=${name}=${sim.url}`);
  Object.assign(env, {
    AWS_ENDPOINT_URL_SSM: ssm.url,
    AWS_ENDPOINT_URL_DYNAMODB: table.url,
    TOKEN_TABLE: table.tableName,
    AWS_REGION: 'ap-southeast-1',
    AWS_ACCESS_KEY_ID: 'local-fake-ssm',
    AWS_SECRET_ACCESS_KEY: 'local-fake-ssm',
  });
  banner = [
    `vendors:  simulator at ${sim.url} (all four endpoints)`,
    `keys:     fake SSM at ${ssm.url}, seeded with local keys under /cloud-token-broker/${stage}/keys/`,
    `table:    local token table ${table.tableName} at ${table.url} (dynalite)`,
  ];
}

const offline = spawn(
  osls,
  [
    'offline',
    'start',
    '--stage',
    stage,
    ...params,
    '--httpPort',
    String(httpPort),
    '--lambdaPort',
    String(lambdaPort),
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

function onOutput(chunk: Buffer, to: NodeJS.WriteStream): void {
  if (ready) {
    // Function logs (one JSON object a line) pass through; serverless-offline's own chatter too.
    to.write(chunk);
    return;
  }
  held += chunk.toString();
  if (!held.includes('Server ready')) return;
  ready = true;
  console.log(
    [
      `cloud-token-broker (stage ${stage}) listening on http://localhost:${httpPort}`,
      ...banner,
      `lambda invoke API on http://localhost:${lambdaPort} (SQS / EventBridge / rotation events; see README)`,
      '',
      'try:',
      `  curl -s -X POST http://localhost:${httpPort}/v1/aliyun/cams/upload-authorization -H 'content-type: application/json' -d '{"custSpaceId":"cs-demo"}'`,
      '',
      'Ctrl-C stops everything started here.',
      '',
    ].join('\n'),
  );
}
offline.stdout!.on('data', (chunk: Buffer) => onOutput(chunk, process.stdout));
offline.stderr!.on('data', (chunk: Buffer) => onOutput(chunk, process.stderr));
