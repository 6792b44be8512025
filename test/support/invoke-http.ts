import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { lambdaContext } from '../../sim/lambda-events.js';

export type HttpAnswer = APIGatewayProxyResult & { json: Record<string, any> };

/** Runs a handler on an HTTP event and parses its JSON answer. */
export async function invokeHttp(
  handler: (event: unknown, context: Context) => Promise<unknown>,
  event: unknown,
  context: Context = lambdaContext(),
): Promise<HttpAnswer> {
  const result = (await handler(event, context)) as APIGatewayProxyResult;
  return { ...result, json: JSON.parse(result.body) as Record<string, any> };
}
