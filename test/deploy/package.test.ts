// `npm run package` (osls package + scripts/package-artifacts.mjs), run offline, and what it writes:
// the CloudFormation template and one zip per function in .serverless/.
//
// Packaging runs twice in beforeAll, with no AWS credentials and with every network connection
// blocked (test/deploy/block-network.cjs):
//   - a variant: `--stage prod --param=authorizer=jwt ...` into a temporary directory;
//   - the default, `npm run package`, into .serverless/ (osls empties .serverless/ on each run,
//     and a run with `--package <dir>` moves .serverless/ there, hence this order).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, posix, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { crc32, inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC_UNITS } from '../../lib/core/metrics.js';
import { loadOperations } from '../../lib/operations/index.js';
import { loadRotations } from '../../lib/rotation/index.js';
import { type Operation, type TriggerKind, triggerOf } from '../../lib/spec/operation.js';
import { ROTATE_WHEN_LEFT, SERVE_WHILE_LEFT } from '../../lib/state/token-cache.js';
import { loadVendors } from '../../lib/vendor/index.js';

const exec = promisify(execFile);
/** `cfn-lint x.y.z`, or undefined when it is not installed (a Python package: `pip install cfn-lint`). */
const cfnLintVersion = await exec('cfn-lint', ['--version']).then(
  ({ stdout }) => stdout.trim(),
  () => undefined,
);
const root = fileURLToPath(new URL('../..', import.meta.url));
const serverlessDir = join(root, '.serverless');

/** Each bundle (index.mjs and its chunks, uncompressed) must stay under this. They are about 430 KB today. */
const BUNDLE_BUDGET_BYTES = 900 * 1024;
const SERVICE = 'cloud-token-broker';
const PSEUDO = '${AWS::Partition}';
const REGION = '${AWS::Region}';
const ACCOUNT = '${AWS::AccountId}';

/** Whether an operation keeps state in the token table: tokens, or rate slots (as infra/ decides). */
const usesTable = (op: Operation) => op.expiresAt !== undefined || op.ratePerSecond !== undefined;

// The registry, as serverless.yml and infra/ read it.
const operations: Operation[] = await loadOperations();
const vendorRegistry = await loadVendors();
/** The master-key rotations (lib/rotation/index.ts): one function each, besides the operations'. */
const rotations = await loadRotations();
const withTrigger = (kind: TriggerKind) => operations.filter((op) => triggerOf(op, kind) !== undefined);
const scheduledOperations = withTrigger('schedule');
const queuedOperations = withTrigger('sqs');
const endpointVariables = [...new Set(operations.map((op) => op.endpoint))].sort();

/** Stage params are named in camelCase: after the functionName (`<fn>RotationRate`) or the variable (`aliyunCamsEndpoint`). */
const camel = (name: string) => name.toLowerCase().replace(/[-_]([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const functionFiles = readdirSync(join(root, 'functions'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => basename(f, '.ts'))
  .sort();

const variant = {
  stage: 'prod',
  jwtIssuer: 'https://issuer.example.com/',
  jwtAudience: 'cloud-token-broker-test-audience',
  /** Every schedule's rate (<fn>RotationRate). */
  rotationRate: 'rate(7 minutes)',
  /** Every queue's batch size (<fn>BatchSize). */
  batchSize: 7,
  /** Every endpoint (aliyunCamsEndpoint, ...): a URL of its own. */
  endpoint: (variable: string) => `https://${camel(variable).toLowerCase()}.example.com`,
  alarmTopicArn: 'arn:aws:sns:ap-southeast-1:123456789012:cloud-token-broker-alarms',
  /** Who may put events on the stage's bus. */
  eventPublishers: ['arn:aws:iam::123456789012:role/onboarding-service'],
  /** The token table's customer managed key. */
  tokenTableKmsKeyArn: 'arn:aws:kms:ap-southeast-1:123456789012:key/0f6e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5b',
  /** Lambda's own tracing (default PassThrough). */
  tracing: 'Active',
  /** The HTTP API's default route throttling (default burst 200, rate 100/s). */
  throttleBurstLimit: 40,
  throttleRateLimit: 12.5,
};

// ---------------------------------------------------------------------------------------------
// CloudFormation template helpers
// ---------------------------------------------------------------------------------------------
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
interface Resource {
  Type: string;
  Properties: JsonObject;
  DependsOn?: Json;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}
interface Template {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, JsonObject>;
  Conditions?: Record<string, Json>;
}

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * An intrinsic as one string in Fn::Sub syntax, so values compare as text:
 * {Ref: X} → "${X}", {Fn::GetAtt: [X, A]} → "${X.A}", {Fn::Sub: s} → s, Fn::Join joined.
 */
function render(value: Json | undefined): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isObject(value)) {
    if ('Ref' in value) return `\${${render(value.Ref)}}`;
    if ('Fn::GetAtt' in value) {
      const att = value['Fn::GetAtt'];
      return `\${${Array.isArray(att) ? att.map(render).join('.') : render(att)}}`;
    }
    if ('Fn::Sub' in value) {
      const sub = value['Fn::Sub'];
      if (typeof sub === 'string') return sub;
      if (Array.isArray(sub) && typeof sub[0] === 'string' && isObject(sub[1])) {
        const vars = sub[1];
        return sub[0].replace(/\$\{([^}]+)\}/g, (whole, name: string) => (name in vars ? render(vars[name]) : whole));
      }
    }
    if ('Fn::Join' in value) {
      const join = value['Fn::Join'];
      if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) return join[1].map(render).join(join[0]);
    }
  }
  return `<unrenderable ${JSON.stringify(value)}>`;
}

function resourcesOfType(t: Template, type: string): [string, Resource][] {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === type);
}

function functionResource(t: Template, stage: string, name: string): [string, Resource] {
  const found = resourcesOfType(t, 'AWS::Lambda::Function').filter(([, r]) => r.Properties.FunctionName === `${SERVICE}-${stage}-${name}`);
  expect(found, `one Lambda function named ${SERVICE}-${stage}-${name}`).toHaveLength(1);
  return found[0]!;
}

/** The IAM role of the stage's function `name`. */
function roleOf(t: Template, stage: string, name: string): Resource {
  const [, fn] = functionResource(t, stage, name);
  return resource(t, referencedId(render(fn.Properties.Role)), 'AWS::IAM::Role');
}

function resource(t: Template, logicalId: string, type: string): Resource {
  const r = t.Resources[logicalId];
  expect(r, `resource ${logicalId}`).toBeDefined();
  expect(r!.Type, `type of ${logicalId}`).toBe(type);
  return r!;
}

/** `${X.Arn}` or `${X}` → X */
function referencedId(rendered: string): string {
  const match = /^\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}$/.exec(rendered);
  expect(match, `a Ref/GetAtt, got ${rendered}`).not.toBeNull();
  return match![1]!;
}

// ---------------------------------------------------------------------------------------------
// IAM: every policy document in a template, and the rules they must keep
// ---------------------------------------------------------------------------------------------
interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: Json;
  NotResource?: Json;
  Principal?: Json;
  Condition?: Record<string, Record<string, Json>>;
}
interface FoundDocument {
  where: string;
  statements: Statement[];
}

/** Every PolicyDocument / AssumeRolePolicyDocument anywhere in the template's resources. */
function policyDocuments(t: Template): FoundDocument[] {
  const found: FoundDocument[] = [];
  const walk = (value: Json | undefined, where: string) => {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, `${where}[${i}]`);
    } else if (isObject(value)) {
      for (const [key, inner] of Object.entries(value)) {
        if ((key === 'PolicyDocument' || key === 'AssumeRolePolicyDocument') && isObject(inner)) {
          found.push({ where: `${where}.${key}`, statements: asArray(inner.Statement as unknown as Statement | Statement[]) });
        } else walk(inner, `${where}.${key}`);
      }
    }
  };
  for (const [id, r] of Object.entries(t.Resources)) walk(r.Properties as Json, id);
  return found;
}

const GUARDED = /^(ssm|kms|sqs|dynamodb):/i;

