/**
 * `cloud-token-broker-agent print aliyun`: the external-process JSON for aliyun CLI's (and the
 * credentials libraries') `process_command`, printed once. It asks the agent running at
 * `--listen`; when nothing listens there and `--broker` is given, it asks the broker itself with
 * the same flags (`--auth`, and `--route aliyun=…` for the body).
 * @module
 */
import { request } from 'node:http';
import { createBrokerClient } from '../client/broker-client.js';
import type { AgentFlags } from './flags.js';
import { type AliyunProcessCredentials, aliyunProcess, aliyunUri, aliyunUriAnswer } from './formats.js';
import { routeTable } from './routes.js';

const TIMEOUT_MS = 10_000;

/** A GET of the running agent's `/aliyun/credentials`: status and body, or undefined when nothing listens there. */
function askAgent(flags: AgentFlags): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: flags.listen.host, port: flags.listen.port, path: '/aliyun/credentials', method: 'GET', timeout: TIMEOUT_MS },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`the agent at ${flags.listen.host}:${flags.listen.port} did not answer within ${TIMEOUT_MS} ms`)),
    );
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNREFUSED' ? resolve(undefined) : reject(error)));
    req.end();
  });
}

/** The external-process credentials, from the agent or the broker; throws a clear Error (no secret in it). */
export async function printAliyun(flags: AgentFlags): Promise<AliyunProcessCredentials> {
  const fromAgent = await askAgent(flags);
  if (fromAgent !== undefined) {
    if (fromAgent.status !== 200) throw new Error(`the agent answered ${fromAgent.status}: ${fromAgent.body.slice(0, 300)}`);
    let json: unknown;
    try {
      json = JSON.parse(fromAgent.body);
    } catch {
      throw new Error('the agent answered 200 with something that is not JSON');
    }
    const parsed = aliyunUriAnswer.safeParse(json);
    if (!parsed.success) throw new Error('the agent answered 200 without credentials in the credentials-URI format');
    return aliyunProcess(parsed.data);
  }
  if (flags.broker === undefined) {
    throw new Error(`no agent answers at ${flags.listen.host}:${flags.listen.port}, and no --broker was given to ask instead`);
  }
  const route = routeTable(flags.routes).find((r) => r.name === 'aliyun')!;
  const client = createBrokerClient({ broker: flags.broker, auth: flags.auth });
  const answer = (await client.post('/v1/aliyun/sts/assume-role', route.body as never)) as {
    data: unknown;
    expiresAt?: string;
    refreshAfter?: string;
  };
  if (answer.expiresAt === undefined) throw new Error('the broker answered without expiresAt');
  const expiresAt = Date.parse(answer.expiresAt);
  return aliyunProcess(aliyunUri({ data: answer.data, expiresAt, refreshAfter: Date.parse(answer.refreshAfter ?? answer.expiresAt) }));
}
