/**
 * A small load driver: node:http with one keep-alive agent, `concurrency` connections each
 * sending one request after another. Bounded in count (`total`) and time (`maxMs`: no request
 * starts after it; each request gives up after `requestTimeoutMs`), so it always stops by itself.
 */
import { Agent, type IncomingHttpHeaders, request } from 'node:http';

export interface LoadRequest {
  route: string;
  /** The raw body. */
  body: string;
  /** Default application/json. */
  contentType?: string;
  /** What the suite wants to know about this request later (its kind, its body's name…). */
  tag: string;
}

export interface LoadAnswer {
  request: LoadRequest;
  /** HTTP status; 0 when no answer came (connection error or client timeout, see `error`). */
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  error?: string;
  /** performance.now() at the start and the end, and the difference. */
  startedAt: number;
  endedAt: number;
  ms: number;
}

export interface LoadOptions {
  url: string;
  total: number;
  concurrency: number;
  maxMs: number;
  requestTimeoutMs: number;
  /** The i-th request, or undefined to stop early. */
  next(i: number): LoadRequest | undefined;
  onAnswer(answer: LoadAnswer): void;
}

export interface LoadRun {
  sent: number;
  wallMs: number;
}

function send(agent: Agent, url: string, req: LoadRequest, timeoutMs: number): Promise<LoadAnswer> {
  const startedAt = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: Omit<LoadAnswer, 'request' | 'startedAt' | 'endedAt' | 'ms'>) => {
      if (settled) return;
      settled = true;
      const endedAt = performance.now();
      resolve({ request: req, ...answer, startedAt, endedAt, ms: endedAt - startedAt });
    };
    const body = Buffer.from(req.body);
    const outgoing = request(
      `${url}${req.route}`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': req.contentType ?? 'application/json', 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (error) => finish({ status: 0, headers: {}, body: '', error: error.message }));
      },
    );
    outgoing.setTimeout(timeoutMs, () => {
      outgoing.destroy();
      finish({ status: 0, headers: {}, body: '', error: `no answer within ${timeoutMs} ms` });
    });
    outgoing.on('error', (error) => finish({ status: 0, headers: {}, body: '', error: error.message }));
    outgoing.end(body);
  });
}

export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency, maxFreeSockets: options.concurrency });
  const started = performance.now();
  const stopAt = started + options.maxMs;
  let issued = 0;
  let answered = 0;
  let stopped = false;
  try {
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (!stopped && issued < options.total && performance.now() < stopAt) {
          const req = options.next(issued++);
          if (!req) {
            stopped = true;
            break;
          }
          const answer = await send(agent, options.url, req, options.requestTimeoutMs);
          answered++;
          options.onAnswer(answer);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return { sent: answered, wallMs: performance.now() - started };
}

/** The q-quantile of sorted values (nearest rank). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
