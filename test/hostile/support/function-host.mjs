// The functions under test for the hostile suites, in a process of their own: it imports the
// deployment bundles (scripts/build.mjs) and stands in for API Gateway and the Lambda runtime:
//
//   POST <route>                 an HTTP API (payload 2.0) event for the function of that route;
//                                the answer says which instance ran it (X-Host-Instance)
//   POST /invoke/<function>      {"event", "timeoutMs"?}: any other event (SQS); answers
//                                {"instance", "result"} or {"error": {"name", "message"}} (a failed invocation)
//
// As Lambda does, each function runs as instances that take one invocation at a time: an
// event goes to an idle instance of its function, or a new one is started (a cold start: the
// bundle imported afresh, its chunks too (instance-hook.mjs), with module state of its own). That matters: middy shares one
// AbortController among the invocations of a module, which is right when they never overlap.
// The functions' log lines go to stdout, as in Lambda; the runner reads them. IPC:
// {type: "heap", id} → the heap in use after full collections (run with --expose-gc), and
// how much of it is machine code;
// {type: "snapshot", id, path} → a heap snapshot written there, to look into a growing heap;
// {type: "stats", id} → instances started per function. Listens on 127.0.0.1 only and exits
// when its parent goes away.
//
// Environment: HOST_FUNCTIONS (JSON [{functionName, route, bundle}]), HOST_TIMEOUT_MS (the
// functions' timeout, default 10000), HOST_MAX_INSTANCES (per function, default 4: the
// function's reserved concurrency), and whatever the functions read.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';

// Each instance's chunks are modules of its own, as its index.mjs is.
register('./instance-hook.mjs', import.meta.url);

const functions = JSON.parse(process.env.HOST_FUNCTIONS ?? '[]');
const defaultTimeoutMs = Number(process.env.HOST_TIMEOUT_MS ?? 10_000);
const maxInstances = Number(process.env.HOST_MAX_INSTANCES ?? 4);
const MAX_BODY = 1024 * 1024;

/** One function's instances: idle ones are reused, a new one starts when all are busy. */
class LambdaFunction {
  constructor({ functionName, route, bundle }) {
    this.functionName = functionName;
    this.route = route;
    this.url = pathToFileURL(bundle).href;
    this.idle = [];
    this.waiting = [];
    this.started = 0;
  }

  /**
   * Runs `event` on an instance of its own for the duration: an idle one, a new one while
   * fewer than HOST_MAX_INSTANCES run, or else the next one freed (the event waits, in order).
   * The clock starts once the instance is ready, as in Lambda.
   */
  async invoke(event, timeoutMs) {
    const instance =
      this.idle.pop() ?? (this.started < maxInstances ? await this.start() : await new Promise((resolve) => this.waiting.push(resolve)));
    try {
      return { instance: instance.id, answer: await instance.handler(event, lambdaContext(this.functionName, timeoutMs)) };
    } finally {
      const next = this.waiting.shift();
      if (next) next(instance);
      else this.idle.push(instance);
    }
  }

  async start() {
    this.started += 1;
    // A distinct URL is a distinct module instance: fresh module state, as in a new sandbox; the
    // chunks it imports get the same query (instance-hook.mjs), so they are fresh too.
    const { handler } = await import(`${this.url}?instance=${this.started}`);
    return { handler, id: `${this.functionName}#${this.started}` };
  }
}

const byRoute = new Map();
const byName = new Map();
for (const spec of functions) {
  const fn = new LambdaFunction(spec);
  byRoute.set(fn.route, fn);
  byName.set(fn.functionName, fn);
}

function lambdaContext(functionName, remainingMs) {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'hostile',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function httpEvent(req, path, body) {
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(',') : value;
  return {
    version: '2.0',
    routeKey: `${req.method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'hostile',
      domainName: '127.0.0.1',
      domainPrefix: 'hostile',
      http: { method: req.method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: `${req.method} ${path}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(body.length > 0 && { body: body.toString('utf8') }),
    isBase64Encoded: false,
  };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) reject(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

async function serve(req, res) {
  const path = new URL(req.url ?? '/', 'http://host.invalid').pathname;
  const body = await readBody(req);
  if (path.startsWith('/invoke/')) {
    const fn = byName.get(path.slice('/invoke/'.length));
    if (!fn) return json(res, 404, { message: 'no such function' });
    const { event, timeoutMs } = JSON.parse(body.toString('utf8'));
    try {
      const { instance, answer } = await fn.invoke(event, timeoutMs ?? defaultTimeoutMs);
      return json(res, 200, { instance, result: answer ?? null });
    } catch (error) {
      return json(res, 200, { error: { name: error?.name ?? 'Error', message: String(error?.message ?? error) } });
    }
  }
  const fn = byRoute.get(path);
  // What API Gateway answers for a route it does not have, and for a function that failed.
  if (!fn) return json(res, 404, { message: 'Not Found' });
  let answer;
  let instance;
  try {
    ({ instance, answer } = await fn.invoke(httpEvent(req, path, body), defaultTimeoutMs));
  } catch {
    return json(res, 500, { message: 'Internal Server Error' });
  }
  if (answer === null || typeof answer !== 'object' || typeof answer.statusCode !== 'number') {
    return json(res, 500, { message: 'Internal Server Error' });
  }
  // Which instance answered (not an API Gateway header: the suites use it to follow instances).
  res.writeHead(answer.statusCode, { ...answer.headers, 'x-host-instance': instance }).end(answer.body ?? '');
}

const server = createServer((req, res) => {
  serve(req, res).catch(() => {
    if (!res.headersSent && !res.destroyed) json(res, 500, { message: 'Internal Server Error' });
  });
});
server.keepAliveTimeout = 60_000;

async function settledHeap() {
  // Several rounds: a collection can free what finalisers of the previous one released.
  for (let i = 0; i < 6; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  // Machine code the optimising compiler adds as the run goes on counts apart from the data.
  const codeSpace = getHeapSpaceStatistics()
    .filter((space) => space.space_name.startsWith('code'))
    .reduce((sum, space) => sum + space.space_used_size, 0);
  return { heapUsed: process.memoryUsage().heapUsed, codeSpace };
}

process.on('message', async (message) => {
  if (message?.type === 'heap') process.send?.({ type: 'heap', id: message.id, ...(await settledHeap()) });
  if (message?.type === 'snapshot') {
    await settledHeap();
    process.send?.({ type: 'snapshot', id: message.id, path: writeHeapSnapshot(message.path) });
  }
  if (message?.type === 'stats') {
    const instances = Object.fromEntries([...byName].map(([name, fn]) => [name, fn.started]));
    process.send?.({
      type: 'stats',
      id: message.id,
      instances,
      cpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
    });
  }
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'listening', port: server.address().port });
});
