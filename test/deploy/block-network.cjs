// Preloaded (NODE_OPTIONS=--require) into the packaging run by package.test.ts: any attempt to
// open a network connection or resolve a host name is recorded in $BLOCK_NETWORK_LOG and fails,
// so the test can prove that packaging is fully offline (no AWS call, no registry, no telemetry).
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const tls = require('node:tls');
const dns = require('node:dns');

const logFile = process.env.BLOCK_NETWORK_LOG;

function record(what, target) {
  const line = `${process.pid} ${what} ${typeof target === 'string' ? target : JSON.stringify(target)}\n`;
  if (logFile) fs.appendFileSync(logFile, line);
  const error = new Error(`network access blocked during packaging: ${what} ${line.trim()}`);
  error.code = 'ENETUNREACH';
  return error;
}

function describe(args) {
  const [first, second] = args;
  if (first && typeof first === 'object') {
    // Local IPC paths (child-process pipes, the esbuild service) are not network access.
    if (first.path != null) return undefined;
    return { host: first.host ?? first.hostname, port: first.port };
  }
  if (typeof first === 'string' && Number.isNaN(Number(first))) return undefined; // a socket path
  return { host: second, port: first };
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(...args) {
  const target = describe(Array.isArray(args[0]) ? args[0] : args);
  if (target === undefined) return originalConnect.apply(this, args);
  const error = record('connect', target);
  process.nextTick(() => this.destroy(error));
  return this;
};

const originalTlsConnect = tls.connect;
tls.connect = function connect(...args) {
  record('tls.connect', describe(args) ?? 'ipc');
  return originalTlsConnect.apply(this, args);
};

for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6']) {
  const original = dns[name];
  dns[name] = function blocked(host, ...rest) {
    const callback = rest.find((r) => typeof r === 'function');
    const error = record(`dns.${name}`, host);
    if (callback) process.nextTick(() => callback(error));
    else return original.call(this, host, ...rest);
  };
}
for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6']) {
  if (dns.promises?.[name]) {
    dns.promises[name] = async (host) => {
      throw record(`dns.promises.${name}`, host);
    };
  }
}
