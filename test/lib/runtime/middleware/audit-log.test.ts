import middy from '@middy/core';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../../../../lib/core/errors.js';
import { camsGetUploadAuthorization } from '../../../../lib/operations/cams-get-upload-authorization.js';
import { auditLog } from '../../../../lib/runtime/middleware/audit-log.js';
import { httpAnswers } from '../../../../lib/runtime/middleware/http-answers.js';
import { type HttpEvent, httpJsonBody } from '../../../../lib/runtime/middleware/http-json-body.js';
import {
  type BrokerContext,
  type Invocation,
  invocationCaller,
  invocationContext,
} from '../../../../lib/runtime/middleware/invocation-context.js';
import { validateBody } from '../../../../lib/runtime/run-operation.js';
import { httpApiEvent, lambdaContext } from '../../../../sim/lambda-events.js';
import { metricsOf, withoutMetrics } from '../../../support/emf.js';
import { captureLogs } from '../../../support/log-capture.js';

const op = camsGetUploadAuthorization;
const ROUTE = '/v1/aliyun/cams/upload-authorization';
const PRINCIPAL = 'arn:aws:sts::123456789012:assumed-role/uploader/session-1';
const iam = { iam: { userArn: PRINCIPAL, accountId: '123456789012', accessKey: 'ASIAFAKEACCESSKEY' } };

type Core = (event: HttpEvent, invocation: Invocation) => Promise<unknown>;

/** The HTTP trigger's middlewares in its order, around a core that fills the audit facts as the real one does. */
function stack(core: Core) {
  return middy<HttpEvent, unknown, Error, BrokerContext>({ timeoutEarlyInMillis: 0 })
    .use(invocationContext({ op, marginMs: 0 }))
    .use(httpAnswers())
    .use(invocationCaller())
    .use(auditLog())
    .use(httpJsonBody({ maxBytes: 16 * 1024 }))
    .handler((event, context) => core(event, context.invocation));
}

async function run(core: Core, event: HttpEvent = httpApiEvent(ROUTE, { custSpaceId: 'space-1' }, { authorizer: iam })) {
  const logs = captureLogs();
  const context = lambdaContext() as BrokerContext;
  try {
    const result = (await stack(core)(event, context)) as APIGatewayProxyResult;
    const records = logs.records();
    return {
      result,
      lines: logs.lines,
      records,
      audits: records.filter((r) => r.type === 'audit'),
      others: records.filter((r) => r.type !== 'audit'),
      requestId: context.awsRequestId,
    };
  } finally {
    logs.restore();
  }
}

const AUDIT_KEYS = [
  'bodyHash',
  'caller',
  'decision',
  'durationMs',
  'expiresAt',
  'operation',
  'outcome',
  'requestId',
  'source',
  'time',
  'traceId',
  'type',
  'vendorRequestId',
];

