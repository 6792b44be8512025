/** API Gateway events and a Lambda context, for running handlers in-process (tests, scripts/measure-paths.ts). */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context, EventBridgeEvent, SQSEvent, SQSRecord } from 'aws-lambda';

/** A Lambda context whose deadline is `remainingMs` from now, like the real one. */
export function lambdaContext(remainingMs = 10_000, functionName = 'cloud-token-broker-test'): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface HttpRequestOptions {
  contentType?: string | null;
  method?: string;
  rawBody?: string;
  base64?: boolean;
  /** What the API Gateway authorizer put on the event, e.g. `{ iam: { userArn } }` or `{ jwt: { claims } }`. */
  authorizer?: Record<string, unknown>;
}

function bodyOf(body: unknown, options: HttpRequestOptions): { body: string | undefined; isBase64Encoded: boolean } {
  const text = options.rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
  if (text === undefined) return { body: undefined, isBase64Encoded: false };
  return options.base64 ? { body: Buffer.from(text).toString('base64'), isBase64Encoded: true } : { body: text, isBase64Encoded: false };
}

function headersOf(options: HttpRequestOptions): Record<string, string> {
  const type = options.contentType === undefined ? 'application/json' : options.contentType;
  return type === null ? {} : { 'content-type': type };
}

/** An API Gateway HTTP API (payload 2.0) proxy event. */
export function httpApiEvent(route: string, body?: unknown, options: HttpRequestOptions = {}): APIGatewayProxyEventV2 {
  const method = options.method ?? 'POST';
  return {
    version: '2.0',
    routeKey: `${method} ${route}`,
    rawPath: route,
    rawQueryString: '',
    headers: headersOf(options),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: { method, path: route, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'vitest' },
      ...(options.authorizer && { authorizer: options.authorizer }),
      requestId: randomUUID(),
      routeKey: `${method} ${route}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...bodyOf(body, options),
  };
}

/** An API Gateway REST API (payload 1.0) proxy event. */
export function restApiEvent(route: string, body?: unknown, options: HttpRequestOptions = {}): APIGatewayProxyEvent {
  const method = options.method ?? 'POST';
  const headers = headersOf(options);
  // REST APIs keep the caller's header case.
  const restHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.replace(/(^|-)\w/g, (c) => c.toUpperCase()), v]));
  return {
    resource: route,
    path: route,
    httpMethod: method,
    headers: restHeaders,
    multiValueHeaders: Object.fromEntries(Object.entries(restHeaders).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      authorizer: null,
      httpMethod: method,
      identity: { sourceIp: '198.51.100.7', userAgent: 'vitest' } as APIGatewayProxyEvent['requestContext']['identity'],
      path: `/prod${route}`,
      protocol: 'HTTP/1.1',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'res',
      resourcePath: route,
      stage: 'prod',
    },
    ...bodyOf(body, options),
    body: bodyOf(body, options).body ?? null,
  };
}

/** One SQS record whose body is `body` (a string, as SQS hands it over). */
export function sqsRecord(messageId: string, body: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:provisioning',
    awsRegion: 'eu-west-1',
  };
}

/** An SQS batch of `records`. */
export const sqsBatch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

/** An EventBridge event (the tenant-onboarding shape) whose detail is `detail`. */
export function eventBridgeEvent(detail: unknown): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: 'evt-1',
    'detail-type': 'TenantOnboarded',
    source: 'cloud-token-broker.tenants',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'eu-west-1',
    resources: [],
    detail,
  };
}
