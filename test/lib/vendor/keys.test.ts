import { GetParameterCommand, InternalServerError, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BrokerError } from '../../../lib/core/errors.js';
import { redact } from '../../../lib/core/logger.js';
import { aliyunApi } from '../../../lib/vendor/aliyun.js';
import { keysParameterVariable } from '../../../lib/vendor/api.js';
import { loadVendors } from '../../../lib/vendor/index.js';
import { clearKeys, readKeys } from '../../../lib/vendor/keys.js';
import { tencentApi } from '../../../lib/vendor/tencent.js';

/**
 * SSM failure modes a local server cannot be made to show faithfully: the real client's
 * error classes for throttling and access denial. The happy path and missing or malformed
 * parameters run against the fake SSM in test/functions.
 */
const ssm = mockClient(SSMClient);
const NAME = '/cloud-token-broker/test/keys/aliyun';

beforeEach(() => {
  ssm.reset();
  clearKeys();
  process.env.ALIYUN_KEYS_PARAMETER = NAME;
  process.env.AWS_REGION = 'eu-west-1';
});
afterEach(() => clearKeys());

function awsError(name: string, message: string) {
  return Object.assign(new Error(message), { name, __type: name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

const good = { accessKeyId: 'id-1', accessKeySecret: 'secret-value-1' };
const parameter = (value: string) => ({ Parameter: { Name: NAME, Type: 'SecureString' as const, Value: value } });

describe('readKeys', () => {
  it.each([
    ['throttling', awsError('ThrottlingException', 'Rate exceeded')],
    ['access denied', awsError('AccessDeniedException', 'not authorized to perform ssm:GetParameter')],
    ['KMS refusing to decrypt', awsError('AccessDeniedException', 'The ciphertext refers to a customer master key that does not exist')],
    ['an internal error', new InternalServerError({ message: 'boom', $metadata: {} })],
  ])('turns %s into KeysUnavailable', async (_name, error) => {
    ssm.on(GetParameterCommand).rejects(error);
    const thrown = await readKeys(aliyunApi).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(BrokerError);
    expect(thrown).toMatchObject({ code: 'KeysUnavailable', status: 503 });
  });

  it('turns a missing parameter into KeysUnavailable', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    await expect(readKeys(aliyunApi)).rejects.toMatchObject({ code: 'KeysUnavailable' });
  });

  it.each([
    ['not JSON', 'just-a-string'],
    ['a missing field', JSON.stringify({ accessKeyId: 'id-only' })],
    ['an empty secret', JSON.stringify({ accessKeyId: 'id', accessKeySecret: '' })],
  ])('turns a value with %s into KeysUnavailable, naming no value', async (_name, value) => {
    ssm.on(GetParameterCommand).resolves(parameter(value));
    const thrown = (await readKeys(aliyunApi).catch((e: unknown) => e)) as BrokerError;
    expect(thrown.code).toBe('KeysUnavailable');
    expect(JSON.stringify({ message: thrown.message, details: thrown.details })).not.toContain('id-only');
  });

  it('asks for decryption, caches for KEYS_CACHE_SECONDS and re-reads on demand', async () => {
    ssm.on(GetParameterCommand).resolves(parameter(JSON.stringify(good)));
    await expect(readKeys(aliyunApi)).resolves.toEqual(good);
    await readKeys(aliyunApi);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
    expect(ssm.commandCalls(GetParameterCommand)[0]!.args[0].input).toEqual({ Name: NAME, WithDecryption: true });
    await readKeys(aliyunApi, { fresh: true });
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it('does not keep a failed read: the next request tries SSM again', async () => {
    ssm
      .on(GetParameterCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .resolves(parameter(JSON.stringify(good)));
    await expect(readKeys(aliyunApi)).rejects.toMatchObject({ code: 'KeysUnavailable' });
    await expect(readKeys(aliyunApi)).resolves.toEqual(good);
  });

  it('expires cached keys by age, on the request that needs them', async () => {
    process.env.KEYS_CACHE_SECONDS = '1';
    try {
      ssm.on(GetParameterCommand).resolves(parameter(JSON.stringify(good)));
      await readKeys(aliyunApi);
      await readKeys(aliyunApi);
      expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
      const now = Date.now();
      const clock = vi.spyOn(Date, 'now').mockReturnValue(now + 1_500);
      await readKeys(aliyunApi);
      clock.mockRestore();
      expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
    } finally {
      delete process.env.KEYS_CACHE_SECONDS;
    }
  });

  it('sets no refresh timer: SSM failing after the cache expires cannot crash an idle instance', async () => {
    // A cache that refreshes on a timer turns a failed refresh into an unhandled rejection
    // (vitest fails the run on one). Here nothing runs until a request asks.
    process.env.KEYS_CACHE_SECONDS = '1';
    try {
      ssm
        .on(GetParameterCommand)
        .resolvesOnce(parameter(JSON.stringify(good)))
        .rejects(awsError('ThrottlingException', 'Rate exceeded'));
      await readKeys(aliyunApi);
      await new Promise((resolve) => setTimeout(resolve, 1_300));
      expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
      await expect(readKeys(aliyunApi)).rejects.toMatchObject({ code: 'KeysUnavailable' });
    } finally {
      delete process.env.KEYS_CACHE_SECONDS;
    }
  });

  it('reads nothing at import time', async () => {
    await import('../../../functions/cams-get-upload-authorization.js');
    expect(ssm.calls()).toHaveLength(0);
  });
});

describe('the Tencent Cloud key', () => {
  const TENCENT = '/cloud-token-broker/test/keys/tencent';
  beforeEach(() => {
    process.env.TENCENT_KEYS_PARAMETER = TENCENT;
  });
  afterEach(() => {
    delete process.env.TENCENT_KEYS_PARAMETER;
  });

  it('is read from TENCENT_KEYS_PARAMETER as {secretId, secretKey}, and its secretKey is scrubbed from logs', async () => {
    const key = { secretId: 'AKIDtest-id', secretKey: 'tencent-secret-key-value' };
    ssm
      .on(GetParameterCommand, { Name: TENCENT })
      .resolves({ Parameter: { Name: TENCENT, Type: 'SecureString', Value: JSON.stringify(key) } });
    await expect(readKeys(tencentApi)).resolves.toEqual(key);
    expect(JSON.stringify(redact({ message: `signed with ${key.secretKey}` }))).not.toContain(key.secretKey);
  });

  it('refuses a value without secretKey, naming no value', async () => {
    ssm
      .on(GetParameterCommand, { Name: TENCENT })
      .resolves({ Parameter: { Name: TENCENT, Type: 'SecureString', Value: '{"secretId":"AKIDonly"}' } });
    const thrown = (await readKeys(tencentApi).catch((e: unknown) => e)) as BrokerError;
    expect(thrown.code).toBe('KeysUnavailable');
    expect(thrown.message).toContain('tencent');
    expect(JSON.stringify({ message: thrown.message, details: thrown.details })).not.toContain('AKIDonly');
  });
});

describe('keysParameterVariable', () => {
  it('names a declared variable for every vendor, defaulting to /cloud-token-broker/dev/keys/<vendor>', async () => {
    const vendors = await loadVendors();
    expect(vendors.map((vendor) => vendor.name)).toEqual(['aliyun', 'tencent', 'ucloud']);
    for (const vendor of vendors) {
      const defaults = vendor.settingsDefaults() as Record<string, unknown>;
      expect(defaults[keysParameterVariable(vendor.name)]).toBe(`/cloud-token-broker/dev/keys/${vendor.name}`);
    }
    expect(keysParameterVariable('tencent')).toBe('TENCENT_KEYS_PARAMETER');
  });
});
