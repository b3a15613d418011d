import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { AwsJsonError } from './aws-json-server.ts';
import type { IamRequest } from './iam/policy-evaluation.ts';

type Json = Record<string, unknown>;

/**
 * The two KMS calls the product makes (Encrypt, Decrypt) for the keys the template declares:
 * AES-256-GCM under a per-process master key, with the encryption context as authenticated data,
 * so a ciphertext only decrypts for the page it was made for, as with KMS. Ciphertexts do not
 * outlive the process, and neither does the in-memory DynamoDB that holds them.
 */
export class LocalKms {
  private readonly master = randomBytes(32);

  constructor(private readonly keyArns: string[]) {}

  private findKey(keyId: unknown): string | undefined {
    const id = String(keyId ?? '');
    return this.keyArns.find((k) => k === id || k.endsWith(`/${id}`));
  }

  private keyArn(keyId: unknown): string {
    const arn = this.findKey(keyId);
    if (!arn) throw new AwsJsonError('NotFoundException', `Key '${String(keyId ?? '')}' does not exist`);
    return arn;
  }

  /** The key ARN a ciphertext names (its first bytes), or undefined when it is not one of ours. */
  private ciphertextKey(blob: Buffer): string | undefined {
    if (blob.length < 2) return undefined;
    const id = blob.subarray(2, 2 + blob.readUInt16BE(0)).toString('utf8');
    return this.findKey(id);
  }

  /** Every call needs `kms:<operation>` on its key: the ciphertext's for Decrypt, else KeyId's. */
  iamRequests(operation: string, req: Json): IamRequest[] {
    const keyArn =
      operation === 'Decrypt' && !req.KeyId
        ? this.ciphertextKey(Buffer.from(String(req.CiphertextBlob ?? ''), 'base64'))
        : this.findKey(req.KeyId);
    return keyArn ? [{ action: `kms:${operation}`, resource: keyArn }] : [];
  }

  private dataKey(arn: string): Buffer {
    return createHash('sha256').update(this.master).update(arn).digest();
  }

  Encrypt(req: { KeyId?: string; Plaintext?: string; EncryptionContext?: Record<string, string> }): Json {
    const arn = this.keyArn(req.KeyId);
    const plaintext = Buffer.from(req.Plaintext ?? '', 'base64');
    if (plaintext.length === 0 || plaintext.length > 4096) {
      throw new AwsJsonError('ValidationException', 'Plaintext must be 1 to 4096 bytes');
    }
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.dataKey(arn), iv);
    cipher.setAAD(aad(req.EncryptionContext));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const arnBytes = Buffer.from(arn, 'utf8');
    const header = Buffer.alloc(2);
    header.writeUInt16BE(arnBytes.length);
    const blob = Buffer.concat([header, arnBytes, iv, cipher.getAuthTag(), body]);
    return { CiphertextBlob: blob.toString('base64'), KeyId: arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  }

  Decrypt(req: {
    CiphertextBlob?: string;
    EncryptionContext?: Record<string, string>;
    KeyId?: string;
  }): Json {
    try {
      const blob = Buffer.from(req.CiphertextBlob ?? '', 'base64');
      const arn = this.keyArn(this.ciphertextKey(blob));
      if (req.KeyId && this.keyArn(req.KeyId) !== arn) throw new Error('wrong key');
      const rest = blob.subarray(2 + blob.readUInt16BE(0));
      const decipher = createDecipheriv('aes-256-gcm', this.dataKey(arn), rest.subarray(0, 12));
      decipher.setAAD(aad(req.EncryptionContext));
      decipher.setAuthTag(rest.subarray(12, 28));
      const plaintext = Buffer.concat([decipher.update(rest.subarray(28)), decipher.final()]);
      return {
        Plaintext: plaintext.toString('base64'),
        KeyId: arn,
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    } catch {
      throw new AwsJsonError(
        'InvalidCiphertextException',
        'The ciphertext is invalid for this key and context',
      );
    }
  }
}

function aad(context: Record<string, string> = {}): Buffer {
  const sorted = Object.keys(context)
    .sort()
    .map((k) => [k, context[k]]);
  return Buffer.from(JSON.stringify(sorted), 'utf8');
}
