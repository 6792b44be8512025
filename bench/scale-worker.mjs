// One warm Lambda instance for bench/scale.ts: imports one built function bundle and, on the
// runner's command (IPC), answers requests for bodies drawn from a pool, `concurrency` at a
// time, timing each and reading from the function's own audit line where its answer came
// from (memory, table or vendor). The function's logs go nowhere else.
import { randomUUID } from 'node:crypto';
import { serveCommands } from './ipc.mjs';

const sources = new Map();
process.stdout.write = (chunk) => {
  for (const line of String(chunk).split('\n')) {
    if (!line.includes('"type":"audit"')) continue;
    const record = JSON.parse(line);
    sources.set(record.requestId, record.source ?? 'none');
  }
  return true;
};

/** A JWT caller of organisation `org` (the multi-account scenario's policy picks the account by it). */
function jwtAuthorizer(org, sub) {
  return { jwt: { claims: { iss: 'https://issuer.bench.test', sub, org }, scopes: null } };
}

function httpEvent(route, body, authorizer) {
  return {
    version: '2.0',
    routeKey: `POST ${route}`,
    rawPath: route,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: { method: 'POST', path: route, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'bench' },
      requestId: randomUUID(),
      routeKey: `POST ${route}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      ...(authorizer !== undefined && { authorizer }),
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

function lambdaContext(requestId, remainingMs = 30_000) {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'bench-scale',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:bench-scale',
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/bench-scale',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A small seeded generator (mulberry32), so each instance draws its own repeatable sequence. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let handler;
const commands = {
  async init({ bundle }) {
    ({ handler } = await import(bundle));
    return true;
  },
  /**
   * `total` requests for `route`, bodies `field: <prefix><i>` with i uniform in [0, bodies);
   * with `accounts`, body i is asked by a caller of organisation `accounts[i % accounts.length]`.
   */
  async run({ route, field, prefix, bodies, total, concurrency, seed, remainingMs, accounts }) {
    const draw = random(seed);
    const samples = [];
    let left = total;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left > 0) {
          left--;
          const requestId = randomUUID();
          const index = Math.floor(draw() * bodies);
          const body = { [field]: `${prefix}${index}` };
          const authorizer = accounts === undefined ? undefined : jwtAuthorizer(accounts[index % accounts.length], `bench-${index}`);
          const t0 = performance.now();
          const answer = await handler(httpEvent(route, body, authorizer), lambdaContext(requestId, remainingMs));
          const ms = performance.now() - t0;
          samples.push({ ms, status: answer.statusCode, source: sources.get(requestId) ?? 'none', at: Date.now() });
          sources.delete(requestId);
        }
      }),
    );
    return { samples, elapsedMs: performance.now() - started };
  },
  memory() {
    return process.memoryUsage();
  },
};

serveCommands(commands);
