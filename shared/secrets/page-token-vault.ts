import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { requiredEnv } from '../config.ts';

/**
 * Page access tokens are stored only as KMS ciphertext, bound to their page by the encryption
 * context, so a ciphertext copied to another page does not decrypt. Only the connect function may
 * encrypt and only the workers may decrypt (see infra/stack.ts). The endpoint comes from the SDK's
 * standard configuration (AWS_ENDPOINT_URL_KMS locally).
 */
let client: KMSClient | undefined;
const kms = () => {
  client ??= new KMSClient({});
  return client;
};

export async function encryptPageToken(pageId: string, token: string): Promise<string> {
  const out = await kms().send(
    new EncryptCommand({
      KeyId: requiredEnv('PAGE_TOKEN_KEY_ID'),
      Plaintext: Buffer.from(token, 'utf8'),
      EncryptionContext: { pageId },
    }),
  );
  if (!out.CiphertextBlob) throw new Error('KMS returned no ciphertext');
  return Buffer.from(out.CiphertextBlob).toString('base64');
}

export async function decryptPageToken(pageId: string, ciphertext: string): Promise<string> {
  const out = await kms().send(
    new DecryptCommand({ CiphertextBlob: Buffer.from(ciphertext, 'base64'), EncryptionContext: { pageId } }),
  );
  if (!out.Plaintext) throw new Error('KMS returned no plaintext');
  return Buffer.from(out.Plaintext).toString('utf8');
}
