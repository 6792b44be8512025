import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NpmStart, startNpmStart } from '../support/npm-start.js';
import { buildCopy, copyRepository } from '../support/repository-copy.js';

/**
 * The registry's promise: an operation is its spec file and its three-line function file.
 * A throwaway operation is added to a copy of the repository, with no other edit, and
 * the packaged template, openapi.json and `npm start` must all pick it up.
 */
const _exec = promisify(execFile);
const _root = new URL('../..', import.meta.url).pathname;
let copy: string;

const FUNCTION = 'zz-throwaway-token';
const ROUTE = '/v1/throwaway/token';
const NAME = 'throwaway:GetToken';

// An operation the simulator already answers (BPStudio's GetToken), under its own name, route
// and function: what is under test is the wiring, not a new vendor behaviour.
const SPEC = `import * as z from 'zod/mini';
import { defineOperation } from '../spec/operation.js';
import { http } from '../runtime/triggers/http.js';
import { schedule } from '../runtime/triggers/schedule.js';
import { aliyunApi } from '../vendor/aliyun.js';

/** A throwaway operation added by test/registry/new-operation.test.ts. */
export const zzThrowawayToken = defineOperation({
  name: '${NAME}',
  functionName: '${FUNCTION}',
  route: '${ROUTE}',
  summary: 'Throwaway operation proving the registry',
  endpoint: 'ALIYUN_BPSTUDIO_ENDPOINT',
  triggers: [http(), schedule({ rate: 'rate(7 minutes)' })],
  vendor: 'aliyun',
  api: aliyunApi,
  action: 'GetToken',
  version: '2021-09-31',
  style: 'RPC',
  paramsIn: 'body',
  request: z.strictObject({}),
  response: { field: 'Data', data: z.object({ accessKeyId: z.string(), accessKeySecret: z.string(), securityToken: z.string() }) },
  expiresAt: (_data, issuedAt) => issuedAt + 30 * 60_000,
});
`;
const FUNCTION_FILE = `import { createHandler } from '../lib/runtime/handler.js';
import { zzThrowawayToken } from '../lib/operations/${FUNCTION}.js';

export const handler = createHandler(zzThrowawayToken);
`;

let template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
let openapi: { paths: Record<string, unknown> };
let npmStart: NpmStart;

beforeAll(async () => {
  copy = await copyRepository('ctb-operation-');
  // The whole change: two new files.
  writeFileSync(join(copy, 'lib/operations', `${FUNCTION}.ts`), SPEC);
  writeFileSync(join(copy, 'functions', `${FUNCTION}.ts`), FUNCTION_FILE);

  const _env = { ...process.env, npm_config_update_notifier: 'false' };
  ({ openapi, template } = await buildCopy<typeof openapi, typeof template>(copy));
  npmStart = await startNpmStart(copy);
}, 400_000);

afterAll(() => {
  npmStart?.kill();
  rmSync(copy, { recursive: true, force: true });
});

const resourcesOfType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

describe('a new operation, added as two files and nothing else', () => {
  it('is in openapi.json', () => {
    expect(Object.keys(openapi.paths)).toContain(ROUTE);
  });

  it('is a function of the packaged template, with its zip, its route, its schedule, its own role and its alarms', () => {
    const fn = template.Resources.ZzDashthrowawayDashtokenLambdaFunction;
    expect(fn?.Type).toBe('AWS::Lambda::Function');
    expect(JSON.stringify(fn?.Properties.Code)).toContain(`${FUNCTION}.zip`);
    expect(JSON.stringify(fn?.Properties.Role)).toContain('ZzThrowawayTokenRole');
    expect(template.Resources.ZzThrowawayTokenRole?.Type).toBe('AWS::IAM::Role');

    const routes = resourcesOfType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);
    expect(routes).toContain(`POST ${ROUTE}`);

    const schedules = resourcesOfType('AWS::Events::Rule').filter(([, r]) => r.Properties.ScheduleExpression === 'rate(7 minutes)');
    expect(schedules).toHaveLength(1);

    const alarms = resourcesOfType('AWS::CloudWatch::Alarm').filter(([, r]) =>
      JSON.stringify(r.Properties).includes('ZzDashthrowawayDashtokenLambdaFunction'),
    );
    expect(alarms.map(([, r]) => r.Properties.MetricName).sort()).toEqual(['Errors', 'Throttles']);

    // ...its alarms on the broker's own metrics, and its rows of the stage's dashboard.
    const own = resourcesOfType('AWS::CloudWatch::Alarm').filter(([, r]) =>
      JSON.stringify(r.Properties).includes(JSON.stringify({ Name: 'operation', Value: NAME })),
    );
    expect(own.length).toBeGreaterThanOrEqual(6);
    const body = (template.Resources.Dashboard!.Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub'];
    const widgets = (JSON.parse(body) as { widgets: { properties: { metrics?: unknown[] } }[] }).widgets;
    expect(widgets.filter((w) => JSON.stringify(w.properties.metrics ?? []).includes(NAME)).length).toBeGreaterThanOrEqual(6);
  });

  it('is served by `npm start`: listed in its banner and answered over HTTP', async () => {
    expect(npmStart.output()).toMatch(new RegExp(`^  POST ${ROUTE} +${NAME}$`, 'm'));
    const answer = await fetch(`http://localhost:${npmStart.httpPort}${ROUTE}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(await answer.json()).toMatchObject({ operation: NAME, data: { accessKeyId: expect.any(String) } });
  });
});
