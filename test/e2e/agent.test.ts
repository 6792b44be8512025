/**
 * The credentials agent end to end (docs/agent.md): `npm start` (the broker and its simulator,
 * STS lifetimes scaled by SIM_LIFETIME_SCALE so 900 s credentials live 15 s) and the agent run as
 * its real command (`node bin/cloud-token-broker-agent.mjs`, a child process); the vendors' own
 * SDKs use it as apps do: the official `@alicloud/credentials` default chain through
 * ALIBABA_CLOUD_CREDENTIALS_URI, its external-process provider on `print aliyun`, ali-oss with the
 * agent as its only source, and a tencentcloud-sdk client. Every Alibaba Cloud credential is
 * proven live by the local OSS bucket of npm start, which accepts only unexpired credentials the
 * simulator issued; the Tencent ones by the simulator's GetCallerIdentity. The broker goes down
 * last (npm start killed). One npm start for the file: it takes tens of seconds.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import alicloudCredentials, { CLIProfileCredentialsProvider } from '@alicloud/credentials';
import OSS from 'ali-oss';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentAliyunCredentials, aliOssCredentials } from '../../client/ali-oss.js';
import type { RefreshOptions } from '../../client/refreshing-credentials.js';
import { agentTencentCredentials, tencentCloudCredential } from '../../client/tencent.js';
import { AGENT_BIN, type AgentProcess, getJson, startAgent } from '../support/agent-process.js';
import { loopbackAgent } from '../support/loopback-agent.js';
import { type NpmStart, startNpmStart } from '../support/npm-start.js';

// A CommonJS package whose class is `exports.default`: Node's import gives module.exports as the
// default, vitest's interop the class itself; take the class either way.
const Credential = (
  'default' in alicloudCredentials ? alicloudCredentials.default : alicloudCredentials
) as typeof alicloudCredentials.default;
const root = new URL('../..', import.meta.url).pathname;
/** 900 s credentials live 15 s: a simulated hour is a minute, four lifetimes. */
const SCALE = 1 / 60;
const LIFETIME_MS = 900_000 * SCALE;
const BUCKET = 'cloud-token-broker-local';
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
/**
 * The app client's helpers read the agent with a margin of a sixteenth of the time left: their
 * default floor of 5 s is more than these scaled 15 s credentials have left once the agent
 * serves them past their refreshAfter.
 */
const SHORT_LIVED: RefreshOptions = { expiryMarginMs: (lifetimeMs) => lifetimeMs / 16 };

let npmStart: NpmStart;
let agent: AgentProcess;
let bucketUrl: string;
let simulatorPort: number;
let home: string;

beforeAll(async () => {
  npmStart = await startNpmStart(root, { SIM_LIFETIME_SCALE: String(SCALE) });
  bucketUrl = /^storage: +local OSS bucket \S+ at (\S+)/m.exec(npmStart.output())![1]!;
  simulatorPort = Number(/^vendors: +simulator at http:\/\/127\.0\.0\.1:(\d+)/m.exec(npmStart.output())![1]);
  agent = await startAgent([
    '--broker',
    `http://127.0.0.1:${npmStart.httpPort}`,
    '--auth',
    'none',
    '--listen',
    '127.0.0.1:0',
    '--route',
    'aliyun=/v1/aliyun/sts/assume-role:{"durationSeconds":900}',
    '--route',
    'tencent=/v1/tencent/sts/assume-role:{"durationSeconds":900}',
    '--route',
    'cams=/v1/aliyun/cams/upload-authorization:{"custSpaceId":"cs-demo"}',
    // A body the broker refuses (custSpaceId is required): that route answers 502, the others serve.
    '--route',
    'refused=/v1/aliyun/cams/upload-authorization:{}',
  ]);
  home = mkdtempSync(join(tmpdir(), 'agent-e2e-home-'));
  // The default chain, as an app beside the agent has it: no keys in the environment, no CLI
  // profile, no ECS metadata service; the credentials URI is the agent's.
  Object.assign(process.env, {
    HOME: home,
    ALIBABA_CLOUD_CREDENTIALS_URI: agent.env.ALIBABA_CLOUD_CREDENTIALS_URI,
    ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
  });
}, 200_000);

