/**
 * Who may ask the agent: a local process, not a web page. Like AWS's container credentials
 * endpoint, the agent is loopback only; on top, a request a browser sent (an `Origin` header, a
 * `Sec-Fetch-Site` other than `none`) or one whose `Host` is not a loopback name (a page that
 * reached loopback through DNS rebinding names its own host) is refused, and only GET is served.
 * The same test as the local servers' (sim/loopback-server.ts `fromWebPage`), kept here because
 * the agent ships alone and must not import the local world; the Host check is the agent's own.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import { LOOPBACK_HOSTS } from './flags.js';

/** Why a request is refused (status, code, message), or undefined when it may be served. */
export type Refusal = { status: 403 | 405; code: string; message: string } | undefined;

/** The host name of a `Host` header (`127.0.0.1:9911`, `[::1]:9911`, `localhost`), lower-cased; undefined when malformed. */
export function hostName(host: string): string | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::\d{1,5})?$/.exec(host.trim());
  return match ? (match[1] ?? match[2])!.toLowerCase() : undefined;
}

/** Checks a request's method and headers. A missing Host is refused too: every HTTP/1.1 client sends one. */
export function refusal(method: string | undefined, headers: IncomingHttpHeaders): Refusal {
  const site = headers['sec-fetch-site'];
  if (headers.origin !== undefined || (site !== undefined && site !== 'none')) {
    return { status: 403, code: 'Forbidden', message: 'requests from a web page (an Origin or Sec-Fetch-Site header) are refused' };
  }
  const name = headers.host === undefined ? undefined : hostName(headers.host);
  if (name === undefined || !LOOPBACK_HOSTS.has(name)) {
    return { status: 403, code: 'Forbidden', message: 'the Host must be a loopback name (127.0.0.1, [::1] or localhost)' };
  }
  if (method !== 'GET') return { status: 405, code: 'MethodNotAllowed', message: 'only GET is served' };
  return undefined;
}