/** Pseudo parameters as an example account would see them, so ARNs can be matched by pattern. */
function concrete(rendered: string): string {
  const values: Record<string, string> = {
    Partition: 'aws',
    Region: 'ap-southeast-1',
    AccountId: '123456789012',
    URLSuffix: 'amazonaws.com',
  };
  return rendered.replace(/\$\{AWS::(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** What is wrong with the statements of these documents: an empty list when nothing is. */
function iamFindings(documents: FoundDocument[]): string[] {
  const findings: string[] = [];
  for (const { where, statements } of documents) {
    for (const [i, s] of statements.entries()) {
      const at = `${where} statement ${s.Sid ?? i}`;
      if (s.Effect !== 'Allow') continue;
      if (s.NotAction !== undefined || s.NotResource !== undefined) findings.push(`${at}: Allow with NotAction/NotResource`);
      const actions = asArray(s.Action);
      if (actions.some((a) => a === '*' || /^(ssm|kms|sqs|dynamodb):\*$/i.test(a)))
        findings.push(`${at}: wildcard action ${actions.join(',')}`);
      if (!actions.some((a) => GUARDED.test(a) || a === '*')) continue;
      const resources = asArray(s.Resource as Json | Json[]).map(render);
      if (resources.length === 0) findings.push(`${at}: no Resource`);
      for (const r of resources) {
        // Every parameter, queue or key of an account (or of every account) counts as "*" too.
        const arnParts = /^arn:[^:]+:(ssm|sqs|kms|dynamodb):[^:]*:[^:]*:(.*)$/.exec(concrete(r));
        if (r === '*' || (arnParts && /^(\*|parameter\/\*)$/.test(arnParts[2]!))) findings.push(`${at}: ${actions.join(',')} on ${r}`);
      }
      if (actions.some((a) => /^kms:/i.test(a))) {
        // Through SSM (key parameters), or DynamoDB (the token table's own key), never directly;
        // but for the data keys of token items: on the stage's token key, in one function's context.
        const via = render(s.Condition?.StringEquals?.['kms:ViaService']);
        const ownDataKeys =
          resources.length === 1 &&
          resources[0] === '${TokenKey.Arn}' &&
          typeof s.Condition?.StringEquals?.['kms:EncryptionContext:function'] === 'string' &&
          actions.every((a) => a === 'kms:GenerateDataKey' || a === 'kms:Decrypt');
        if (!ownDataKeys && via !== `ssm.${REGION}.amazonaws.com` && via !== `dynamodb.${REGION}.amazonaws.com`)
          findings.push(`${at}: kms action without kms:ViaService ssm. or dynamodb.<region>.amazonaws.com`);
        // A key wildcard is only acceptable when the key is pinned by a condition as well.
        if (
          resources.some((r) => r.endsWith(':key/*')) &&
          s.Condition?.['ForAnyValue:StringEquals']?.['kms:ResourceAliases'] === undefined
        ) {
          findings.push(`${at}: kms on every key without a kms:ResourceAliases condition`);
        }
      }
    }
  }
  return findings;
}

/** A role's Allow statements as action → sorted resources. */
function grants(role: Resource): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const policy of asArray(role.Properties.Policies as Json[])) {
    expect(isObject(policy) && isObject(policy.PolicyDocument)).toBe(true);
    const document = (policy as JsonObject).PolicyDocument as JsonObject;
    for (const s of asArray(document.Statement as unknown as Statement[])) {
      expect(s.Effect, 'roles hold Allow statements only').toBe('Allow');
      for (const action of asArray(s.Action)) {
        out[action] ??= new Set();
        for (const r of asArray(s.Resource as Json | Json[])) out[action].add(render(r));
      }
    }
  }
  return Object.fromEntries(Object.entries(out).map(([a, set]) => [a, [...set].sort()]));
}

// ---------------------------------------------------------------------------------------------
// Secrets in environment values
// ---------------------------------------------------------------------------------------------
const SECRET_VALUE_PATTERNS: [string, RegExp][] = [
  ['an Alibaba Cloud AccessKey id', /LTAI[0-9A-Za-z]{8,}/],
  ['an AWS access key id', /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['a long base64 string', /[A-Za-z0-9+/]{40,}={0,2}/],
  ['a long hex string', /\b[0-9a-fA-F]{32,}\b/],
  ['a PEM key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['a CloudFormation secret reference', /\{\{resolve:(ssm-secure|secretsmanager):/],
];
const SECRET_NAME = /SECRET|PRIVATE|PASSWORD|PASSWD|CREDENTIAL|ACCESS_?KEY/i;

function secretFindings(variables: Record<string, Json>): string[] {
  const findings: string[] = [];
  for (const [name, value] of Object.entries(variables)) {
    if (SECRET_NAME.test(name)) findings.push(`${name}: the name says it holds a secret`);
    const text = render(value);
    for (const [what, pattern] of SECRET_VALUE_PATTERNS) if (pattern.test(text)) findings.push(`${name}: looks like ${what}`);
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// What cfn-lint used to report (E3033 on alarm actions, W8003 on the condition), checked without it
// ---------------------------------------------------------------------------------------------
const ALARM_ACTIONS = ['AlarmActions', 'OKActions', 'InsufficientDataActions'];

/** Every string anywhere in a value, intrinsics' arguments included. */
function strings(value: Json | undefined): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (isObject(value)) return Object.values(value).flatMap(strings);
  return [];
}

/** Alarm actions holding an empty string (E3033), and Fn::Equals of two literals in Conditions (W8003). */
function lintCauses(t: Template): string[] {
  const findings: string[] = [];
  for (const [id, alarm] of resourcesOfType(t, 'AWS::CloudWatch::Alarm')) {
    for (const key of ALARM_ACTIONS) {
      if (strings(alarm.Properties[key]).some((s) => s.trim() === '')) findings.push(`${id}.${key}: an empty ARN`);
    }
  }
  const walk = (value: Json | undefined, where: string) => {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, `${where}[${i}]`);
    } else if (isObject(value)) {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'Fn::Equals' && Array.isArray(inner) && inner.every((arg) => !isObject(arg) && !Array.isArray(arg)))
          findings.push(`${where}: Fn::Equals of two literals ${JSON.stringify(inner)}`);
        walk(inner, `${where}.${key}`);
      }
    }
  };
  for (const [name, condition] of Object.entries(t.Conditions ?? {})) walk(condition, `Conditions.${name}`);
  return findings;
}

// ---------------------------------------------------------------------------------------------
// A small ZIP reader: central directory, local headers, deflate/store, CRC-32
// ---------------------------------------------------------------------------------------------
interface ZipEntry {
  name: string;
  data: Buffer;
  mode: number;
}

function readZip(zip: Buffer): ZipEntry[] {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory entry');
    const method = zip.readUInt16LE(p + 10);
    const crc = zip.readUInt32LE(p + 16);
    const compressedSize = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLength = zip.readUInt16LE(p + 28);
    const extraLength = zip.readUInt16LE(p + 30);
    const commentLength = zip.readUInt16LE(p + 32);
    const external = zip.readUInt32LE(p + 38);
    const localOffset = zip.readUInt32LE(p + 42);
    const name = zip.subarray(p + 46, p + 46 + nameLength).toString('utf8');
    p += 46 + nameLength + extraLength + commentLength;

    if (zip.readUInt32LE(localOffset) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
    const localName = zip.subarray(localOffset + 30, localOffset + 30 + zip.readUInt16LE(localOffset + 26)).toString('utf8');
    if (localName !== name) throw new Error(`local header names ${localName}, central directory ${name}`);
    const start = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const raw = zip.subarray(start, start + compressedSize);
    const data = method === 8 ? inflateRawSync(raw) : method === 0 ? Buffer.from(raw) : undefined;
    if (!data) throw new Error(`${name}: unsupported compression method ${method}`);
    if (data.length !== size) throw new Error(`${name}: ${data.length} bytes, the directory says ${size}`);
    if (crc32(data) !== crc) throw new Error(`${name}: CRC mismatch`);
    entries.push({ name, data, mode: external >>> 16 });
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------
// Packaging runs
// ---------------------------------------------------------------------------------------------
interface Run {
  dir: string;
  template: Template;
  networkAttempts: string;
  seconds: number;
}

const scratch = mkdtempSync(join(tmpdir(), 'ctb-package-'));

async function runPackage(args: string[], dir: string, label: string): Promise<Run> {
  const networkLog = join(scratch, `${label}-network.log`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  // No credentials at all: packaging must not need them.
  for (const name of Object.keys(env)) {
    if (
      /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|SECURITY_TOKEN|PROFILE|DEFAULT_PROFILE|CONFIG_FILE|SHARED_CREDENTIALS_FILE)$/.test(
        name,
      )
    )
      delete env[name];
  }
  Object.assign(env, {
    NODE_OPTIONS: `--require ${JSON.stringify(join(root, 'test/deploy/block-network.cjs'))}`,
    BLOCK_NETWORK_LOG: networkLog,
    AWS_EC2_METADATA_DISABLED: 'true',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
  });
  const started = Date.now();
  try {
    await exec('npm', ['run', '--silent', 'package', '--', ...args], { cwd: root, env, maxBuffer: 32 * 1024 * 1024, timeout: 180_000 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm run package ${args.join(' ')} failed:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error });
  }
  let networkAttempts = '';
  try {
    networkAttempts = readFileSync(networkLog, 'utf8');
  } catch {
    // no attempt, no file
  }
  const template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  return { dir, template, networkAttempts, seconds: (Date.now() - started) / 1000 };
}

let dev: Run;
let prod: Run;

beforeAll(async () => {
  const prodDir = join(scratch, 'prod');
  prod = await runPackage(
    [
      '--stage',
      variant.stage,
      '--param=authorizer=jwt',
      `--param=jwtIssuer=${variant.jwtIssuer}`,
      `--param=jwtAudience=${variant.jwtAudience}`,
      ...scheduledOperations.map((op) => `--param=${camel(op.functionName)}RotationRate=${variant.rotationRate}`),
      ...queuedOperations.map((op) => `--param=${camel(op.functionName)}BatchSize=${variant.batchSize}`),
      ...endpointVariables.map((variable) => `--param=${camel(variable)}=${variant.endpoint(variable)}`),
      `--param=alarmTopicArn=${variant.alarmTopicArn}`,
      `--param=eventPublishers=${JSON.stringify(variant.eventPublishers)}`,
      `--param=tokenTableKmsKeyArn=${variant.tokenTableKmsKeyArn}`,
      `--param=tracing=${variant.tracing}`,
      `--param=throttleBurstLimit=${variant.throttleBurstLimit}`,
      `--param=throttleRateLimit=${variant.throttleRateLimit}`,
      '--package',
      prodDir,
    ],
    prodDir,
    'prod',
  );
  dev = await runPackage([], serverlessDir, 'dev');
}, 300_000);

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
describe('the checks themselves catch what they are for', () => {
  it('flags ssm/kms/sqs actions on "*", wildcard actions and kms without the SSM condition', () => {
    const bad: FoundDocument = {
      where: 'synthetic',
      statements: [
        { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*' },
        { Effect: 'Allow', Action: ['sqs:ReceiveMessage'], Resource: { 'Fn::Sub': `arn:${PSEUDO}:sqs:${REGION}:${ACCOUNT}:*` } },
        { Effect: 'Allow', Action: 'kms:Decrypt', Resource: { 'Fn::Sub': `arn:${PSEUDO}:kms:${REGION}:${ACCOUNT}:key/abc` } },
        {
          Effect: 'Allow',
          Action: 'kms:*',
          Resource: 'arn:aws:kms:r:1:key/abc',
          Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': `ssm.${REGION}.amazonaws.com` } } },
        },
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: { 'Fn::Sub': `arn:${PSEUDO}:kms:${REGION}:${ACCOUNT}:key/*` },
          Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': `ssm.${REGION}.amazonaws.com` } } },
        },
        { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' },
        { Effect: 'Allow', Action: 'ssm:PutParameter', Resource: { 'Fn::Sub': `arn:${PSEUDO}:ssm:${REGION}:${ACCOUNT}:parameter/*` } },
      ],
    };
    const findings = iamFindings([bad]);
    expect(findings.some((f) => f.includes('ssm:GetParameter on *'))).toBe(true);
    expect(findings.some((f) => f.includes(':sqs:') && f.includes(':*'))).toBe(true);
    expect(findings.some((f) => f.includes('statement 2') && f.includes('kms:ViaService'))).toBe(true);
    expect(findings.some((f) => f.includes('wildcard action kms:*'))).toBe(true);
    expect(findings.some((f) => f.includes('statement 4') && f.includes('kms:ResourceAliases'))).toBe(true);
    expect(findings.some((f) => f.includes('NotAction'))).toBe(true);
    expect(findings.some((f) => f.includes('ssm:PutParameter on') && f.endsWith(':parameter/*'))).toBe(true);
    // …and Deny statements may be broad.
    expect(iamFindings([{ where: 'deny', statements: [{ Effect: 'Deny', Action: 'sqs:*', Resource: '*' }] }])).toEqual([]);
  });

  it('flags secret-looking environment values and names', () => {
    // Key-shaped values are assembled here so that no committed line looks like a real key.
    expect(secretFindings({ A: ['LTAI', '5tQ2bXw7yZ1aB3cD4eF5'].join('') })).toHaveLength(1);
    expect(secretFindings({ A: ['AKIA', 'IOSFODNN7EXAMPLE'].join('') })).toHaveLength(1);
    expect(secretFindings({ A: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYabcd' })).not.toEqual([]);
    expect(secretFindings({ A: '0123456789abcdef0123456789abcdef' })).not.toEqual([]);
    expect(secretFindings({ A: '{{resolve:ssm-secure:/x:1}}' })).not.toEqual([]);
    expect(secretFindings({ ALIYUN_ACCESS_KEY_SECRET: 'x' })).not.toEqual([]);
    expect(secretFindings({ UCLOUD_PRIVATE_KEY: 'x' })).not.toEqual([]);
    expect(
      secretFindings({ ALIYUN_KEYS_PARAMETER: '/cloud-token-broker/dev/keys/aliyun', UCLOUD_API_ENDPOINT: 'https://api.ucloud.cn' }),
    ).toEqual([]);
  });

  it('reads every entry of a zip and notices corruption', async () => {
    const { zipEntries } = (await import(pathToFileURL(join(root, 'scripts/package-artifacts.mjs')).href)) as {
      zipEntries: (entries: { name: string; data: Buffer }[]) => Buffer;
    };
    const zip = zipEntries([
      { name: 'index.mjs', data: Buffer.from('export const handler = 1;') },
      { name: 'extra.js', data: Buffer.from('x'.repeat(1000)) },
    ]);
    expect(readZip(zip).map((e) => e.name)).toEqual(['index.mjs', 'extra.js']);
    const corrupt = Buffer.from(zip);
    corrupt[40] = corrupt[40]! ^ 0xff; // inside the first entry's compressed data
    expect(() => readZip(corrupt)).toThrow();
  });

  it('the network block records (and refuses) connections and DNS lookups', async () => {
    const log = join(scratch, 'self-test-network.log');
    const script =
      "require('node:net').connect(443, '192.0.2.1').on('error', () => {}); require('node:dns').lookup('sts.amazonaws.com', () => {});";
    await exec(process.execPath, ['--require', join(root, 'test/deploy/block-network.cjs'), '-e', script], {
      env: { ...process.env, BLOCK_NETWORK_LOG: log },
    });
    const attempts = readFileSync(log, 'utf8');
    expect(attempts).toContain('192.0.2.1');
    expect(attempts).toContain('sts.amazonaws.com');
  });

  it('flags what made cfn-lint fail: an empty alarm action, a condition on two literals', () => {
    const old: Template = {
      Resources: {
        A: {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: { AlarmActions: { 'Fn::If': ['HasAlarmTopic', [''], { Ref: 'AWS::NoValue' }] }, OKActions: [''] },
        },
        B: { Type: 'AWS::CloudWatch::Alarm', Properties: { AlarmActions: ['arn:aws:sns:ap-southeast-1:123456789012:t'] } },
      },
      Conditions: {
        HasAlarmTopic: { 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] },
        IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] },
      },
    };
    expect(lintCauses(old).sort()).toEqual([
      'A.AlarmActions: an empty ARN',
      'A.OKActions: an empty ARN',
      'Conditions.HasAlarmTopic.Fn::Not[0]: Fn::Equals of two literals ["",""]',
    ]);
  });

  it('renders intrinsics to comparable text', () => {
    expect(render({ 'Fn::GetAtt': ['Q', 'Arn'] })).toBe('${Q.Arn}');
    expect(render({ Ref: 'Q' })).toBe('${Q}');
    expect(render({ 'Fn::Join': ['/', ['a', { Ref: 'B' }]] })).toBe('a/${B}');
    expect(render({ 'Fn::Sub': ['x-${V}', { V: { Ref: 'W' } }] })).toBe('x-${W}');
  });
});

// ---------------------------------------------------------------------------------------------
describe('npm run package', () => {
  it('runs offline: no network connection, no DNS lookup, no AWS credentials', () => {
    expect(dev.networkAttempts).toBe('');
    expect(prod.networkAttempts).toBe('');
  });

  it('writes the template and exactly one zip per function into .serverless/', () => {
    expect(functionFiles).toEqual([...operations, ...rotations].map((op) => op.functionName).sort());
    const files = readdirSync(serverlessDir).sort();
    expect(files.filter((f) => f.endsWith('.zip'))).toEqual(functionFiles.map((f) => `${f}.zip`));
    expect(files).toContain('cloudformation-template-update-stack.json');
    expect(files).toContain('cloudformation-template-create-stack.json');
    expect(files.filter((f) => !f.endsWith('.zip') && !f.endsWith('.json'))).toEqual([]);
  });

  it.each(functionFiles)('%s.zip holds index.mjs and its chunks: its own minified ESM bundle, under budget', (name) => {
    const entries = readZip(readFileSync(join(serverlessDir, `${name}.zip`)));
    const names = entries.map((e) => e.name);
    // The very files our build writes (scripts/build.mjs, as `npm run build` does), all of them
    // but its meta.json: the entry first, then the chunks.
    const built = readdirSync(join(root, 'dist', name), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name !== 'meta.json')
      .map((e) =>
        relative(join(root, 'dist', name), join(e.parentPath, e.name))
          .split(sep)
          .join('/'),
      );
    expect(names[0]).toBe('index.mjs');
    expect([...names].sort()).toEqual(built.sort());
    for (const e of entries) {
      expect(e.name).toMatch(/^(index|chunks\/[\w-]+)\.mjs$/);
      expect(e.mode & 0o444, `${e.name} readable by the Lambda runtime`).toBe(0o444);
      expect(e.data.equals(readFileSync(join(root, 'dist', name, e.name))), e.name).toBe(true);
    }
    const text = Object.fromEntries(entries.map((e) => [e.name, e.data.toString('utf8')]));
    // Every file another imports, statically or with import(), is in the zip, and every chunk is
    // imported (reached from index.mjs). What a cold start loads: index.mjs and what it imports statically.
    const importsOf = (file: string) =>
      [...text[file]!.matchAll(/\b(?:from|import)\s*(\(?)\s*["'](\.{1,2}\/[^"']+)["']/g)].map(([, paren, specifier]) => ({
        target: posix.join(posix.dirname(file), specifier!),
        dynamic: paren === '(',
      }));
    for (const file of names) for (const { target } of importsOf(file)) expect(names, `${file} imports ${target}`).toContain(target);
    const closure = (staticOnly: boolean) => {
      const seen = new Set(['index.mjs']);
      const queue = ['index.mjs'];
      for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
        for (const { target, dynamic } of importsOf(file)) {
          if ((staticOnly && dynamic) || seen.has(target)) continue;
          seen.add(target);
          queue.push(target);
        }
      }
      return seen;
    };
    expect([...closure(false)].sort()).toEqual([...names].sort());
    const loadedAtStart = closure(true);
    const bundle = entries.reduce((sum, e) => sum + e.data.length, 0);
    expect(bundle).toBeLessThan(BUNDLE_BUDGET_BYTES);
    // ESM with the handler exported, minified (few, very long lines); every file a module with
    // its own createRequire banner.
    const entry = text['index.mjs']!;
    for (const [file, code] of Object.entries(text)) expect(code.startsWith('import{createRequire'), file).toBe(true);
    expect(entry).toMatch(/export\s*\{[^}]*\bas handler\s*\}\s*;?\s*$/);
    expect(entry.length / entry.split('\n').length).toBeGreaterThan(2000);
    const whole = Object.values(text).join('\n');
    const atStart = [...loadedAtStart].map((file) => text[file]).join('\n');
    const own = operations.find((op) => op.functionName === name);
    if (own === undefined) {
      // A rotation function: no operation at all, and its own vendor's key API alone (its signer's name).
      expect(rotations.map((r) => r.functionName)).toContain(name);
      for (const op of operations) expect(whole).not.toContain(JSON.stringify(op.name));
      expect(whole.includes('TC3-HMAC-SHA256')).toBe(name.startsWith('tencent-'));
      expect(whole).not.toContain('"AmazonSQS"');
      return;
    }
    // That function's operation alone.
    expect(atStart).toContain(JSON.stringify(own.name));
    for (const other of operations.filter((op) => op !== own)) expect(whole).not.toContain(JSON.stringify(other.name));
    // The SQS client (dead-lettering refused messages) only where an SQS trigger is: its service
    // target names it. There, in a chunk loaded with import() on the first refused message, not
    // in index.mjs or a chunk it imports statically: a cold start does not parse it.
    expect(whole.includes('"AmazonSQS"')).toBe(triggerOf(own, 'sqs') !== undefined);
    expect(atStart).not.toContain('"AmazonSQS"');
    // The KMS client (sealing token items), in every function that keeps tokens in the table:
    // likewise in a chunk loaded on the first table read or write.
    if (usesTable(own)) expect(whole).toContain('"TrentService"');
    expect(atStart).not.toContain('"TrentService"');
  });

  it('the prod/jwt variant packages the same zips', () => {
    expect(
      readdirSync(prod.dir)
        .filter((f) => f.endsWith('.zip'))
        .sort(),
    ).toEqual(functionFiles.map((f) => `${f}.zip`));
  });
});

// ---------------------------------------------------------------------------------------------
describe('functions', () => {
  /**
   * The vendors' endpoint defaults, written out for the vendors there are today (an oracle apart
   * from the adapters); a vendor added since is held to its adapter's own defaults.
   */
  const defaultEndpoints: Record<string, unknown> = {
    ...Object.assign({}, ...vendorRegistry.map((vendor) => vendor.settingsDefaults())),
    ALIYUN_BPSTUDIO_ENDPOINT: 'https://bpstudio.cn-hangzhou.aliyuncs.com',
    ALIYUN_CAMS_ENDPOINT: 'https://cams.ap-southeast-1.aliyuncs.com',
    ALIYUN_IMS_ENDPOINT: 'https://ims.aliyuncs.com',
    ALIYUN_STS_ENDPOINT: 'https://sts.aliyuncs.com',
    UCLOUD_API_ENDPOINT: 'https://api.ucloud.cn',
    TENCENT_STS_ENDPOINT: 'https://sts.tencentcloudapi.com',
  };
  const vendors = [...new Set(operations.map((op) => op.vendor))];
  const expectedEnvironment = (stage: string, name: string) => ({
    // One key parameter per vendor the operations call, named after it.
    ...Object.fromEntries(
      vendors.map((vendor) => [`${vendor.toUpperCase()}_KEYS_PARAMETER`, `/cloud-token-broker/${stage}/keys/${vendor}`]),
    ),
    // The settings each vendor's adapter deploys, at its defaults (no stage sets them here).
    ...Object.fromEntries(
      vendorRegistry
        .filter((vendor) => vendors.includes(vendor.name))
        .flatMap((vendor) => (vendor.deploySettings ?? []).map((variable) => [variable, String(vendor.settingsDefaults()[variable])])),
    ),
    // ...which are, for the vendors there are today:
    ...(vendors.includes('tencent') && { TENCENT_REGION: 'ap-guangzhou' }),
    ...(vendors.includes('aliyun') && { ALIYUN_SIGNATURE: 'ACS3-HMAC-SHA256' }),
    TOKEN_TABLE: `${SERVICE}-${stage}-tokens`,
    // The alias of the key that seals the token items (infra/table.cjs).
    TOKEN_KEY_ID: `alias/${SERVICE}-${stage}-tokens`,
    POLICY_PARAMETER: '',
    KEYS_CACHE_SECONDS: '300',
    LOG_LEVEL: 'info',
    EVENT_ALLOWED_SCOPES: 'openid,aliuid',
    METRICS_NAMESPACE: `CloudTokenBroker/${stage}`,
    // One per endpoint the operations call: by default the broker's, else the stage param named after it.
    ...Object.fromEntries(
      endpointVariables.map((variable) => [variable, stage === 'dev' ? defaultEndpoints[variable] : variant.endpoint(variable)]),
    ),
    // A function with an SQS trigger, and only it, knows its dead-letter queue, by its literal name.
    ...(queuedOperations.some((op) => op.functionName === name) && { DEAD_LETTER_QUEUE: `${SERVICE}-${stage}-${name}-dlq` }),
    // An STS operation, and only it, knows the role it assumes: empty until the stage sets it.
    ...roleVariable(name),
  });
  const roleVariable = (name: string) => {
    const variable = operations.find((op) => op.functionName === name)?.assumesRole?.roleArn;
    return variable === undefined ? {} : { [variable]: '' };
  };

  it('knows the default of every endpoint the operations call', () => {
    expect(endpointVariables.every((variable) => variable in defaultEndpoints)).toBe(true);
  });

  it('deploys exactly one function per operation and per master-key rotation', () => {
    for (const run of [dev, prod]) {
      const names = resourcesOfType(run.template, 'AWS::Lambda::Function').map(([, r]) => r.Properties.FunctionName);
      const stage = run === dev ? 'dev' : variant.stage;
      expect(names.sort()).toEqual(functionFiles.map((f) => `${SERVICE}-${stage}-${f}`));
    }
  });

  it.each(operations.map((op) => op.functionName))(
    "%s: nodejs22.x on arm64, index.handler, 256 MB, a timeout within API Gateway's 30 s",
    (name) => {
      const [, fn] = functionResource(dev.template, 'dev', name);
      const p = fn.Properties;
      expect(p.Runtime).toBe('nodejs22.x');
      expect(p.Architectures).toEqual(['arm64']);
      expect(p.Handler).toBe('index.handler');
      expect(p.MemorySize).toBe(256);
      expect(p.Timeout).toBeGreaterThanOrEqual(5);
      expect(p.Timeout).toBeLessThanOrEqual(10);
      expect(render((p.Code as JsonObject).S3Key)).toMatch(new RegExp(`/${name}\\.zip$`));
    },
  );

  it.each(operations.map((op) => op.functionName))(
    '%s: the environment of docs/contracts.md, key parameters named after the stage',
    (name) => {
      expect(functionResource(dev.template, 'dev', name)[1].Properties.Environment).toEqual({
        Variables: expectedEnvironment('dev', name),
      });
      expect(functionResource(prod.template, variant.stage, name)[1].Properties.Environment).toEqual({
        Variables: expectedEnvironment(variant.stage, name),
      });
    },
  );

  it('no environment value holds a secret, and no name says it does', () => {
    for (const run of [dev, prod]) {
      for (const [id, fn] of resourcesOfType(run.template, 'AWS::Lambda::Function')) {
        const variables = ((fn.Properties.Environment as JsonObject | undefined)?.Variables ?? {}) as Record<string, Json>;
        expect(secretFindings(variables), id).toEqual([]);
      }
      const text = JSON.stringify(run.template);
      expect(text).not.toMatch(/LTAI[0-9A-Za-z]{8,}|\b(AKIA|ASIA)[0-9A-Z]{16}\b|\{\{resolve:(ssm-secure|secretsmanager):/);
    }
  });

  it('serverless.yml and infra/ use neither ${ssm:} (secrets into .serverless/) nor ${aws:} (calls STS)', () => {
    const sources = [
      'serverless.yml',
      ...readdirSync(join(root, 'infra'))
        .filter((f) => /\.(ya?ml|c?js)$/.test(f))
        .map((f) => `infra/${f}`),
    ];
    expect(sources.length).toBeGreaterThan(1);
    for (const file of sources) {
      const comment = file.endsWith('.yml') ? '#' : '//';
      const code = readFileSync(join(root, file), 'utf8')
        .split('\n')
        .filter((line) => !line.trimStart().startsWith(comment))
        .map((line) => (comment === '#' ? line.replace(/\s#.*$/, '') : line))
        .join('\n');
      expect(code, file).not.toMatch(/\$\{\s*(ssm|aws)\s*:/);
      // Nor a variable built at run time, e.g. `param:` + name or resolveVariable('aws:...').
      expect(code, file).not.toMatch(/resolveVariable\(\s*['"`](ssm|aws)\s*:/);
    }
  });

  it("Lambda's own tracing: PassThrough by default, Active with the stage param tracing", () => {
    for (const [run, stage, mode] of [
      [dev, 'dev', 'PassThrough'],
      [prod, variant.stage, variant.tracing],
    ] as const) {
      for (const name of functionFiles)
        expect(functionResource(run.template, stage, name)[1].Properties.TracingConfig).toEqual({ Mode: mode });
    }
  });

  it("keeps logs for the stage's retention (30 days; prod 90)", () => {
    for (const [run, stage, days] of [
      [dev, 'dev', 30],
      [prod, variant.stage, 90],
    ] as const) {
      for (const name of functionFiles) {
        const groups = resourcesOfType(run.template, 'AWS::Logs::LogGroup').filter(
          ([, r]) => r.Properties.LogGroupName === `/aws/lambda/${SERVICE}-${stage}-${name}`,
        );
        expect(groups, name).toHaveLength(1);
        expect(groups[0]![1].Properties.RetentionInDays).toBe(days);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('HTTP API', () => {
  function routesOf(t: Template) {
    return Object.fromEntries(resourcesOfType(t, 'AWS::ApiGatewayV2::Route').map(([, r]) => [String(r.Properties.RouteKey), r.Properties]));
  }

  function targetFunctionId(t: Template, route: JsonObject): string {
    const target = render(route.Target);
    const integrationId = referencedId(target.replace(/^integrations\//, ''));
    const integration = resource(t, integrationId, 'AWS::ApiGatewayV2::Integration');
    expect(integration.Properties.IntegrationType).toBe('AWS_PROXY');
    expect(integration.Properties.PayloadFormatVersion).toBe('2.0');
    return referencedId(render(integration.Properties.IntegrationUri));
  }

  it("has exactly one POST route per operation, at the operation's route, to its own function", () => {
    for (const [run, stage] of [
      [dev, 'dev'],
      [prod, variant.stage],
    ] as const) {
      const routes = routesOf(run.template);
      expect(Object.keys(routes).sort()).toEqual(operations.map((op) => `POST ${op.route}`).sort());
      for (const op of operations) {
        const [fnId] = functionResource(run.template, stage, op.functionName);
        expect(targetFunctionId(run.template, routes[`POST ${op.route}`]!)).toBe(fnId);
      }
    }
  });

  it('requires AWS IAM (SigV4) authorization on every route by default', () => {
    for (const route of Object.values(routesOf(dev.template))) {
      expect(route.AuthorizationType).toBe('AWS_IAM');
      expect(route.AuthorizerId).toBeUndefined();
    }
    expect(resourcesOfType(dev.template, 'AWS::ApiGatewayV2::Authorizer')).toEqual([]);
  });

  it("switches every route to a JWT authorizer with the stage's issuer and audience (param authorizer=jwt)", () => {
    const authorizers = resourcesOfType(prod.template, 'AWS::ApiGatewayV2::Authorizer');
    expect(authorizers).toHaveLength(1);
    const [authorizerId, authorizer] = authorizers[0]!;
    expect(authorizer.Properties.AuthorizerType).toBe('JWT');
    expect(authorizer.Properties.IdentitySource).toEqual(['$request.header.Authorization']);
    expect(authorizer.Properties.JwtConfiguration).toEqual({ Issuer: variant.jwtIssuer, Audience: [variant.jwtAudience] });
    for (const route of Object.values(routesOf(prod.template))) {
      expect(route.AuthorizationType).toBe('JWT');
      expect(render(route.AuthorizerId)).toBe(`\${${authorizerId}}`);
    }
  });

  it('is the only way in: API Gateway may invoke the functions, through this API only', () => {
    const permissions = resourcesOfType(dev.template, 'AWS::Lambda::Permission').filter(
      ([, r]) => r.Properties.Principal === 'apigateway.amazonaws.com',
    );
    expect(permissions).toHaveLength(operations.length);
    for (const [, p] of permissions) {
      expect(render(p.Properties.SourceArn)).toBe('arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*');
    }
    expect(dev.template.Outputs?.HttpApiUrl).toBeDefined();
  });

  /** The HTTP API's one stage, osls's `$default`. */
  const stageOf = (t: Template) => {
    const stages = resourcesOfType(t, 'AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    return stages[0]![1].Properties;
  };

  it('writes a JSON access log line per request to a log group of its own with the retention of the stage', () => {
    for (const [run, days] of [
      [dev, 30],
      [prod, 90],
    ] as const) {
      const settings = stageOf(run.template).AccessLogSettings as JsonObject | undefined;
      expect(settings, 'access logging').toBeDefined();
      const group = resource(run.template, referencedId(render(settings!.DestinationArn)), 'AWS::Logs::LogGroup');
      expect(group.Properties.LogGroupName).toBe(`/aws/http-api/${SERVICE}-${run === dev ? 'dev' : variant.stage}`);
      expect(group.Properties.RetentionInDays).toBe(days);
      const fields = JSON.parse(String(settings!.Format)) as Record<string, string>;
      // Who asked for what, and how it ended, refusals by the authorizer included.
      expect(fields).toMatchObject({
        requestId: '$context.requestId',
        routeKey: '$context.routeKey',
        status: '$context.status',
        caller: '$context.identity.userArn',
        jwtIssuer: '$context.authorizer.claims.iss',
        jwtSubject: '$context.authorizer.claims.sub',
        authorizerError: '$context.authorizer.error',
        integrationError: '$context.integrationErrorMessage',
      });
      // Each field one variable, none a header (a bearer token, a signature) or any claim but who the caller is.
      for (const [name, value] of Object.entries(fields)) {
        expect(value, name).toMatch(/^\$context\.[A-Za-z.]+$/);
        expect(value, name).not.toMatch(/header|authorization|\.claims\.(?!iss$|sub$)/i);
      }
    }
  });

  it('throttles every route by default (burst 200, 100 requests/s), as the stage params throttleBurstLimit and throttleRateLimit say', () => {
    expect(stageOf(dev.template).DefaultRouteSettings).toMatchObject({ ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100 });
    expect(stageOf(prod.template).DefaultRouteSettings).toMatchObject({
      ThrottlingBurstLimit: variant.throttleBurstLimit,
      ThrottlingRateLimit: variant.throttleRateLimit,
    });
    // No route opts out with settings of its own.
    for (const run of [dev, prod]) expect(stageOf(run.template).RouteSettings).toBeUndefined();
  });
});

describe('production stages keep their records', () => {
  /** The dead-letter queues (the queues some queue or rule target sends to) and every log group. */
  const kept = (t: Template) => {
    const deadLetterIds = new Set<string>();
    for (const [, q] of resourcesOfType(t, 'AWS::SQS::Queue')) {
      const redrive = q.Properties.RedrivePolicy as JsonObject | undefined;
      if (redrive) deadLetterIds.add(referencedId(render(redrive.deadLetterTargetArn)));
    }
    for (const [, r] of resourcesOfType(t, 'AWS::Events::Rule')) {
      for (const target of asArray(r.Properties.Targets as JsonObject[])) {
        const config = target.DeadLetterConfig as JsonObject | undefined;
        if (config) deadLetterIds.add(referencedId(render(config.Arn)));
      }
    }
    return [...deadLetterIds, ...resourcesOfType(t, 'AWS::Logs::LogGroup').map(([id]) => id)];
  };

  it('prod (stage param retain): every dead-letter queue and log group is retained on delete and replacement', () => {
    const ids = kept(prod.template);
    expect(ids.length).toBe(2 * queuedOperations.length + operations.length + rotations.length + 1);
    for (const id of ids) {
      expect(prod.template.Resources[id]!.DeletionPolicy, id).toBe('Retain');
      expect(prod.template.Resources[id]!.UpdateReplacePolicy, id).toBe('Retain');
    }
  });

  it('other stages (retain false by default) delete them with the stack', () => {
    for (const id of kept(dev.template)) {
      expect(dev.template.Resources[id]!.DeletionPolicy, id).toBeUndefined();
      expect(dev.template.Resources[id]!.UpdateReplacePolicy, id).toBeUndefined();
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('scheduled rotation', () => {
  function schedulesOf(t: Template, fnId: string) {
    return resourcesOfType(t, 'AWS::Events::Rule').filter(
      ([, r]) =>
        r.Properties.ScheduleExpression !== undefined &&
        asArray(r.Properties.Targets as Json[]).some((target) => isObject(target) && render(target.Arn) === `\${${fnId}.Arn}`),
    );
  }

  it('only operations that return credentials have a schedule trigger (rotation needs expiresAt)', () => {
    expect(scheduledOperations.length).toBeGreaterThan(0);
    for (const op of scheduledOperations) expect(op.expiresAt, op.functionName).toBeDefined();
  });

  it.each(scheduledOperations.map((op) => op.functionName))(
    '%s has an enabled schedule with a {"rotate": [...]} input, allowed to invoke it',
    (name) => {
      const [fnId] = functionResource(dev.template, 'dev', name);
      const rules = schedulesOf(dev.template, fnId);
      expect(rules).toHaveLength(1);
      const [ruleId, rule] = rules[0]!;
      expect(rule.Properties.State).toBe('ENABLED');
      expect(String(rule.Properties.ScheduleExpression)).toMatch(/^rate\(\d+ (minute|minutes|hour|hours)\)$/);
      const targets = rule.Properties.Targets as JsonObject[];
      expect(targets).toHaveLength(1);
      expect(JSON.parse(String(targets[0]!.Input))).toEqual({ rotate: [] });
      const permissions = resourcesOfType(dev.template, 'AWS::Lambda::Permission').filter(
        ([, p]) => p.Properties.Principal === 'events.amazonaws.com' && render(p.Properties.SourceArn) === `\${${ruleId}.Arn}`,
      );
      expect(permissions).toHaveLength(1);
      expect(render(permissions[0]![1].Properties.FunctionName)).toBe(`\${${fnId}.Arn}`);
    },
  );

  it.each(scheduledOperations.map((op) => op.functionName))(
    "%s: the spec's rate by default, the stage param <fn>RotationRate when set",
    (name) => {
      const op = operations.find((o) => o.functionName === name)!;
      const rate = (run: Run, stage: string) => {
        const [fnId] = functionResource(run.template, stage, name);
        return schedulesOf(run.template, fnId).map(([, r]) => r.Properties.ScheduleExpression);
      };
      expect(rate(dev, 'dev')).toEqual([triggerOf(op, 'schedule')!.rate]);
      expect(rate(prod, variant.stage)).toEqual([variant.rotationRate]);
    },
  );

  it('tokens of a fixed lifetime are rotated, by default, before the HTTPS path stops serving them', () => {
    // Operations whose lifetime does not depend on the answer (BPStudio: 30 minutes).
    const fixed = scheduledOperations.flatMap((op) => {
      let lifetimeMs: number | undefined;
      try {
        lifetimeMs = op.expiresAt!({} as never, 0);
      } catch {
        return [];
      }
      return Number.isFinite(lifetimeMs) ? [{ op, lifetimeMs: lifetimeMs! }] : [];
    });
    expect(fixed.map(({ op }) => op.functionName)).toContain('bpstudio-get-token');
    for (const { op, lifetimeMs } of fixed) {
      const [, count, unit] = /^rate\((\d+) (minute|hour)s?\)$/.exec(triggerOf(op, 'schedule')!.rate)!;
      const periodMs = Number(count) * (unit === 'hour' ? 3_600_000 : 60_000);
      expect(periodMs, op.functionName).toBeLessThanOrEqual(lifetimeMs * (ROTATE_WHEN_LEFT - SERVE_WHILE_LEFT));
    }
  });

  it.each(operations.filter((op) => !scheduledOperations.includes(op)).map((op) => op.functionName))(
    '%s (no schedule trigger) has no schedule',
    (name) => {
      const [fnId] = functionResource(dev.template, 'dev', name);
      expect(schedulesOf(dev.template, fnId)).toEqual([]);
    },
  );
});

// ---------------------------------------------------------------------------------------------
describe.each(queuedOperations.map((op) => op.functionName))(
  '%s: EventBridge rule → its own SQS queue → function, dead-letter queue',
  (name) => {
    function mapping(t: Template, stage: string) {
      const [fnId, fn] = functionResource(t, stage, name);
      const mappings = resourcesOfType(t, 'AWS::Lambda::EventSourceMapping').filter(
        ([, esm]) => render(esm.Properties.FunctionName) === `\${${fnId}.Arn}`,
      );
      expect(mappings).toHaveLength(1);
      const [, esm] = mappings[0]!;
      const queueId = referencedId(render(esm.Properties.EventSourceArn));
      return { fn, esm, queueId, queue: resource(t, queueId, 'AWS::SQS::Queue') };
    }

    it('one event source mapping per queued operation, each on a queue of its own', () => {
      const queues = resourcesOfType(dev.template, 'AWS::Lambda::EventSourceMapping').map(([, esm]) =>
        referencedId(render(esm.Properties.EventSourceArn)),
      );
      expect(queues).toHaveLength(queuedOperations.length);
      expect(new Set(queues).size).toBe(queues.length);
    });

    it('the function consumes its queue with partial batch responses', () => {
      const { esm } = mapping(dev.template, 'dev');
      expect(esm.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect(esm.Properties.BatchSize).toBe(5);
      expect(esm.Properties.Enabled).toBe(true);
      expect(mapping(prod.template, variant.stage).esm.Properties.BatchSize).toBe(variant.batchSize);
    });

    it('the queue hides a message for at least 6 × the function timeout and redrives to a dead-letter queue after 5 receives', () => {
      const { fn, esm, queue } = mapping(dev.template, 'dev');
      const window = Number(esm.Properties.MaximumBatchingWindowInSeconds ?? 0);
      expect(Number(queue.Properties.VisibilityTimeout)).toBeGreaterThanOrEqual(6 * Number(fn.Properties.Timeout) + window);
      const redrive = queue.Properties.RedrivePolicy as JsonObject;
      expect(redrive.maxReceiveCount).toBe(5);
      const dlqId = referencedId(render(redrive.deadLetterTargetArn));
      const dlq = resource(dev.template, dlqId, 'AWS::SQS::Queue');
      expect(dlq.Properties.RedrivePolicy).toBeUndefined();
      // A moved message keeps its enqueue time: the DLQ must keep messages longer than the queue.
      expect(Number(dlq.Properties.MessageRetentionPeriod)).toBeGreaterThan(Number(queue.Properties.MessageRetentionPeriod ?? 345_600));
    });

    it('the function names its dead-letter queue in DEAD_LETTER_QUEUE; the queue is encrypted with SQS-managed keys', () => {
      for (const [run, stage] of [
        [dev, 'dev'],
        [prod, variant.stage],
      ] as const) {
        const { fn, queue } = mapping(run.template, stage);
        const dlq = resource(
          run.template,
          referencedId(render((queue.Properties.RedrivePolicy as JsonObject).deadLetterTargetArn)),
          'AWS::SQS::Queue',
        );
        expect((fn.Properties.Environment as JsonObject).Variables).toMatchObject({ DEAD_LETTER_QUEUE: dlq.Properties.QueueName });
        // SQS's own keys: the role needs no kms: grant to send to it (a customer managed key would need one).
        expect(dlq.Properties.SqsManagedSseEnabled).toBe(true);
        expect(dlq.Properties.KmsMasterKeyId).toBeUndefined();
      }
    });

    it('the stack outputs name the queue and its dead-letter queue, for a redrive', () => {
      const { queueId, queue } = mapping(dev.template, 'dev');
      const dlqId = referencedId(render((queue.Properties.RedrivePolicy as JsonObject).deadLetterTargetArn));
      const outputs = dev.template.Outputs ?? {};
      expect(render(outputs[`${queueId}Arn`]?.Value)).toBe(`\${${queueId}.Arn}`);
      expect(render(outputs[`${dlqId}Arn`]?.Value)).toBe(`\${${dlqId}.Arn}`);
      expect(render(outputs[`${dlqId}Url`]?.Value)).toBe(`\${${dlqId}}`);
    });

    it('an alarm fires on the first message visible in the dead-letter queue', () => {
      const { queue } = mapping(dev.template, 'dev');
      const dlqId = referencedId(render((queue.Properties.RedrivePolicy as JsonObject).deadLetterTargetArn));
      const alarms = resourcesOfType(dev.template, 'AWS::CloudWatch::Alarm').filter(
        ([, a]) =>
          a.Properties.Namespace === 'AWS/SQS' &&
          asArray(a.Properties.Dimensions as JsonObject[]).some(
            (d) => d.Name === 'QueueName' && render(d.Value) === `\${${dlqId}.QueueName}`,
          ),
      );
      expect(alarms).toHaveLength(1);
      const p = alarms[0]![1].Properties;
      expect(p.MetricName).toBe('ApproximateNumberOfMessagesVisible');
      expect(p.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
      expect(p.Threshold).toBe(1);
    });

    it('an EventBridge rule sends its events to the queue, and the queue policy admits that rule only', () => {
      const { queueId } = mapping(dev.template, 'dev');
      const rules = resourcesOfType(dev.template, 'AWS::Events::Rule').filter(
        ([, r]) =>
          r.Properties.EventPattern !== undefined &&
          (r.Properties.Targets as JsonObject[]).some((t) => render(t.Arn) === `\${${queueId}.Arn}`),
      );
      expect(rules).toHaveLength(1);
      const [ruleId, rule] = rules[0]!;
      // The stage's own bus, never the account's default one anybody with events:PutEvents can reach.
      expect(render(rule.Properties.EventBusName)).toBe('${EventBus}');
      const pattern = rule.Properties.EventPattern as JsonObject;
      expect(Object.keys(pattern).sort()).toEqual(['detail-type', 'source']);
      if (name === 'ims-provision-external-application') {
        // Tenant onboarding provisions the external application (params.default in serverless.yml).
        expect(pattern).toEqual({ source: ['cloud-token-broker.tenants'], 'detail-type': ['TenantOnboarded'] });
      }
      expect((rule.Properties.Targets as JsonObject[]).map((t) => render(t.Arn))).toEqual([`\${${queueId}.Arn}`]);

      const policies = resourcesOfType(dev.template, 'AWS::SQS::QueuePolicy').filter(([, p]) =>
        (p.Properties.Queues as Json[]).map(render).includes(`\${${queueId}}`),
      );
      expect(policies).toHaveLength(1);
      const policy = policies[0]![1].Properties;
      expect((policy.Queues as Json[]).map(render)).toEqual([`\${${queueId}}`]);
      const allows = asArray((policy.PolicyDocument as JsonObject).Statement as unknown as Statement[]).filter((s) => s.Effect === 'Allow');
      expect(allows).toHaveLength(1);
      const [allow] = allows;
      expect(allow!.Principal).toEqual({ Service: 'events.amazonaws.com' });
      expect(asArray(allow!.Action)).toEqual(['sqs:SendMessage']);
      expect(asArray(allow!.Resource as Json).map(render)).toEqual([`\${${queueId}.Arn}`]);
      expect(render(allow!.Condition?.ArnEquals?.['aws:SourceArn'])).toBe(`\${${ruleId}.Arn}`);
      // Any other sender of the account is denied outright, whatever its own IAM policy says.
      const denies = asArray((policy.PolicyDocument as JsonObject).Statement as unknown as Statement[]).filter(
        (s) => s.Effect === 'Deny' && asArray(s.Action).includes('sqs:SendMessage'),
      );
      expect(denies).toHaveLength(1);
      expect(denies[0]!.Principal).toBe('*');
      expect(render(denies[0]!.Condition?.ArnNotEquals?.['aws:SourceArn'])).toBe(`\${${ruleId}.Arn}`);
    });

    it('an event the rule cannot deliver goes to a dead-letter queue only that rule may send to, alarmed on its first message', () => {
      for (const run of [dev, prod]) {
        const { queueId } = mapping(run.template, run === dev ? 'dev' : variant.stage);
        const [ruleId, rule] = resourcesOfType(run.template, 'AWS::Events::Rule').find(([, r]) =>
          asArray(r.Properties.Targets as JsonObject[]).some((t) => render(t.Arn) === `\${${queueId}.Arn}`),
        )!;
        const [target] = rule.Properties.Targets as JsonObject[];
        // Retried for at most a day (EventBridge's bounds), then dead-lettered rather than dropped.
        const retry = target!.RetryPolicy as JsonObject;
        expect(Number(retry.MaximumEventAgeInSeconds)).toBeGreaterThanOrEqual(60);
        expect(Number(retry.MaximumEventAgeInSeconds)).toBeLessThanOrEqual(86_400);
        expect(Number(retry.MaximumRetryAttempts)).toBeLessThanOrEqual(185);
        const dlqId = referencedId(render((target!.DeadLetterConfig as JsonObject | undefined)?.Arn));
        const dlq = resource(run.template, dlqId, 'AWS::SQS::Queue');
        // Not the queue it guards, nor the function's own dead-letter queue.
        const functionDlq = referencedId(
          render((resource(run.template, queueId, 'AWS::SQS::Queue').Properties.RedrivePolicy as JsonObject).deadLetterTargetArn),
        );
        expect([queueId, functionDlq]).not.toContain(dlqId);
        expect(dlq.Properties.SqsManagedSseEnabled).toBe(true);
        expect(dlq.Properties.MessageRetentionPeriod).toBe(1_209_600);

        const policies = resourcesOfType(run.template, 'AWS::SQS::QueuePolicy').filter(([, p]) =>
          (p.Properties.Queues as Json[]).map(render).includes(`\${${dlqId}}`),
        );
        expect(policies).toHaveLength(1);
        const statements = asArray((policies[0]![1].Properties.PolicyDocument as JsonObject).Statement as unknown as Statement[]);
        const allows = statements.filter((s) => s.Effect === 'Allow');
        expect(allows).toHaveLength(1);
        expect(allows[0]!.Principal).toEqual({ Service: 'events.amazonaws.com' });
        expect(asArray(allows[0]!.Action)).toEqual(['sqs:SendMessage']);
        expect(asArray(allows[0]!.Resource as Json).map(render)).toEqual([`\${${dlqId}.Arn}`]);
        expect(render(allows[0]!.Condition?.ArnEquals?.['aws:SourceArn'])).toBe(`\${${ruleId}.Arn}`);
        const deny = statements.find((s) => s.Effect === 'Deny' && asArray(s.Action).includes('sqs:SendMessage'));
        expect(render(deny?.Condition?.ArnNotEquals?.['aws:SourceArn'])).toBe(`\${${ruleId}.Arn}`);

        const alarms = resourcesOfType(run.template, 'AWS::CloudWatch::Alarm').filter(([, a]) =>
          asArray(a.Properties.Dimensions as JsonObject[]).some(
            (d) => d.Name === 'QueueName' && render(d.Value) === `\${${dlqId}.QueueName}`,
          ),
        );
        expect(alarms).toHaveLength(1);
        expect(alarms[0]![1].Properties).toMatchObject({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        });
        expect(String(alarms[0]![1].Properties.AlarmDescription)).toMatch(/Runbook: docs\/runbook\.md#event-dead-letter-messages$/);
      }
    });
  },
);

describe('the event bus that feeds the queues', () => {
  const busPolicy = (run: Run) => {
    const bus = run.template.Resources.EventBus;
    expect(bus?.Type).toBe('AWS::Events::EventBus');
    return asArray((bus!.Properties.Policy as JsonObject).Statement as unknown as Statement[]);
  };

  it('by default lets nobody put events on it', () => {
    const statements = busPolicy(dev);
    expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([]);
    const [deny] = statements.filter((s) => s.Effect === 'Deny');
    expect(deny).toMatchObject({ Principal: '*', Action: 'events:PutEvents' });
    expect(deny!.Condition).toBeUndefined();
  });

  it('lets the principals of eventPublishers put events, and denies everyone else', () => {
    const statements = busPolicy(prod);
    const [allow] = statements.filter((s) => s.Effect === 'Allow');
    expect(allow).toMatchObject({ Principal: { AWS: variant.eventPublishers }, Action: 'events:PutEvents' });
    const [deny] = statements.filter((s) => s.Effect === 'Deny');
    expect(deny!.Condition?.ArnNotLike?.['aws:PrincipalArn']).toEqual(variant.eventPublishers);
  });
});

// ---------------------------------------------------------------------------------------------
describe('alarms', () => {
  it.each(operations.map((op) => op.functionName))('%s has an Errors and a Throttles alarm', (name) => {
    const [fnId] = functionResource(dev.template, 'dev', name);
    const alarms = resourcesOfType(dev.template, 'AWS::CloudWatch::Alarm').filter(
      ([, a]) =>
        a.Properties.Namespace === 'AWS/Lambda' &&
        asArray(a.Properties.Dimensions as JsonObject[]).some((d) => d.Name === 'FunctionName' && render(d.Value) === `\${${fnId}}`),
    );
    expect(alarms.map(([, a]) => a.Properties.MetricName).sort()).toEqual(['Errors', 'Throttles']);
    for (const [, a] of alarms) {
      expect(a.Properties.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
      expect(a.Properties.Threshold).toBe(1);
      expect(a.Properties.Statistic).toBe('Sum');
    }
  });

  it('there are 5 per function, 1 more per credential operation, 2 per schedule, 1 per dead-letter queue (2 per queue) and 6 per rotation', () => {
    const expected =
      5 * operations.length +
      operations.filter((op) => op.expiresAt !== undefined).length +
      2 * scheduledOperations.length +
      2 * queuedOperations.length +
      6 * rotations.length;
    for (const run of [dev, prod]) expect(resourcesOfType(run.template, 'AWS::CloudWatch::Alarm')).toHaveLength(expected);
  });

  /** The alarms on the broker's own metric `metric` of `op` (plain, or inside a metric math expression). */
  function ownAlarms(t: Template, stage: string, op: Operation, metric: string): Resource[] {
    const isOwn = (m: JsonObject | undefined) =>
      m !== undefined &&
      m.Namespace === `CloudTokenBroker/${stage}` &&
      m.MetricName === metric &&
      JSON.stringify(m.Dimensions) === JSON.stringify([{ Name: 'operation', Value: op.name }]);
    return resourcesOfType(t, 'AWS::CloudWatch::Alarm')
      .map(([, a]) => a)
      .filter(
        (a) =>
          isOwn(a.Properties as JsonObject) ||
          asArray(a.Properties.Metrics as JsonObject[]).some((m) => isOwn((m.MetricStat as JsonObject | undefined)?.Metric as JsonObject)),
      );
  }

  it.each(operations.map((op) => op.functionName))(
    "%s: alarms on the broker's own metrics: vendor throttling sustained, vendor errors, keys or policy unavailable, credentials near expiry, rotation",
    (name) => {
      const op = operations.find((o) => o.functionName === name)!;
      for (const [run, stage] of [
        [dev, 'dev'],
        [prod, variant.stage],
      ] as const) {
        const one = (metric: string) => {
          const found = ownAlarms(run.template, stage, op, metric);
          expect(found, `${stage} ${name} ${metric}`).toHaveLength(1);
          return found[0]!.Properties;
        };
        // Vendor throttling and the rate limit's refusals, summed, 3 periods in a row.
        const throttling = one('VendorThrottled');
        expect(ownAlarms(run.template, stage, op, 'RateLimited')).toEqual([expect.objectContaining({ Properties: throttling })]);
        expect(throttling).toMatchObject({
          EvaluationPeriods: 3,
          DatapointsToAlarm: 3,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        });
        expect((throttling.Metrics as JsonObject[]).filter((m) => m.ReturnData === true)).toHaveLength(1);
        expect(one('VendorFailed')).toMatchObject({ Statistic: 'Sum', ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
        expect(one('SsmFaults')).toMatchObject({ Statistic: 'Sum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
        if (op.expiresAt !== undefined) {
          expect(one('CredentialLifetimeLeft')).toMatchObject({
            Statistic: 'Minimum',
            Threshold: 25,
            ComparisonOperator: 'LessThanThreshold',
          });
        } else expect(ownAlarms(run.template, stage, op, 'CredentialLifetimeLeft')).toEqual([]);
        const schedule = triggerOf(op, 'schedule');
        if (schedule) {
          expect(one('RotationFailed')).toMatchObject({ Statistic: 'Sum', Threshold: 1 });
          // Late: no run in twice the schedule's rate; no data is itself the alarm.
          const rate = stage === 'dev' ? schedule.rate : variant.rotationRate;
          const [, count, unit] = /^rate\((\d+) (minute|hour)s?\)$/.exec(rate)!;
          const seconds = Number(count) * (unit === 'hour' ? 3600 : 60);
          expect(one('RotationRuns')).toMatchObject({
            Statistic: 'Sum',
            Period: 2 * seconds,
            Threshold: 1,
            ComparisonOperator: 'LessThanThreshold',
            TreatMissingData: 'breaching',
          });
        } else {
          expect(ownAlarms(run.template, stage, op, 'RotationFailed')).toEqual([]);
          expect(ownAlarms(run.template, stage, op, 'RotationRuns')).toEqual([]);
        }
      }
    },
  );

  it('each names its runbook entry, and docs/runbook.md has that entry', () => {
    const runbook = readFileSync(join(root, 'docs/runbook.md'), 'utf8');
    // GitHub's anchors: headings lower-cased, punctuation dropped, spaces as hyphens.
    const anchors = new Set(
      [...runbook.matchAll(/^#{1,6} +(.+)$/gm)].map((m) =>
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N} _-]/gu, '')
          .replace(/ /g, '-'),
      ),
    );
    const named = new Set<string>();
    for (const run of [dev, prod]) {
      for (const [id, a] of resourcesOfType(run.template, 'AWS::CloudWatch::Alarm')) {
        const match = /Runbook: docs\/runbook\.md#([a-z0-9-]+)$/.exec(String(a.Properties.AlarmDescription));
        expect(match, `${id}: ${a.Properties.AlarmDescription}`).not.toBeNull();
        expect(anchors, `${id} names #${match![1]}`).toContain(match![1]);
        named.add(match![1]!);
      }
    }
    expect([...named].sort()).toEqual([
      'credentials-near-expiry',
      'dead-letter-messages',
      'event-dead-letter-messages',
      'function-errors',
      'function-throttles',
      'keys-or-policy-unavailable',
      'master-key-rotation-failed',
      'master-key-rotation-late',
      'master-key-rotation-stuck',
      'master-key-too-old',
      'master-key-unknown',
      'rotation-failures',
      'rotation-late',
      'vendor-errors',
      'vendor-throttling',
    ]);
  });

  it("name only metrics the broker writes (lib/core/metrics.ts), in the stage's namespace", () => {
    for (const [run, stage] of [
      [dev, 'dev'],
      [prod, variant.stage],
    ] as const) {
      for (const [id, a] of resourcesOfType(run.template, 'AWS::CloudWatch::Alarm')) {
        const metrics = [
          a.Properties as JsonObject,
          ...asArray(a.Properties.Metrics as JsonObject[]).map((m) => (m.MetricStat as JsonObject | undefined)?.Metric as JsonObject),
        ].filter((m) => m?.MetricName !== undefined);
        expect(metrics.length, id).toBeGreaterThan(0);
        for (const m of metrics) {
          if (String(m.Namespace).startsWith('AWS/')) continue;
          expect(m.Namespace, id).toBe(`CloudTokenBroker/${stage}`);
          expect(Object.keys(METRIC_UNITS), id).toContain(m.MetricName);
        }
      }
    }
  });

  it('notify the topic of the stage param alarmTopicArn when it is set, and have no actions otherwise', () => {
    for (const [, a] of resourcesOfType(dev.template, 'AWS::CloudWatch::Alarm')) {
      expect(a.Properties.AlarmActions).toBeUndefined();
      expect(a.Properties.OKActions).toBeUndefined();
    }
    for (const [, a] of resourcesOfType(prod.template, 'AWS::CloudWatch::Alarm')) {
      expect(a.Properties.AlarmActions).toEqual([variant.alarmTopicArn]);
      expect(a.Properties.OKActions).toEqual([variant.alarmTopicArn]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('the dashboard', () => {
  interface Widget {
    type: string;
    x: number;
    y: number;
    width: number;
    height: number;
    properties: { title?: string; region?: string; metrics?: (Json[] | JsonObject)[]; query?: string; markdown?: string };
  }

  /** The stage's one dashboard: its name, and its widgets with the region filled in. */
  function dashboardOf(t: Template): { name: string; widgets: Widget[] } {
    const dashboards = resourcesOfType(t, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const { DashboardName, DashboardBody } = dashboards[0]![1].Properties;
    const body = (DashboardBody as JsonObject)['Fn::Sub'];
    expect(typeof body).toBe('string');
    // Its only variable is the region.
    expect(new Set(String(body).match(/\$\{[^}]*\}/g))).toEqual(new Set([REGION]));
    const widgets = (JSON.parse(String(body).replaceAll(REGION, 'ap-southeast-1')) as { widgets: Widget[] }).widgets;
    return { name: String(DashboardName), widgets };
  }

  /** Every metric a widget graphs: [namespace, name, dimension name, value, options] arrays, and expressions as text. */
  function graphed(widget: Widget) {
    const arrays: [string, string, string, string, JsonObject][] = [];
    const expressions: string[] = [];
    for (const m of widget.properties.metrics ?? []) {
      if (Array.isArray(m)) arrays.push(m as never);
      else expressions.push(String(m.expression));
    }
    return { arrays, expressions };
  }

  it("is one per stage, named after it, on a 24-column grid with no widget over another; every graph in the stage's region", () => {
    for (const [run, stage] of [
      [dev, 'dev'],
      [prod, variant.stage],
    ] as const) {
      const { name, widgets } = dashboardOf(run.template);
      expect(name).toBe(`${SERVICE}-${stage}`);
      const taken = new Set<string>();
      for (const w of widgets) {
        expect(w.x + w.width).toBeLessThanOrEqual(24);
        for (let x = w.x; x < w.x + w.width; x++)
          for (let y = w.y; y < w.y + w.height; y++) {
            expect(taken.has(`${x},${y}`), `${w.properties.title} at ${x},${y}`).toBe(false);
            taken.add(`${x},${y}`);
          }
        if (w.type !== 'text') expect(w.properties.region).toBe('ap-southeast-1');
      }
    }
  });

  it.each(operations.map((op) => op.functionName))(
    '%s has its widgets: requests by code, answers by source, vendor latency p50/p99, throttling and failures, faults, and its rotation or queue',
    (name) => {
      const op = operations.find((o) => o.functionName === name)!;
      for (const [run, stage] of [
        [dev, 'dev'],
        [prod, variant.stage],
      ] as const) {
        const namespace = `CloudTokenBroker/${stage}`;
        const { widgets } = dashboardOf(run.template);
        const all = widgets.map(graphed);
        const arrays = all.flatMap((g) => g.arrays);
        /** The stats a metric of this operation is graphed with. */
        const stats = (metric: string, ns = namespace, dimension = 'operation', value = op.name) =>
          arrays.filter(([n, m, d, v]) => n === ns && m === metric && d === dimension && v === value).map(([, , , , o]) => o.stat ?? 'Sum');
        expect(
          all.flatMap((g) => g.expressions),
          'requests by code',
        ).toContainEqual(`SEARCH('{${namespace},code,operation} MetricName="Requests" operation="${op.name}"', 'Sum', 300)`);
        expect(stats('Requests')).toContain('Sum');
        for (const metric of [
          'ServedFromMemory',
          'ServedFromTable',
          'ServedFromVendor',
          'VendorCalls',
          'VendorAttempts',
          'VendorThrottled',
          'VendorFailed',
        ])
          expect(stats(metric), metric).toContain('Sum');
        expect(stats('VendorLatency')).toEqual(['p50', 'p99']);
        for (const metric of ['PolicyDenials', 'SsmFaults', 'TableFaults']) expect(stats(metric), metric).toContain('Sum');
        for (const metric of ['Errors', 'Throttles'])
          expect(stats(metric, 'AWS/Lambda', 'FunctionName', `${SERVICE}-${stage}-${name}`), metric).toContain('Sum');
        if (op.ratePerSecond !== undefined) {
          expect(stats('RateLimited')).toContain('Sum');
          expect(stats('RateLimitWait')).toContain('p99');
        }
        if (op.expiresAt !== undefined) {
          expect(stats('CredentialLifetimeLeft')).toEqual(['Minimum', 'Average']);
          expect(stats('LeaseWait')).toContain('p99');
        }
        if (triggerOf(op, 'schedule')) {
          for (const metric of ['RotationRuns', 'RotationRotated', 'RotationFresh', 'RotationFailed'])
            expect(stats(metric), metric).toContain('Sum');
        }
        if (triggerOf(op, 'sqs')) {
          for (const metric of ['MessagesProcessed', 'MessagesFailed']) expect(stats(metric), metric).toContain('Sum');
          const queue = `${SERVICE}-${stage}-${name}`;
          expect(stats('ApproximateNumberOfMessagesVisible', 'AWS/SQS', 'QueueName', queue)).toHaveLength(1);
          expect(stats('ApproximateNumberOfMessagesVisible', 'AWS/SQS', 'QueueName', `${queue}-dlq`)).toHaveLength(1);
          // The names the dashboard uses are the queues' own.
          const queueNames = resourcesOfType(run.template, 'AWS::SQS::Queue').map(([, q]) => q.Properties.QueueName);
          expect(queueNames).toEqual(expect.arrayContaining([queue, `${queue}-dlq`]));
        }
        // The latest refusals and failures read this function's log group.
        const logs = widgets.filter((w) => w.type === 'log');
        expect(logs).toHaveLength(1);
        expect(logs[0]!.properties.query).toContain(`SOURCE '/aws/lambda/${SERVICE}-${stage}-${name}'`);
      }
    },
  );

  it("graphs only metrics the broker writes (lib/core/metrics.ts), in the stage's namespace, or AWS's own", () => {
    for (const [run, stage] of [
      [dev, 'dev'],
      [prod, variant.stage],
    ] as const) {
      for (const widget of dashboardOf(run.template).widgets) {
        for (const [namespace, metric] of graphed(widget).arrays) {
          if (namespace === 'AWS/Lambda' || namespace === 'AWS/SQS') continue;
          expect(namespace).toBe(`CloudTokenBroker/${stage}`);
          expect(Object.keys(METRIC_UNITS)).toContain(metric);
        }
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('least privilege', () => {
  it('no policy anywhere allows ssm:, kms:, sqs: or dynamodb: actions on "*"; every kms: statement goes through SSM or DynamoDB', () => {
    for (const run of [dev, prod]) {
      const documents = policyDocuments(run.template);
      expect(documents.length).toBeGreaterThanOrEqual(operations.length * 2 + 1);
      expect(iamFindings(documents)).toEqual([]);
    }
  });

  it('each function has its own role, assumable by Lambda only, with no managed policies and no shared osls role', () => {
    for (const [run, stage] of [
      [dev, 'dev'],
      [prod, variant.stage],
    ] as const) {
      expect(run.template.Resources.IamRoleLambdaExecution).toBeUndefined();
      const roleIds = [...operations, ...rotations].map((op) =>
        referencedId(render(functionResource(run.template, stage, op.functionName)[1].Properties.Role)),
      );
      expect(new Set(roleIds).size).toBe(operations.length + rotations.length);
      expect(
        resourcesOfType(run.template, 'AWS::IAM::Role')
          .map(([id]) => id)
          .sort(),
      ).toEqual([...roleIds].sort());
      expect(resourcesOfType(run.template, 'AWS::IAM::Policy')).toEqual([]);
      expect(resourcesOfType(run.template, 'AWS::IAM::ManagedPolicy')).toEqual([]);
      for (const id of roleIds) {
        const role = resource(run.template, id, 'AWS::IAM::Role');
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
        expect(role.Properties.AssumeRolePolicyDocument).toEqual({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        });
      }
    }
  });

  const arn = (service: string, rest: string) => `arn:${PSEUDO}:${service}:${REGION}:${ACCOUNT}:${rest}`;
  const anyKeyInRegion = arn('kms', 'key/*');

  function expectedGrants(t: Template, stage: string, op: Operation): Record<string, string[]> {
    const functionName = `${SERVICE}-${stage}-${op.functionName}`;
    const logGroup = arn('logs', `log-group:/aws/lambda/${functionName}:*`);
    const readable = [
      arn('ssm', `parameter/cloud-token-broker/${stage}/keys/${op.vendor}`),
      arn('ssm', `parameter/cloud-token-broker/${stage}/policy`),
    ];
    const grants: Record<string, string[]> = {
      'logs:CreateLogStream': [logGroup],
      'logs:PutLogEvents': [logGroup],
      'ssm:GetParameters': readable,
      'ssm:GetParameter': readable,
      'kms:Decrypt': [anyKeyInRegion],
    };
    if (usesTable(op)) {
      for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']) grants[action] = ['${TokenTable.Arn}'];
      if (stage === variant.stage) {
        grants['kms:Decrypt'] = [anyKeyInRegion, variant.tokenTableKmsKeyArn];
        grants['kms:Encrypt'] = [variant.tokenTableKmsKeyArn];
        grants['kms:GenerateDataKey'] = [variant.tokenTableKmsKeyArn];
      }
      // The data keys that seal its token items, from the stage's token key (in its own context: pinned below).
      if (op.expiresAt !== undefined) {
        grants['kms:Decrypt'] = [...grants['kms:Decrypt']!, '${TokenKey.Arn}'];
        grants['kms:GenerateDataKey'] = [...(grants['kms:GenerateDataKey'] ?? []), '${TokenKey.Arn}'];
      }
    }
    // Lambda's active tracing writes X-Ray segments (which take no resource).
    if (stage === variant.stage) for (const action of ['xray:PutTraceSegments', 'xray:PutTelemetryRecords']) grants[action] = ['*'];
    if (triggerOf(op, 'sqs') !== undefined) {
      const queueId = mappingQueueId(t, stage, op);
      const queue = `\${${queueId}.Arn}`;
      for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'])
        grants[action] = [queue];
      // Its own dead-letter queue only (the one its queue redrives to): looked up, and sent refused messages.
      const redrive = resource(t, queueId, 'AWS::SQS::Queue').Properties.RedrivePolicy as JsonObject;
      const deadLetterQueue = `\${${referencedId(render(redrive.deadLetterTargetArn))}.Arn}`;
      for (const action of ['sqs:GetQueueUrl', 'sqs:SendMessage']) grants[action] = [deadLetterQueue];
    }
    return Object.fromEntries(Object.entries(grants).map(([a, r]) => [a, [...r].sort()]));
  }

  /** The queue the function of `op` consumes (its event source mapping's). */
  function mappingQueueId(t: Template, stage: string, op: Operation): string {
    const [fnId] = functionResource(t, stage, op.functionName);
    const mappings = resourcesOfType(t, 'AWS::Lambda::EventSourceMapping').filter(
      ([, esm]) => render(esm.Properties.FunctionName) === `\${${fnId}.Arn}`,
    );
    expect(mappings).toHaveLength(1);
    return referencedId(render(mappings[0]![1].Properties.EventSourceArn));
  }

  it.each(operations.map((op) => op.functionName))(
    "%s: its own log group, its vendor's key parameter, its own table items (or queue), nothing else",
    (name) => {
      const op = operations.find((o) => o.functionName === name)!;
      for (const [run, stage] of [
        [dev, 'dev'],
        [prod, variant.stage],
      ] as const) {
        const role = roleOf(run.template, stage, name);
        expect(grants(role)).toEqual(expectedGrants(run.template, stage, op));
        // The log group the role may write is the function's own.
        const logGroups = resourcesOfType(run.template, 'AWS::Logs::LogGroup').map(([, g]) => g.Properties.LogGroupName);
        expect(logGroups).toContain(`/aws/lambda/${SERVICE}-${stage}-${name}`);
      }
    },
  );

  it("kms: through SSM only, pinned to the key parameters' alias; the table's own key through DynamoDB only", () => {
    for (const run of [dev, prod]) {
      for (const { statements } of policyDocuments(run.template)) {
        for (const s of statements.filter((st) => asArray(st.Action).some((a) => a.startsWith('kms:')))) {
          if (s.Sid === 'OwnTokenDataKeys') continue; // pinned by the test below
          if (s.Sid === 'TableKeyViaDynamoDb') {
            expect(run).toBe(prod);
            expect(s.Resource).toBe(variant.tokenTableKmsKeyArn);
            expect(render(s.Condition?.StringEquals?.['kms:ViaService'])).toBe(`dynamodb.${REGION}.amazonaws.com`);
            continue;
          }
          expect(render(s.Condition?.StringEquals?.['kms:ViaService'])).toBe(`ssm.${REGION}.amazonaws.com`);
          expect(s.Condition?.['ForAnyValue:StringEquals']?.['kms:ResourceAliases']).toBe('alias/aws/ssm');
        }
      }
    }
  });

  it.each(operations.filter(usesTable).map((op) => op.functionName))(
    '%s: may touch only the table items whose key begins with its own name (dynamodb:LeadingKeys)',
    (name) => {
      const [, fn] = functionResource(dev.template, 'dev', name);
      const role = resource(dev.template, referencedId(render(fn.Properties.Role)), 'AWS::IAM::Role');
      const statements = policyDocuments({ Resources: { role } } as unknown as Template).flatMap((d) => d.statements);
      const onTable = statements.filter((st) => asArray(st.Action).some((a) => a.startsWith('dynamodb:')));
      expect(onTable).toHaveLength(1);
      expect(onTable[0]!.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${name}#*`] } });
    },
  );
});

describe('the key that seals the token items', () => {
  it('is a symmetric customer managed key with rotation, aliased per stage (TOKEN_KEY_ID), administered by the account root only', () => {
    for (const [run, stage] of [
      [dev, 'dev'],
      [prod, variant.stage],
    ] as const) {
      const key = resource(run.template, 'TokenKey', 'AWS::KMS::Key').Properties;
      expect(key.EnableKeyRotation).toBe(true);
      expect(key.KeySpec).toBe('SYMMETRIC_DEFAULT');
      expect(key.KeyUsage).toBe('ENCRYPT_DECRYPT');
      const statements = asArray((key.KeyPolicy as { Statement: Json[] }).Statement) as Record<string, any>[];
      expect(statements).toHaveLength(1);
      expect(render(statements[0]!.Principal.AWS)).toBe('arn:${AWS::Partition}:iam::${AWS::AccountId}:root');
      const alias = resource(run.template, 'TokenKeyAlias', 'AWS::KMS::Alias').Properties;
      expect(alias.AliasName).toBe(`alias/${SERVICE}-${stage}-tokens`);
      expect(render(alias.TargetKeyId)).toBe('${TokenKey}');
    }
  });

  it.each(operations.map((op) => [op.functionName, op.expiresAt !== undefined] as const))(
    '%s: may make and open data keys only with the token key, only in its own encryption context (returns credentials: %s)',
    (name, returnsCredentials) => {
      for (const [run, stage] of [
        [dev, 'dev'],
        [prod, variant.stage],
      ] as const) {
        const role = roleOf(run.template, stage, name);
        const statements = policyDocuments({ Resources: { role } } as unknown as Template).flatMap((d) => d.statements);
        const direct = statements.filter((st) => asArray(st.Action).some((a) => a.startsWith('kms:')) && st.Sid === 'OwnTokenDataKeys');
        if (!returnsCredentials) {
          expect(direct).toEqual([]);
          continue;
        }
        expect(direct).toHaveLength(1);
        expect(asArray(direct[0]!.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
        expect(render(direct[0]!.Resource as Json)).toBe('${TokenKey.Arn}');
        expect(direct[0]!.Condition).toEqual({ StringEquals: { 'kms:EncryptionContext:function': name } });
      }
    },
  );
});

describe('the token table', () => {
  it('has pk only, TTL on ttl, on-demand billing; an AWS owned key by default, the stage key when given', () => {
    for (const run of [dev, prod]) {
      const table = resource(run.template, 'TokenTable', 'AWS::DynamoDB::Table').Properties;
      expect(table.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
      expect(table.AttributeDefinitions).toEqual([{ AttributeName: 'pk', AttributeType: 'S' }]);
      expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true });
      expect(table.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.SSESpecification).toEqual(
        run === dev ? { SSEEnabled: false } : { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: variant.tokenTableKmsKeyArn },
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('cfn-lint, the AWS CloudFormation linter', () => {
  it('what it used to fail on is gone: no empty alarm action ARN, no condition comparing two literals', () => {
    for (const run of [dev, prod]) {
      expect(lintCauses(run.template)).toEqual([]);
      // Alarm actions are plain lists now, with no condition at all.
      expect(run.template.Conditions ?? {}).toEqual({});
    }
  });

  it('finds no errors in the templates `npm run package` writes', async (context) => {
    if (cfnLintVersion === undefined) context.skip('cfn-lint is not installed (`pip install cfn-lint`); skipped');
    for (const run of [dev, prod]) {
      const file = join(run.dir, 'cloudformation-template-update-stack.json');
      // It exits non-zero on warnings too (osls's own DependsOn, W3005): only errors count.
      const { stdout } = await exec('cfn-lint', ['--format', 'json', '--regions', 'ap-southeast-1', '--', file], {
        maxBuffer: 32 * 1024 * 1024,
      }).catch((error: { stdout?: string; stderr?: string }) => {
        if (!error.stdout?.trim().startsWith('[')) throw new Error(`cfn-lint failed: ${error.stderr ?? error}`);
        return { stdout: error.stdout };
      });
      const matches = JSON.parse(stdout) as { Level: string; Message: string; Rule: { Id: string }; Location: { Path: Json[] } }[];
      const errors = matches.filter((m) => m.Level === 'Error').map((m) => `${m.Rule.Id} ${m.Location.Path.join('/')}: ${m.Message}`);
      expect(errors, `${cfnLintVersion} on ${file}`).toEqual([]);
    }
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------
describe('master-key rotation', () => {
  const arn = (service: string, rest: string) => `arn:${PSEUDO}:${service}:${REGION}:${ACCOUNT}:${rest}`;
  const anyKeyInRegion = arn('kms', 'key/*');
  const ruleOf = (t: Template, fnId: string) =>
    resourcesOfType(t, 'AWS::Events::Rule').filter(([, r]) =>
      asArray(r.Properties.Targets as Json[]).some((target) => isObject(target) && render(target.Arn) === `\${${fnId}.Arn}`),
    );

  it('the rotation registry has a function for each vendor with a key API: Alibaba Cloud and Tencent Cloud', () => {
    expect(rotations.map((r) => r.functionName)).toEqual(['aliyun-rotate-master-key', 'tencent-rotate-master-key']);
  });

  it.each(rotations.map((r) => r.functionName))(
    '%s: an hourly schedule sending {"rotateMasterKey": "scheduled"}, 60 s, the maximum age and grace of the stage',
    (name) => {
      const [fnId, fn] = functionResource(dev.template, 'dev', name);
      expect(fn.Properties.Timeout).toBe(60);
      const rules = ruleOf(dev.template, fnId);
      expect(rules).toHaveLength(1);
      const rule = rules[0]![1];
      expect(rule.Properties.State).toBe('ENABLED');
      expect(rule.Properties.ScheduleExpression).toBe('rate(1 hour)');
      expect(JSON.parse(String((rule.Properties.Targets as JsonObject[])[0]!.Input))).toEqual({ rotateMasterKey: 'scheduled' });
      const variables = (fn.Properties.Environment as JsonObject).Variables as Record<string, Json>;
      expect(variables).toMatchObject({
        ROTATION_MAX_KEY_AGE_DAYS: '90',
        ROTATION_GRACE_SECONDS: '86400',
        ROTATION_KEYS_KMS_KEY_ID: 'alias/aws/ssm',
      });
      expect(variables[`${name.split('-')[0]!.toUpperCase()}_KEYS_PARAMETER`]).toBe(`/cloud-token-broker/dev/keys/${name.split('-')[0]}`);
    },
  );

  it.each(rotations.map((r) => r.functionName))(
    '%s: an alarm when it has not run for two hours (its schedule stopped: the key-age alarm needs runs)',
    (name) => {
      const late = resourcesOfType(dev.template, 'AWS::CloudWatch::Alarm').filter(
        ([, a]) =>
          a.Properties.MetricName === 'MasterKeyRotationRuns' &&
          asArray(a.Properties.Dimensions as JsonObject[]).some((d) => d.Value === name),
      );
      expect(late).toHaveLength(1);
      expect(late[0]![1].Properties).toMatchObject({
        Statistic: 'Sum',
        Period: 7200,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
    },
  );

  it('the dashboard has a row per rotation: its runs, failures, stops and the key age, by its function name', () => {
    for (const [run, stage] of [
      [dev, 'dev'],
      [prod, variant.stage],
    ] as const) {
      const [, dashboard] = resourcesOfType(run.template, 'AWS::CloudWatch::Dashboard')[0]!;
      const body = String((dashboard.Properties.DashboardBody as JsonObject)['Fn::Sub']);
      const widgets = (JSON.parse(body) as { widgets: { properties: { metrics?: Json[] } }[] }).widgets;
      const graphed = widgets.flatMap((w) => (w.properties.metrics ?? []).filter(Array.isArray) as string[][]);
      for (const rotation of rotations) {
        const mine = graphed.filter((m) => m[0] === `CloudTokenBroker/${stage}` && m[2] === 'operation' && m[3] === rotation.functionName);
        expect(mine.map((m) => m[1]).sort()).toEqual(
          [
            'MasterKeyAge',
            'MasterKeyRotated',
            'MasterKeyRotationFailed',
            'MasterKeyRotationRuns',
            'MasterKeyRotationStuck',
            'MasterKeyUnknown',
          ].sort(),
        );
      }
    }
  });

  it.each(rotations.map((r) => r.functionName))(
    "%s: its own log group, its vendor's key parameter and pending key, KMS through SSM, its own table items; nothing else",
    (name) => {
      const rotation = rotations.find((r) => r.functionName === name)!;
      for (const [run, stage] of [
        [dev, 'dev'],
        [prod, variant.stage],
      ] as const) {
        const role = roleOf(run.template, stage, name);
        const logGroup = arn('logs', `log-group:/aws/lambda/${SERVICE}-${stage}-${name}:*`);
        const keys = arn('ssm', `parameter/cloud-token-broker/${stage}/keys/${rotation.vendor}`);
        const pending = `${keys}/_pending`;
        const expected: Record<string, string[]> = {
          'logs:CreateLogStream': [logGroup],
          'logs:PutLogEvents': [logGroup],
          'ssm:GetParameter': [keys, pending].sort(),
          'ssm:PutParameter': [keys, pending].sort(),
          'ssm:DeleteParameter': [pending],
          'kms:Decrypt': [anyKeyInRegion],
          'kms:Encrypt': [anyKeyInRegion],
          'kms:GenerateDataKey': [anyKeyInRegion],
          'dynamodb:GetItem': ['${TokenTable.Arn}'],
          'dynamodb:UpdateItem': ['${TokenTable.Arn}'],
          ...(stage === variant.stage && { 'xray:PutTraceSegments': ['*'], 'xray:PutTelemetryRecords': ['*'] }),
        };
        expect(grants(role)).toEqual(expected);
        const statements = policyDocuments({ Resources: { role } } as unknown as Template).flatMap((d) => d.statements);
        const onTable = statements.filter((st) => asArray(st.Action).some((a) => a.startsWith('dynamodb:')));
        expect(onTable.map((st) => st.Condition)).toEqual([{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${name}#*`] } }]);
      }
    },
  );
});
