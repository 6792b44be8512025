import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  paginateGetParametersByPath,
  SSMClient,
  type SSMServiceException,
} from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeSsm, startFakeSsm } from '../../sim/fake-ssm.js';

let ssm: FakeSsm;
let client: SSMClient;
const savedEndpoint = process.env.AWS_ENDPOINT_URL_SSM;

beforeAll(async () => {
  ssm = await startFakeSsm();
  // The broker reaches SSM only through the SDK's own endpoint variable: use exactly that.
  process.env.AWS_ENDPOINT_URL_SSM = ssm.url;
  client = new SSMClient({ region: 'eu-west-1', credentials: { accessKeyId: 'dummy-id', secretAccessKey: 'dummy-secret' } });
});

afterAll(async () => {
  client.destroy();
  await ssm.close();
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_SSM;
  else process.env.AWS_ENDPOINT_URL_SSM = savedEndpoint;
});

afterEach(() => {
  for (const name of ssm.names()) ssm.delete(name);
  ssm.clearRequests();
});

async function rejection(promise: Promise<unknown>): Promise<SSMServiceException> {
  try {
    await promise;
  } catch (error) {
    return error as SSMServiceException;
  }
  throw new Error('expected the call to fail');
}

async function rawPost(headers: Record<string, string>, body = '{}') {
  const response = await fetch(ssm.url, { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as { __type: string; message?: string } };
}

describe('fake SSM with the real SSMClient', () => {
  it('stores a SecureString and gives it back only with WithDecryption', async () => {
    const put = await client.send(
      new PutParameterCommand({ Name: '/app/keys/aliyun', Value: '{"accessKeyId":"x"}', Type: 'SecureString' }),
    );
    expect(put.Version).toBe(1);

    const decrypted = await client.send(new GetParameterCommand({ Name: '/app/keys/aliyun', WithDecryption: true }));
    expect(decrypted.Parameter).toMatchObject({ Name: '/app/keys/aliyun', Type: 'SecureString', Value: '{"accessKeyId":"x"}', Version: 1 });
    expect(decrypted.Parameter?.LastModifiedDate).toBeInstanceOf(Date);
    expect(decrypted.Parameter?.ARN).toBe('arn:aws:ssm:eu-west-1:123456789012:parameter/app/keys/aliyun');

    const opaque = await client.send(new GetParameterCommand({ Name: '/app/keys/aliyun' }));
    expect(opaque.Parameter?.Value).not.toContain('accessKeyId');
    expect(opaque.Parameter?.Value).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it('serves values seeded with put(), objects as JSON, String values in clear', async () => {
    ssm.put('/app/keys/ucloud', { publicKey: 'pub', privateKey: 'priv' });
    ssm.put('/app/plain', 'hello', 'String');
    expect(ssm.get('/app/keys/ucloud')).toBe('{"publicKey":"pub","privateKey":"priv"}');

    const secure = await client.send(new GetParameterCommand({ Name: '/app/keys/ucloud', WithDecryption: true }));
    expect(JSON.parse(secure.Parameter?.Value ?? '')).toEqual({ publicKey: 'pub', privateKey: 'priv' });
    const plain = await client.send(new GetParameterCommand({ Name: '/app/plain' }));
    expect(plain.Parameter).toMatchObject({ Type: 'String', Value: 'hello' });
  });

  it('lists missing names of GetParameters in InvalidParameters', async () => {
    ssm.put('/a/one', '1');
    ssm.put('/a/two', '2', 'StringList');
    const answer = await client.send(new GetParametersCommand({ Names: ['/a/one', '/a/missing', '/a/two'], WithDecryption: true }));
    expect(answer.Parameters?.map((p) => [p.Name, p.Value, p.Type])).toEqual([
      ['/a/one', '1', 'SecureString'],
      ['/a/two', '2', 'StringList'],
    ]);
    expect(answer.InvalidParameters).toEqual(['/a/missing']);
    expect(ssm.requests).toEqual([{ target: 'GetParameters', names: ['/a/one', '/a/missing', '/a/two'] }]);
  });

  it('refuses more than 10 names with a ValidationException', async () => {
    const names = Array.from({ length: 11 }, (_, i) => `/n/${i}`);
    const error = await rejection(client.send(new GetParametersCommand({ Names: names })));
    expect(error.name).toBe('ValidationException');
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it('raises the SDK ParameterNotFound class for a missing name, on get and on delete', async () => {
    const onGet = await rejection(client.send(new GetParameterCommand({ Name: '/nope', WithDecryption: true })));
    expect(onGet).toBeInstanceOf(ParameterNotFound);
    expect(onGet.$metadata.httpStatusCode).toBe(400);
    const onDelete = await rejection(client.send(new DeleteParameterCommand({ Name: '/nope' })));
    expect(onDelete).toBeInstanceOf(ParameterNotFound);
  });

  it('applies Overwrite semantics and increments Version and LastModifiedDate', async () => {
    await client.send(new PutParameterCommand({ Name: '/v', Value: 'first', Type: 'String' }));
    const before = await client.send(new GetParameterCommand({ Name: '/v' }));

    const refused = await rejection(client.send(new PutParameterCommand({ Name: '/v', Value: 'second', Type: 'String' })));
    expect(refused).toBeInstanceOf(ParameterAlreadyExists);
    expect(ssm.get('/v')).toBe('first');

    await new Promise((r) => setTimeout(r, 5));
    const put = await client.send(new PutParameterCommand({ Name: '/v', Value: 'second', Overwrite: true }));
    expect(put.Version).toBe(2);
    const after = await client.send(new GetParameterCommand({ Name: '/v' }));
    expect(after.Parameter).toMatchObject({ Value: 'second', Version: 2, Type: 'String' });
    expect(after.Parameter!.LastModifiedDate!.getTime()).toBeGreaterThan(before.Parameter!.LastModifiedDate!.getTime());
  });

  it('validates PutParameter input', async () => {
    const noType = await rejection(client.send(new PutParameterCommand({ Name: '/new', Value: 'x' })));
    expect(noType.name).toBe('ValidationException');
    const badType = await rejection(client.send(new PutParameterCommand({ Name: '/new', Value: 'x', Type: 'Blob' as never })));
    expect(badType.name).toBe('ValidationException');
    const tooLong = await rejection(client.send(new PutParameterCommand({ Name: '/new', Value: 'x'.repeat(4097), Type: 'String' })));
    expect(tooLong.name).toBe('ValidationException');
    expect(ssm.names()).toEqual([]);
  });

  it('deletes a parameter', async () => {
    ssm.put('/gone', 'x');
    await client.send(new DeleteParameterCommand({ Name: '/gone' }));
    expect(ssm.get('/gone')).toBeUndefined();
    expect(await rejection(client.send(new GetParameterCommand({ Name: '/gone' })))).toBeInstanceOf(ParameterNotFound);
  });

  describe('GetParametersByPath', () => {
    function seedTree() {
      for (let i = 0; i < 7; i++) ssm.put(`/tree/leaf-${i}`, `v${i}`);
      ssm.put('/tree/sub/deep', 'deep');
      ssm.put('/treehouse', 'not under /tree');
    }

    it('returns direct children only unless Recursive', async () => {
      seedTree();
      const flat = await client.send(new GetParametersByPathCommand({ Path: '/tree', WithDecryption: true }));
      expect(flat.Parameters?.map((p) => p.Name)).toEqual(Array.from({ length: 7 }, (_, i) => `/tree/leaf-${i}`));
      expect(flat.NextToken).toBeUndefined();

      const deep = await client.send(new GetParametersByPathCommand({ Path: '/tree/', Recursive: true, WithDecryption: true }));
      expect(deep.Parameters?.map((p) => p.Name)).toContain('/tree/sub/deep');
      expect(deep.Parameters).toHaveLength(8);
    });

    it('pages with MaxResults and NextToken, also through the SDK paginator', async () => {
      seedTree();
      const first = await client.send(new GetParametersByPathCommand({ Path: '/tree', Recursive: true, MaxResults: 3 }));
      expect(first.Parameters).toHaveLength(3);
      expect(first.NextToken).toEqual(expect.any(String));
      const second = await client.send(
        new GetParametersByPathCommand({ Path: '/tree', Recursive: true, MaxResults: 3, NextToken: first.NextToken }),
      );
      expect(second.Parameters?.[0]?.Name).not.toBe(first.Parameters?.[0]?.Name);

      const names: string[] = [];
      for await (const page of paginateGetParametersByPath(
        { client, pageSize: 3 },
        { Path: '/tree', Recursive: true, WithDecryption: true },
      )) {
        names.push(...(page.Parameters ?? []).map((p) => p.Name!));
      }
      expect(names).toHaveLength(8);
      expect(new Set(names).size).toBe(8);
      expect(ssm.requests.filter((r) => r.target === 'GetParametersByPath').length).toBe(2 + 3);
    });

    it('refuses a bad token, a bad MaxResults and a relative path', async () => {
      expect((await rejection(client.send(new GetParametersByPathCommand({ Path: '/tree', NextToken: 'garbage!' })))).name).toBe(
        'InvalidNextToken',
      );
      expect((await rejection(client.send(new GetParametersByPathCommand({ Path: '/tree', MaxResults: 11 })))).name).toBe(
        'ValidationException',
      );
      expect((await rejection(client.send(new GetParametersByPathCommand({ Path: 'tree' })))).name).toBe('ValidationException');
    });
  });

  describe('protocol errors, seen with a raw client', () => {
    const target = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' };

    it('requires a SigV4 Authorization header', async () => {
      const answer = await rawPost(target, '{"Name":"/x"}');
      expect(answer).toEqual({
        status: 400,
        body: { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' },
      });
    });

    it('refuses an unknown target and a body that is not JSON', async () => {
      const auth = { authorization: 'AWS4-HMAC-SHA256 Credential=x/20250101/eu-west-1/ssm/aws4_request, SignedHeaders=host, Signature=00' };
      const unknown = await rawPost({ ...target, ...auth, 'x-amz-target': 'AmazonSSM.DescribeEverything' });
      expect(unknown.status).toBe(400);
      expect(unknown.body.__type).toBe('UnknownOperationException');
      const garbage = await rawPost({ ...target, ...auth }, 'not json');
      expect(garbage.body.__type).toBe('SerializationException');
    });
  });
});