afterAll(() => {
  agent?.kill();
  npmStart?.kill();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** An OSS client on the local bucket with exactly these credentials (no refresh): a put proves them live. */
function ossWith(credentials: { accessKeyId: string; accessKeySecret: string; securityToken: string }) {
  return new OSS({
    endpoint: bucketUrl,
    bucket: BUCKET,
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    stsToken: credentials.securityToken,
    // Never reached (no refreshSTSToken): it only keeps ali-oss from advising one on stderr.
    refreshSTSTokenInterval: LIFETIME_MS,
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the credentials agent beside an app', () => {
  it('prints the environment lines an app needs, and serves no-store answers', async () => {
    expect(agent.env.ALIBABA_CLOUD_CREDENTIALS_URI).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/aliyun\/credentials$/);
    expect(agent.env.CLOUD_TOKEN_BROKER_TENCENT_CREDENTIALS_URL).toBe(`${agent.url}/tencent/credentials`);
    expect(agent.env.CLOUD_TOKEN_BROKER_ROUTE_CAMS_URL).toBe(`${agent.url}/routes/cams`);
    const answer = await getJson(`${agent.url}/aliyun/credentials`);
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(Object.keys(answer.body as object)).toEqual(['Code', 'AccessKeyId', 'AccessKeySecret', 'SecurityToken', 'Expiration']);
    expect((answer.body as { Expiration: string }).Expiration).toMatch(ISO_SECONDS);
  });

  it('refuses a request with an Origin header, a Sec-Fetch-Site, a non-loopback Host (DNS rebinding), or not a GET', async () => {
    const url = `${agent.url}/aliyun/credentials`;
    const port = new URL(agent.url).port;
    for (const headers of <Record<string, string>[]>[
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { host: `evil.example:${port}` },
      { host: `127.0.0.1.nip.example:${port}` },
    ]) {
      const answer = await getJson(url, headers);
      expect.soft(answer.status, JSON.stringify(headers)).toBe(403);
      expect.soft(JSON.stringify(answer.body)).not.toMatch(/AccessKey|Success/);
      expect.soft(answer.headers['access-control-allow-origin']).toBeUndefined();
    }
    expect((await getJson(url, {}, 'POST')).status).toBe(405);
    // Loopback names pass, whichever the app uses.
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) expect((await getJson(url, { host })).status).toBe(200);
  });

  it('serves another route’s data with expiresAt and refreshAfter, 502 for one the broker refuses, 404 for one it does not have', async () => {
    const cams = await getJson(`${agent.url}/routes/cams`);
    expect(cams.status).toBe(200);
    const body = cams.body as { data: { bucketName: string }; expiresAt: string; refreshAfter: string };
    expect(body.data.bucketName).toBe('sim-cams-media');
    expect(Date.parse(body.refreshAfter)).toBeLessThan(Date.parse(body.expiresAt));
    expect((await getJson(`${agent.url}/routes/nope`)).status).toBe(404);
    const refused = await getJson(`${agent.url}/routes/refused`);
    expect(refused.status).toBe(502);
    expect(refused.body).toMatchObject({ error: { code: 'BrokerRefused', message: expect.stringMatching(/400 InvalidRequest/) } });
  });

  it('gives the official external-process provider (process_command) what it parses, from the agent or the broker', async () => {
    const command = `${process.execPath} ${AGENT_BIN} print aliyun --listen ${new URL(agent.url).host}`;
    mkdirSync(join(home, '.aliyun'), { recursive: true });
    writeFileSync(
      join(home, '.aliyun', 'config.json'),
      JSON.stringify({ current: 'agent', profiles: [{ name: 'agent', mode: 'External', process_command: command }] }),
    );
    try {
      const credentials = await CLIProfileCredentialsProvider.builder().build().getCredentials();
      expect(credentials.providerName).toBe('cli_profile/external');
      expect(credentials.accessKeyId).toMatch(/^STS\./);
      await ossWith({ ...credentials, securityToken: credentials.securityToken! }).put('uploads/external.txt', Buffer.from('x'));
    } finally {
      rmSync(join(home, '.aliyun'), { recursive: true, force: true });
    }
    // With no agent at --listen, the same command asks the broker itself.
    const direct = JSON.parse(
      execFileSync(
        process.execPath,
        [AGENT_BIN, 'print', 'aliyun', '--listen', '127.0.0.1:1', '--broker', `http://127.0.0.1:${npmStart.httpPort}`, '--auth', 'none'],
        {
          encoding: 'utf8',
        },
      ),
    ) as Record<string, string>;
    expect(Object.keys(direct)).toEqual(['mode', 'access_key_id', 'access_key_secret', 'sts_token', 'expiration']);
    expect(direct.mode).toBe('StsToken');
    expect(direct.expiration).toMatch(ISO_SECONDS);
  });

  it('signs a tencentcloud-sdk call with the agent’s Tencent credentials, and the simulator accepts it', async () => {
    // The app client's Tencent helper on the agent's endpoint: the SDK asks it before each request.
    const client = new CommonClient('sts.tencentcloudapi.com', '2018-08-13', {
      credential: tencentCloudCredential(agentTencentCredentials(agent.env.CLOUD_TOKEN_BROKER_TENCENT_CREDENTIALS_URL!, SHORT_LIVED)),
      region: 'ap-guangzhou',
      profile: { httpProfile: { protocol: 'http://', agent: loopbackAgent(() => simulatorPort), reqTimeout: 10 } },
    });
    const tencent = (await getJson(`${agent.url}/tencent/credentials`)).body as { TmpSecretId: string; ExpiredTime: number };
    expect(Object.keys(tencent)).toEqual(['TmpSecretId', 'TmpSecretKey', 'Token', 'ExpiredTime']);
    expect(tencent.ExpiredTime * 1000).toBeGreaterThan(Date.now());
    const identity = (await client.request('GetCallerIdentity', {})) as { Type: string; UserId: string };
    expect(identity.Type).toBe('CAMRole');
    expect(identity.UserId).toMatch(/^AKIDsim/);
  });

  it('keeps the official default chain and ali-oss (no refresh-interval rule) on live credentials through a simulated hour', async () => {
    const chain = new Credential();
    // ali-oss with the agent as its only source, through the app client's helper (client/ali-oss.ts):
    // the app states no refresh interval; the helper answers ali-oss from what the agent serves.
    const oss = new OSS({
      endpoint: bucketUrl,
      bucket: BUCKET,
      ...(await aliOssCredentials(agentAliyunCredentials(agent.env.ALIBABA_CLOUD_CREDENTIALS_URI!, SHORT_LIVED))),
    });
    const ossKeys = new Set<string>();
    const chainKeys = new Set<string>();
    const ossFailures: string[] = [];
    const started = Date.now();
    // An hour of 15-minute credentials, scaled: a minute, a put each second by each client.
    for (let second = 0; Date.now() - started < 4 * LIFETIME_MS; second++) {
      const credentials = await chain.getCredential();
      expect(credentials.providerName).toMatch(/credential_uri/);
      chainKeys.add(credentials.accessKeyId!);
      await ossWith({
        ...credentials,
        accessKeyId: credentials.accessKeyId!,
        accessKeySecret: credentials.accessKeySecret!,
        securityToken: credentials.securityToken!,
      })
        .put(`uploads/chain-${second}.txt`, Buffer.from(String(second)))
        .catch((error: { code?: string }) => ossFailures.push(`chain ${second}: ${error.code}`));
      await oss
        .put(`uploads/oss-${second}.txt`, Buffer.from(String(second)))
        .catch((error: { code?: string }) => ossFailures.push(`oss ${second}: ${error.code}`));
      // The key ali-oss signed with: it keeps its credentials in its options.
      ossKeys.add((oss as unknown as { options: { accessKeyId: string } }).options.accessKeyId);
      await sleep(1000);
    }
    expect(ossFailures).toEqual([]);
    // Four lifetimes: at least four sets of credentials, each from the vendor through the broker.
    expect(chainKeys.size).toBeGreaterThanOrEqual(4);
    expect(ossKeys.size).toBeGreaterThanOrEqual(3);
    // One broker call at a time per route: about one refresh per lifetime, not one per request.
    const refreshes = agent
      .stderr()
      .split('\n')
      .filter((line) => line.includes('"credentials refreshed"') && line.includes('"route":"aliyun"'));
    expect(refreshes.length).toBeLessThanOrEqual(10);
  }, 120_000);

  it('with the broker down, serves the last credentials until shortly before they expire, then answers 503, never expired ones', async () => {
    // Just after a refresh, so the held credentials have most of their lifetime left.
    const first = ((await getJson(`${agent.url}/routes/aliyun`)).body as { expiresAt: string }).expiresAt;
    let held = first;
    while (held === first) {
      await sleep(100);
      held = ((await getJson(`${agent.url}/routes/aliyun`)).body as { expiresAt: string }).expiresAt;
    }
    npmStart.kill();
    await npmStart.exited;
    const expiresAt = Date.parse(held);
    const served: { at: number; status: number; body: unknown }[] = [];
    while (Date.now() < expiresAt + 3000) {
      const answer = await getJson(`${agent.url}/aliyun/credentials`);
      served.push({ at: Date.now(), status: answer.status, body: answer.body });
      await sleep(200);
    }
    const ok = served.filter((s) => s.status === 200);
    const failed = served.filter((s) => s.status !== 200);
    // It went on serving while the broker was down...
    expect(ok.length).toBeGreaterThan(0);
    for (const s of ok) expect(Date.parse((s.body as { Expiration: string }).Expiration)).toBeGreaterThan(s.at);
    // ...then, before they expired, stopped: every later answer a JSON 503, never Code Success.
    const firstFailure = failed[0]!;
    expect(firstFailure.at).toBeLessThan(expiresAt);
    expect(ok.every((s) => s.at < firstFailure.at)).toBe(true);
    for (const s of failed) {
      expect(s.status).toBe(503);
      expect(s.body).toMatchObject({ error: { code: expect.stringMatching(/^(BrokerUnavailable|CredentialsUnavailable)$/) } });
    }
    expect(agent.stderr()).toMatch(/"msg":"broker call failed"/);
  }, 60_000);

  it('logs JSON lines with no secret in them', () => {
    const lines = agent.stderr().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry).toMatchObject({ level: expect.any(String), msg: expect.any(String) });
      expect(line).not.toMatch(/STS\.sim|sim-sts-secret|sim-sts-token|AKIDsim|sim-tc-secret|sim-tc-token/);
    }
  });
});
