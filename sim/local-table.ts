/**
 * A local stand-in for the broker's DynamoDB token table (docs/contracts.md, "Shared state"):
 * dynalite, served over real HTTP on loopback from a child process of its own (dynalite in
 * the same process as a latency-sensitive server stalls that server under load). The table
 * is created with the deployed key schema: partition key `pk` (String) and nothing else.
 * dynalite has no UpdateTimeToLive, so items are never expired locally. Nothing here loads
 * the AWS SDK: the broker's own client is what talks to the table.
 */
import { type ChildProcess, fork } from 'node:child_process';

export interface LocalTable {
  /** The endpoint to hand the AWS SDK (AWS_ENDPOINT_URL_DYNAMODB). */
  url: string;
  port: number;
  tableName: string;
  /** Requests the server received since it started or since `resetRequests()`, per operation (`GetItem`: 12, …). */
  requests(): Promise<Record<string, number>>;
  resetRequests(): Promise<void>;
  /** Removes every item (a fresh, empty table under the same name). */
  clear(): Promise<void>;
  /** Stops the server (the table and its items go with it). */
  close(): Promise<void>;
}

export interface LocalTableOptions {
  /** Default `cloud-token-broker-local-tokens`. */
  tableName?: string;
  /** 0 (default) picks a free port. */
  port?: number;
}

const serverScript = new URL('./dynalite-process.mjs', import.meta.url).pathname;

interface Reply {
  type: string;
  id?: number;
  port?: number;
  message?: string;
  counts?: Record<string, number>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startLocalTable(options: LocalTableOptions = {}): Promise<LocalTable> {
  const tableName = options.tableName ?? 'cloud-token-broker-local-tokens';
  // No inherited loader flags (tsx, vitest): the server is plain JavaScript.
  const child = fork(serverScript, [], {
    execArgv: [],
    env: { ...process.env, LOCAL_TABLE_PORT: String(options.port ?? 0), LOCAL_TABLE_NAME: tableName },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const close = async () => {
    // Held again while it stops, so this process waits for it rather than exiting first.
    child.ref();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited(child);
  };

  let next = 0;
  const ask = (type: string) =>
    new Promise<Reply>((resolve, reject) => {
      const id = ++next;
      const onMessage = (reply: Reply) => {
        if (reply.id !== id) return;
        child.off('message', onMessage);
        child.channel?.unref();
        resolve(reply);
      };
      child.on('message', onMessage);
      child.channel?.ref();
      if (!child.connected) return reject(new Error('the local table server has stopped'));
      child.send({ type, id });
    });

  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (message: Reply) =>
        message.type === 'listening' ? resolve(message.port!) : reject(new Error(`the local table server failed: ${message.message}`)),
      );
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the local table server exited (${code}) before it listened`)));
    });
    const url = `http://127.0.0.1:${port}`;
    // The IPC channel stays open (its loss tells the server its parent is gone) but must not keep this process alive.
    child.unref();
    child.channel?.unref();
    return {
      url,
      port,
      tableName,
      requests: async () => ({ ...(await ask('requests')).counts }),
      resetRequests: async () => {
        await ask('resetRequests');
      },
      clear: async () => {
        const reply = await ask('clear');
        if (reply.message !== undefined) throw new Error(`the local table could not be cleared: ${reply.message}`);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
