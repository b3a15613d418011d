import { describe, expect, it } from 'vitest';
import { AwsJsonError } from '../../local/aws-json-server.ts';
import { LocalKms } from '../../local/kms.ts';

const KEY = 'arn:aws:kms:us-east-1:000000000000:key/DataPageTokenKey';
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('LocalKms', () => {
  const kms = new LocalKms([KEY]);

  it('decrypts what it encrypted, under the same encryption context', () => {
    const { CiphertextBlob } = kms.Encrypt({
      KeyId: KEY,
      Plaintext: b64('EAAG-token'),
      EncryptionContext: { pageId: '1' },
    });
    expect(String(CiphertextBlob)).not.toContain(b64('EAAG-token'));
    const out = kms.Decrypt({ CiphertextBlob: CiphertextBlob as string, EncryptionContext: { pageId: '1' } });
    expect(Buffer.from(out.Plaintext as string, 'base64').toString()).toBe('EAAG-token');
    expect(out.KeyId).toBe(KEY);
  });

  it('refuses a ciphertext moved to another page', () => {
    const { CiphertextBlob } = kms.Encrypt({
      KeyId: KEY,
      Plaintext: b64('secret'),
      EncryptionContext: { pageId: '1' },
    });
    expect(() =>
      kms.Decrypt({ CiphertextBlob: CiphertextBlob as string, EncryptionContext: { pageId: '2' } }),
    ).toThrowError(expect.objectContaining({ type: 'InvalidCiphertextException' }));
  });

  it('refuses an unknown key and a tampered ciphertext', () => {
    expect(() => kms.Encrypt({ KeyId: 'nope', Plaintext: b64('x') })).toThrow(AwsJsonError);
    const { CiphertextBlob } = kms.Encrypt({ KeyId: 'DataPageTokenKey', Plaintext: b64('secret') });
    const tampered = Buffer.from(CiphertextBlob as string, 'base64');
    const last = tampered.length - 1;
    tampered.writeUInt8(tampered.readUInt8(last) ^ 1, last);
    expect(() => kms.Decrypt({ CiphertextBlob: tampered.toString('base64') })).toThrowError(
      expect.objectContaining({ type: 'InvalidCiphertextException' }),
    );
  });
});
