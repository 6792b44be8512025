/**
 * The AWS JSON protocol (1.0 for SQS, 1.1 for SSM and KMS) as the fakes of sim/ speak it to the
 * real SDK clients: a JSON object in, a JSON object out with the headers the clients read.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** A request or answer body of the AWS JSON protocol. */
export type AwsJsonBody = Record<string, unknown>;

/** Answers `body` as `application/x-amz-json-<version>`, with a request id as AWS gives one. */
export function replyAwsJson(
  res: ServerResponse,
  version: '1.0' | '1.1',
  status: number,
  body: AwsJsonBody,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': `application/x-amz-json-${version}`,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...headers,
  });
  res.end(text);
}

/** A request body as a JSON object (empty text counts as `{}`), or undefined when it is none: the caller's SerializationException. */
export function parseAwsJsonBody(text: string): AwsJsonBody | undefined {
  try {
    const value: unknown = JSON.parse(text === '' ? '{}' : text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as AwsJsonBody;
  } catch {
    // not JSON: undefined below
  }
  return undefined;
}
