// One warm Lambda instance for bench/run.mjs: imports one built bundle and, on the runner's
// commands (IPC), invokes its handler in timed batches, times bare fetches to the simulator,
// and reports its memory. One side per process, so ours and the baseline never share a heap.
//
// Its own stdout carries the function's logs (drained by the runner, as Lambda's runtime
// would); answers go over IPC.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { serveCommands } from './ipc.mjs';

const now = () => performance.now();
let handler;
/** sim/lambda-events.ts (bundled as events.mjs): the API Gateway event and Lambda context the tests use too. */
let events;
let counter = 0;
const tag = `${process.env.BENCH_SIDE ?? 'x'}${process.pid}`;

/** The request each kind sends: IMS with a fresh AppId every time (the simulator answers 409 to a repeat). */
const requests = {
  ims: () => ['/v1/aliyun/ims/external-applications', { appId: `bench-${tag}-${++counter}`, scopes: ['openid', 'aliuid'] }],
  cams: () => ['/v1/aliyun/cams/upload-authorization', { custSpaceId: 'bench-cust-space' }],
};

async function invokeOnce(kind) {
  const [route, body] = requests[kind]();
  const event = events.httpApiEvent(route, body);
  const context = events.lambdaContext(10_000, 'bench');
  const started = now();
  const result = await handler(event, context);
  const ms = now() - started;
  if (result?.statusCode !== 200) throw new Error(`${kind} answered ${result?.statusCode}: ${result?.body}`);
  return ms;
}

// ---- a bare vendor call: the same IMS request, signed (ACS3-HMAC-SHA256) before the clock starts ----

const encode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (s) => createHash('sha256').update(s).digest('hex');

function signedImsRequest(simUrl, keys) {
  const url = new URL(simUrl);
  const query = { AppId: `bare-${tag}-${++counter}`, Scopes: 'openid;aliuid' };
  const canonicalQuery = Object.keys(query)
    .sort()
    .map((k) => `${encode(k)}=${encode(query[k])}`)
    .join('&');
  const headers = {
    host: url.host,
    'x-acs-action': 'ProvisionExternalApplication',
    'x-acs-version': '2019-08-15',
    'x-acs-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'x-acs-signature-nonce': randomUUID().replaceAll('-', ''),
    'x-acs-content-sha256': sha256(''),
  };
  const names = Object.keys(headers).sort();
  const canonical = [
    'POST',
    '/',
    canonicalQuery,
    names.map((n) => `${n}:${headers[n]}\n`).join(''),
    names.join(';'),
    headers['x-acs-content-sha256'],
  ].join('\n');
  const signature = createHmac('sha256', keys.accessKeySecret)
    .update(`ACS3-HMAC-SHA256\n${sha256(canonical)}`)
    .digest('hex');
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${keys.accessKeyId},SignedHeaders=${names.join(';')},Signature=${signature}`;
  return { url: `${url.origin}/?${canonicalQuery}`, headers };
}

let bare;
async function bareOnce() {
  const { url, headers } = signedImsRequest(bare.simUrl, bare.keys);
  const started = now();
  const response = await fetch(url, { method: 'POST', headers });
  const text = await response.text();
  const ms = now() - started;
  if (response.status !== 200) throw new Error(`bare fetch answered ${response.status}: ${text}`);
  return ms;
}

/** The same bare call through node:http (global keep-alive agent): what the official SDK sends with. */
function bareHttpOnce() {
  const { url, headers } = signedImsRequest(bare.simUrl, bare.keys);
  return new Promise((resolve, reject) => {
    const started = now();
    const req = httpRequest(url, { method: 'POST', headers }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        const ms = now() - started;
        if (res.statusCode !== 200) reject(new Error(`bare http.request answered ${res.statusCode}: ${Buffer.concat(chunks)}`));
        else resolve(ms);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

const commands = {
  async init({ bundle, eventsModule, simUrl, keys }) {
    bare = { simUrl, keys };
    events = await import(eventsModule);
    const started = now();
    ({ handler } = await import(bundle));
    return { importMs: now() - started };
  },
  /**
   * n invocations; with `withBare`, each followed by a bare fetch and a bare http.request, so
   * all three see the same warm-up and noise.
   */
  async batch({ kind, n, withBare }) {
    const invoke = [];
    const bareMs = [];
    const bareHttpMs = [];
    const startUs = monotonicUs();
    const started = now();
    for (let i = 0; i < n; i++) {
      invoke.push(await invokeOnce(kind));
      if (withBare) {
        bareMs.push(await bareOnce());
        bareHttpMs.push(await bareHttpOnce());
      }
    }
    return { invoke, bare: bareMs, bareHttp: bareHttpMs, elapsedMs: now() - started, startUs, endUs: monotonicUs() };
  },
  /** Ends the process normally, so that `--cpu-prof` writes its profile. */
  exit() {
    setImmediate(() => process.exit(0));
    return true;
  },
  memory() {
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    return { maxRssBytes: process.resourceUsage().maxRSS * 1024, rss, heapUsed, heapTotal, external };
  },
};

serveCommands(commands);