describe('auditLog', () => {
  it('writes one record for an allowed request, and nothing else', async () => {
    const expiresAt = '2030-01-01T00:00:00.000Z';
    const { result, audits, others, requestId } = await run(async (_event, invocation) => {
      invocation.audit.bodyHash = 'hash-1';
      invocation.audit.decision = { allowed: true, rule: 'uploaders' };
      invocation.audit.source = 'table';
      invocation.audit.expiresAt = expiresAt;
      return { operation: op.name, data: {} };
    });
    expect(result.statusCode).toBe(200);
    expect(audits).toHaveLength(1);
    expect(withoutMetrics(audits[0]!)).toEqual({
      type: 'audit',
      time: expect.any(String),
      requestId,
      operation: op.name,
      caller: { kind: 'iam', principal: PRINCIPAL },
      bodyHash: 'hash-1',
      decision: 'allowed',
      rule: 'uploaders',
      outcome: { status: 200 },
      source: 'table',
      expiresAt,
      vendorRequestId: null,
      traceId: null,
      durationMs: expect.any(Number),
    });
    // Its metrics ride on the same line.
    expect(metricsOf(audits[0]!).values).toEqual({ Requests: 1, ServedFromMemory: 0, ServedFromTable: 1, ServedFromVendor: 0 });
    expect(audits[0]!.code).toBe('OK');
    expect(audits[0]!.durationMs).toBeGreaterThanOrEqual(0);
    expect(others).toEqual([]);
  });

  it('puts the request id, the vendor request id and the trace id together', async () => {
    const traceId = '1-5759e988-bd862e3fe1be46a994272793';
    const previous = process.env._X_AMZN_TRACE_ID;
    process.env._X_AMZN_TRACE_ID = `Root=${traceId};Parent=53995c3f42cd8ad8;Sampled=1`;
    try {
      const { audits, requestId } = await run(async (_event, invocation) => {
        invocation.audit.decision = { allowed: true };
        invocation.audit.source = 'vendor';
        invocation.audit.vendorRequestId = 'vr-1';
        return { operation: op.name, vendorRequestId: 'vr-1', data: {} };
      });
      expect(audits[0]).toMatchObject({ requestId, vendorRequestId: 'vr-1', traceId });
    } finally {
      if (previous === undefined) delete process.env._X_AMZN_TRACE_ID;
      else process.env._X_AMZN_TRACE_ID = previous;
    }
  });

  it('names the rule "no policy configured" when the policy allowed without one', async () => {
    const { audits } = await run(async (_event, invocation) => {
      invocation.audit.decision = { allowed: true };
      return { operation: op.name, data: {} };
    });
    expect(audits[0]).toMatchObject({ decision: 'allowed', rule: 'no policy configured' });
  });

  it('records a denied request with its status and code, no rule, and a warn line', async () => {
    const { result, audits, others } = await run(async (_event, invocation) => {
      invocation.audit.bodyHash = 'hash-2';
      invocation.audit.decision = { allowed: false };
      throw new BrokerError('Forbidden', 'No rule allows this caller this request.');
    });
    expect(result.statusCode).toBe(403);
    expect(audits).toHaveLength(1);
    expect(Object.keys(withoutMetrics(audits[0]!)).sort()).toEqual(AUDIT_KEYS);
    expect(metricsOf(audits[0]!).values).toEqual({ Requests: 1, PolicyDenials: 1 });
    expect(audits[0]!.code).toBe('Forbidden');
    expect(audits[0]).toMatchObject({
      caller: { kind: 'iam', principal: PRINCIPAL },
      bodyHash: 'hash-2',
      decision: 'denied',
      outcome: { status: 403, code: 'Forbidden' },
      source: null,
      expiresAt: null,
    });
    expect(others).toEqual([expect.objectContaining({ level: 'warn', message: 'request refused', status: 403, code: 'Forbidden' })]);
  });

  it('records a failed vendor call with the vendor code, and an error line', async () => {
    const { result, audits, others } = await run(async (_event, invocation) => {
      invocation.audit.bodyHash = 'hash-3';
      invocation.audit.decision = { allowed: true, rule: 'uploaders' };
      invocation.audit.source = 'vendor';
      throw new BrokerError('VendorUnavailable', 'Down.', { vendorCode: 'ServiceUnavailable', vendorRequestId: 'vr-3' });
    });
    expect(result.statusCode).toBe(503);
    expect(audits[0]).toMatchObject({
      decision: 'allowed',
      rule: 'uploaders',
      outcome: { status: 503, code: 'VendorUnavailable', vendorCode: 'ServiceUnavailable' },
      source: 'vendor',
      expiresAt: null,
      // The failed call's vendor request id, next to the request id.
      vendorRequestId: 'vr-3',
      code: 'VendorUnavailable',
    });
    expect(others).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'request failed',
        status: 503,
        code: 'VendorUnavailable',
        vendorCode: 'ServiceUnavailable',
        vendorRequestId: 'vr-3',
      }),
    ]);
  });

  it('keeps the cause of an unexpected error in the error line, not in the answer', async () => {
    const { result, audits, others } = await run(async () => {
      throw new Error('socket hang up');
    });
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('socket hang up');
    expect(audits[0]).toMatchObject({ decision: 'not reached', outcome: { status: 500, code: 'InternalError' } });
    expect(others).toEqual([
      expect.objectContaining({ level: 'error', code: 'InternalError', cause: expect.objectContaining({ message: 'socket hang up' }) }),
    ]);
  });

  it('records a request refused before the policy as "not reached"', async () => {
    const event = httpApiEvent(ROUTE, undefined, { rawBody: '{"custSpaceId": "canary-in-torn-json"', authorizer: iam });
    let reached = false;
    const { result, audits, lines } = await run(async () => {
      reached = true;
      return { operation: op.name, data: {} };
    }, event);
    expect(reached).toBe(false);
    expect(result.statusCode).toBe(400);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      bodyHash: null,
      decision: 'not reached',
      source: null,
      outcome: { status: 400, code: 'InvalidRequest' },
    });
    expect(lines.join('\n')).not.toContain('canary');
  });

  it('logs how many fields were wrong, never which values or names a body held', async () => {
    const body = { custSpaceId: 'canary-value-1', 'canary-field-a': 'canary-value-2', 'canary-field-b': { nested: 'canary-value-3' } };
    const { result, audits, others, lines } = await run(
      async (event) => {
        validateBody(op, event.parsedBody);
        return { operation: op.name, data: {} };
      },
      httpApiEvent(ROUTE, body, { authorizer: iam }),
    );
    expect(result.statusCode).toBe(400);
    // The caller is told which fields; the logs only how many.
    expect(JSON.parse(result.body).error.details).toHaveLength(2);
    expect(others).toEqual([
      expect.objectContaining({ level: 'warn', message: 'request refused', code: 'InvalidRequest', detailCount: 2 }),
    ]);
    expect(others[0]).not.toHaveProperty('details');
    expect(audits[0]).not.toHaveProperty('details');
    expect(lines.join('\n')).not.toContain('canary');
  });

  it('records a JWT caller by subject and issuer, never the rest of its claims', async () => {
    const authorizer = {
      jwt: {
        claims: { sub: 'user-7', iss: 'https://issuer.example.test', email: 'canary@example.test', tenant: 'canary-tenant' },
        scopes: null,
      },
    };
    const { audits, lines } = await run(
      async (_event, invocation) => {
        invocation.audit.decision = { allowed: true, rule: 'tenants' };
        return { operation: op.name, data: {} };
      },
      httpApiEvent(ROUTE, { custSpaceId: 'space-1' }, { authorizer }),
    );
    expect(audits[0]!.caller).toEqual({ kind: 'jwt', subject: 'user-7', issuer: 'https://issuer.example.test' });
    expect(lines.join('\n')).not.toContain('canary');
  });

  it('records a request without an authorizer as anonymous', async () => {
    const { audits } = await run(async () => ({ operation: op.name, data: {} }), httpApiEvent(ROUTE, { custSpaceId: 'space-1' }));
    expect(audits[0]!.caller).toEqual({ kind: 'anonymous' });
  });

  it('writes no returned credential into the record', async () => {
    const { result, lines } = await run(async (_event, invocation) => {
      invocation.audit.decision = { allowed: true };
      invocation.audit.source = 'vendor';
      return {
        operation: op.name,
        data: { accessKeyId: 'STS.canary-id', accessKeySecret: 'canary-secret', securityToken: 'canary-token' },
      };
    });
    expect(JSON.parse(result.body).data.accessKeySecret).toBe('canary-secret');
    expect(lines).toHaveLength(1);
    expect(lines.join('\n')).not.toContain('canary');
  });
});
