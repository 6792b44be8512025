/**
 * How a signed vendor request goes out: `node:https` (`node:http` for a local `http://`
 * endpoint) through one keep-alive agent per protocol. Not `fetch`: Node loads undici, its web
 * streams and the llhttp WebAssembly on first use, about 25 ms of every cold start, while
 * `node:http` and `node:https` are loaded already (the AWS SDK sends with them).
 *
 * Nothing of a failure is kept but its kind: a socket error can quote the request, and the
 * request carries a signature.
 * @module
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { urlToHttpOptions } from 'node:url';
import type { ResponseHeaders, SignedRequest } from './api.js';

/** A vendor's answer: its status, headers and whole body as text. */
export interface RawAnswer {
  status: number;
  headers: ResponseHeaders;
  text: string;
}

/** Why an attempt has no answer: the per-attempt timeout, the invocation's deadline, or the network. */
export type SendFailure = 'timeout' | 'deadline' | 'network';

/** What one attempt ended with: the raw answer, or why there is none. */
export type Sent = { answer: RawAnswer } | { failure: SendFailure };

// Keep-alive: a warm instance reuses its connection to the vendor. Node's agent drops an idle
// socket before the server's announced Keep-Alive timeout, so a reused one is rarely stale.
let httpAgent: HttpAgent | undefined;
let httpsAgent: HttpsAgent | undefined;

function agentFor(secure: boolean): HttpAgent {
  if (secure) {
    httpsAgent ??= new HttpsAgent({ keepAlive: true });
    return httpsAgent;
  }
  httpAgent ??= new HttpAgent({ keepAlive: true });
  return httpAgent;
}

/** Where an origin (`https://host[:port]`) is, parsed once per origin: an instance calls one or two. */
const origins = new Map<string, RequestOptions>();

/** The request's target as http.request options: the origin's parsed once, the path and query as signed. */
function targetOf(url: string): RequestOptions | undefined {
  const slash = url.indexOf('/', url.indexOf('//') + 2);
  if (slash < 0) return undefined;
  const origin = url.slice(0, slash);
  let target = origins.get(origin);
  if (target === undefined) {
    const { protocol, hostname, port } = urlToHttpOptions(new URL(origin));
    target = { protocol, hostname, ...(port !== undefined && { port }) };
    origins.set(origin, target);
  }
  return { ...target, path: url.slice(slash) };
}

/** Header lookup over Node's lower-cased header object: what the vendor adapters read. */
function headersOf(raw: IncomingHttpHeaders): ResponseHeaders {
  return {
    get(name) {
      const value = raw[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/**
 * Sends one request and reads the whole answer. The attempt ends after `timeoutMs` or when
 * `deadline` aborts, whichever comes first, and the socket is destroyed then; a deadline
 * abort is told apart from the timeout, and both from a network failure.
 */
export function sendRequest(request: SignedRequest, timeoutMs: number, deadline: AbortSignal | undefined): Promise<Sent> {
  return new Promise<Sent>((resolve) => {
    let settled = false;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const secure = request.url.startsWith('https:');
    const options: RequestOptions = {
      method: request.method,
      headers: request.headers,
      agent: agentFor(secure),
    };
    const finish = (sent: Sent) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      deadline?.removeEventListener('abort', onDeadline);
      resolve(sent);
    };
    const fail = () => finish({ failure: deadline?.aborted ? 'deadline' : timedOut ? 'timeout' : 'network' });
    const onAnswer = (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => finish({ answer: { status: res.statusCode ?? 0, headers: headersOf(res.headers), text } }));
      // A body cut short (reset, timeout, deadline) ends in 'error' or in 'close' without 'end'.
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete) fail();
      });
    };
    // The error is dropped on purpose (see above); only its kind is kept.
    const send = secure ? httpsRequest : httpRequest;
    let req: ReturnType<typeof httpRequest>;
    try {
      // The signed path as it is: http.request refuses one with characters a URL must escape.
      const target = targetOf(request.url);
      req = target ? send({ ...target, ...options }, onAnswer) : send(request.url, options, onAnswer);
    } catch {
      try {
        req = send(request.url, options, onAnswer);
      } catch {
        // An unusable URL: its error would quote it.
        fail();
        return;
      }
    }
    req.on('error', fail);
    const stop = () => {
      fail();
      req.destroy();
    };
    timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    const onDeadline = () => stop();
    deadline?.addEventListener('abort', onDeadline, { once: true });
    req.end(request.body);
  });
}

/** Closes the kept-alive sockets (tests; a cold start has none). */
export function closeVendorConnections(): void {
  httpAgent?.destroy();
  httpsAgent?.destroy();
  httpAgent = undefined;
  httpsAgent = undefined;
}
