// The request/answer protocol between a bench runner and the long-lived children it forks
// (bench/worker.mjs, bench/scale-worker.mjs): the child says `{ready: true}` once, then answers
// each `{id, type, ...args}` with `{id, ok, value}` or `{id, ok: false, error}`.
import { fork } from 'node:child_process';

/** Forks `path` and waits for it to be ready; `call(type, args)` resolves with the child's answer. */
export async function forkWorker(path, forkOptions, label = 'worker') {
  const child = fork(path, [], forkOptions);
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  let next = 0;
  const pending = new Map();
  child.on('message', (message) => {
    const waiting = message?.id === undefined ? undefined : pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    if (message.ok) waiting.resolve(message.value);
    else waiting.reject(new Error(`${label}: ${message.error}`));
  });
  child.on('exit', (code) => {
    for (const waiting of pending.values()) waiting.reject(new Error(`${label} exited ${code}: ${stderr}`));
  });
  await new Promise((resolve) => child.once('message', resolve));
  const call = (type, args = {}) =>
    new Promise((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve, reject });
      child.send({ id, type, ...args });
    });
  return { child, call };
}

/** The child's side: answers each message with the command of its `type`, then says it is ready. */
export function serveCommands(commands) {
  process.on('message', async (message) => {
    try {
      process.send({ id: message.id, ok: true, value: await commands[message.type](message) });
    } catch (error) {
      process.send({ id: message.id, ok: false, error: String(error?.stack ?? error) });
    }
  });
  process.send({ ready: true });
}
