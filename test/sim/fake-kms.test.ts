import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeKms, LOCAL_TOKEN_KEY_ALIAS, startFakeKms } from '../../sim/fake-kms.js';

/** The fake KMS through the real @aws-sdk/client-kms, as the broker reaches it. */
let kms: FakeKms;
let client: KMSClient;
beforeAll(async () => {
  kms = await startFakeKms({ region: 'eu-west-1' });
  client = new KMSClient({ endpoint: kms.url, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});
afterAll(async () => {
  client.destroy();
  await kms.close();
});

const context = { function: 'cams-get-upload-authorization' };

describe('fake KMS', () => {
  it('makes a 256-bit data key under an alias that Decrypt opens with the same encryption context', async () => {
    const made = await client.send(
      new GenerateDataKeyCommand({ KeyId: LOCAL_TOKEN_KEY_ALIAS, KeySpec: 'AES_256', EncryptionContext: context }),
    );
    expect(made.Plaintext).toHaveLength(32);
    expect(made.KeyId).toBe(kms.keyArn(LOCAL_TOKEN_KEY_ALIAS));
    const blob = made.CiphertextBlob!;
    expect(Buffer.from(blob).includes(Buffer.from(made.Plaintext!))).toBe(false);
    const opened = await client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { ...context } }));
    expect(Buffer.from(opened.Plaintext!).equals(Buffer.from(made.Plaintext!))).toBe(true);
    expect(opened.KeyId).toBe(made.KeyId);
    expect(kms.requests.map((r) => r.target)).toEqual(['GenerateDataKey', 'Decrypt']);
    expect(kms.requests[0]).toMatchObject({ keyId: LOCAL_TOKEN_KEY_ALIAS, encryptionContext: context });
  });

  it('refuses a Decrypt under another encryption context, or none, or of a tampered blob, as KMS does', async () => {
    const { CiphertextBlob: blob } = await client.send(
      new GenerateDataKeyCommand({ KeyId: LOCAL_TOKEN_KEY_ALIAS, NumberOfBytes: 32, EncryptionContext: context }),
    );
    const tampered = Buffer.from(blob!);
    tampered[tampered.length - 1]! ^= 1;
    for (const attempt of [
      { CiphertextBlob: blob, EncryptionContext: { function: 'ufile-describe-token' } },
      { CiphertextBlob: blob },
      { CiphertextBlob: blob, EncryptionContext: { ...context, extra: 'x' } },
      { CiphertextBlob: tampered, EncryptionContext: context },
      { CiphertextBlob: Buffer.from('not a blob of this KMS'), EncryptionContext: context },
    ]) {
      await expect(client.send(new DecryptCommand(attempt))).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    }
  });

  it('knows its keys by id, ARN and alias; anything else is NotFoundException', async () => {
    const id = kms.createKey('alias/other');
    for (const keyId of [id, kms.keyArn(id)!, 'alias/other', `arn:aws:kms:eu-west-1:123456789012:alias/other`]) {
      const answer = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
      expect(answer.KeyId).toBe(kms.keyArn(id));
    }
    for (const keyId of ['alias/nobody', '11111111-2222-3333-4444-555555555555']) {
      await expect(client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }))).rejects.toMatchObject({
        name: 'NotFoundException',
      });
    }
    // A blob of one key does not open as another's.
    const { CiphertextBlob } = await client.send(new EncryptCommand({ KeyId: 'alias/other', Plaintext: Buffer.from('x') }));
    await expect(client.send(new DecryptCommand({ CiphertextBlob, KeyId: LOCAL_TOKEN_KEY_ALIAS }))).rejects.toMatchObject({
      name: 'IncorrectKeyException',
    });
  });

  it('fails on demand with the error asked for, then serves again', async () => {
    kms.failWith('KMSInternalException', 'GenerateDataKey');
    await expect(client.send(new GenerateDataKeyCommand({ KeyId: LOCAL_TOKEN_KEY_ALIAS, KeySpec: 'AES_256' }))).rejects.toMatchObject({
      name: 'KMSInternalException',
    });
    kms.failWith(undefined);
    await expect(client.send(new GenerateDataKeyCommand({ KeyId: LOCAL_TOKEN_KEY_ALIAS, KeySpec: 'AES_256' }))).resolves.toBeDefined();
  });

  it('refuses unsigned requests and any request from a web page', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(kms.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.GenerateDataKey', ...headers },
        body: JSON.stringify({ KeyId: LOCAL_TOKEN_KEY_ALIAS, KeySpec: 'AES_256' }),
      });
    const unsigned = await post({});
    expect(unsigned.status).toBe(400);
    expect(await unsigned.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
    const page = await post({
      authorization: 'AWS4-HMAC-SHA256 Credential=a/20260101/eu-west-1/kms/aws4_request',
      origin: 'https://evil.example',
    });
    expect(page.status).toBe(403);
    expect(page.headers.get('access-control-allow-origin')).toBeNull();
    expect(JSON.stringify(await page.json())).not.toContain('Plaintext');
  });
});
