import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { Caller } from '../../lib/access/caller.js';
import { compilePolicy, decide, policySchema } from '../../lib/access/policy.js';
import { stageParamName } from '../../lib/core/config.js';
import { loadOperations } from '../../lib/operations/index.js';
import {
  endpointsAt,
  endpointVariables,
  exampleBody,
  keyParametersUnder,
  type LocalWorld,
  localCallerPolicy,
  startLocalWorld,
} from '../../sim/local-world.js';
import { SIMULATOR_DEFAULT_KEYS } from '../../sim/vendor-simulator.js';

const operations = await loadOperations();

describe('wiring derived from the registry', () => {
  it('has one endpoint variable per distinct op.endpoint', () => {
    const variables = endpointVariables(operations);
    expect(new Set(variables)).toEqual(new Set(operations.map((op) => op.endpoint)));
    expect(variables).toHaveLength(new Set(variables).size);
    expect(endpointsAt(operations, 'http://127.0.0.1:9')).toEqual(Object.fromEntries(variables.map((v) => [v, 'http://127.0.0.1:9'])));
  });

  it('names stage params as the camelCase of the variable', () => {
    expect(stageParamName('ALIYUN_CAMS_ENDPOINT')).toBe('aliyunCamsEndpoint');
    expect(stageParamName('UCLOUD_API_ENDPOINT')).toBe('ucloudApiEndpoint');
    expect(stageParamName('ALIYUN_BPSTUDIO_ENDPOINT')).toBe('aliyunBpstudioEndpoint');
  });

  it.each(operations.map((op) => [op.name, op] as const))('gives %s an example body its schema accepts', (_name, op) => {
    const body = exampleBody(op);
    expect(op.request.safeParse(body).success).toBe(true);
  });

  it('fills required fields only', () => {
    const cams = operations.find((op) => op.endpoint === 'ALIYUN_CAMS_ENDPOINT')!;
    expect(exampleBody(cams)).toEqual({ custSpaceId: 'demo' });
  });

  it("takes a field's declared example where 'demo' would not match its pattern", () => {
    const roleArn = z.string().check(z.regex(/^qcs::cam::uin\/\d+:roleName\/\w+$/));
    const example = 'qcs::cam::uin/100000000001:roleName/demo';
    const op = (field: z.ZodMiniString) => ({
      ...operations[0]!,
      request: z.strictObject({ roleArn: field, note: z.optional(z.string()) }),
    });
    expect(exampleBody(op(roleArn))).toEqual({});
    expect(exampleBody(op(roleArn.check(z.meta({ examples: [example] }))))).toEqual({ roleArn: example });
  });
});

describe('startLocalWorld', () => {
  let world: LocalWorld;
  beforeAll(async () => {
    world = await startLocalWorld({ keyParameters: keyParametersUnder('/k'), ucloudProjectId: 'org-x' });
  });
  afterAll(() => world.close());

  it('seeds the keys and points every endpoint variable at the simulator', () => {
    expect(world.ssm.names()).toEqual(['/k/aliyun', '/k/tencent', '/k/ucloud']);
    expect(JSON.parse(world.ssm.get('/k/tencent')!)).toEqual(SIMULATOR_DEFAULT_KEYS.tencent);
    expect(JSON.parse(world.ssm.get('/k/ucloud')!)).toMatchObject({ projectId: 'org-x' });
    for (const op of operations) expect(world.env[op.endpoint]).toBe(world.sim.url);
    expect(world.env).toMatchObject({
      AWS_ENDPOINT_URL_SSM: world.ssm.url,
      AWS_ENDPOINT_URL_SQS: world.sqs.url,
      AWS_ENDPOINT_URL_KMS: world.kms.url,
      ALIYUN_KEYS_PARAMETER: '/k/aliyun',
      UCLOUD_KEYS_PARAMETER: '/k/ucloud',
      TENCENT_KEYS_PARAMETER: '/k/tencent',
    });
    expect(Object.keys(world.awsEnv).every((name) => name.startsWith('AWS_'))).toBe(true);
  });
});

describe('the local caller policy (npm start)', () => {
  const document = z.parse(policySchema, localCallerPolicy(operations));
  const policy = compilePolicy(document);
  const callers: Caller[] = [
    { kind: 'anonymous' },
    { kind: 'jwt', subject: 'u', claims: { sub: 'u' } },
    { kind: 'iam', principal: 'arn:aws:iam::1:user/u' },
  ];

  it.each(operations.map((op) => [op.name, op] as const))(
    'lets every local caller call %s, an STS route only with a session policy',
    (_name, op) => {
      for (const caller of callers) {
        const decision = decide(policy, caller, op.name, exampleBody(op), { assumesRole: op.assumesRole !== undefined });
        expect(decision.allowed).toBe(true);
        if (op.assumesRole !== undefined) expect(decision).toMatchObject({ sessionPolicy: expect.stringContaining('uploads/') });
      }
    },
  );

  it('opts out of no session policy', () => {
    expect(policy.unscopedRules).toEqual([]);
  });
});
