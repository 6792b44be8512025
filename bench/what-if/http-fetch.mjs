// What-if only (bench/what-if.mjs): a `fetch` made of node:http, injected into a build of ours
// with esbuild's `inject`, to measure what moving the vendor calls off undici would change.
// It covers exactly what lib/vendor-call.ts uses: status, headers.get(), text().
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export function fetch(url, { method = 'GET', headers, body, signal } = {}) {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method, headers, signal }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const get = (name) => {
          const value = res.headers[name.toLowerCase()];
          return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
        };
        resolve({ status: res.statusCode, headers: { get }, text: async () => text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
