import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK, jwtVerify, SignJWT } from 'jose';

/**
 * The local identity provider: an RS256 key pair kept in .local-data/ (created on first use), so
 * tokens from `npm run token` stay valid across restarts. The HTTP API emulator verifies tokens
 * the way API Gateway's JWT authorizer does: signature, issuer, audience, expiry, RS256 only.
 */
export const LOCAL_AUDIENCE = 'contact-sync';

/** Fixed, so tokens do not depend on the port the API listens on. */
export const LOCAL_ISSUER = 'http://127.0.0.1/contact-sync-local-idp';

interface KeyFile {
  privateJwk: JWK;
  publicJwk: JWK;
}

async function keyFile(dataDir: string): Promise<KeyFile> {
  const file = path.join(dataDir, 'jwt-signing-key.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as KeyFile;
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const keys = { privateJwk: await exportJWK(privateKey), publicJwk: await exportJWK(publicKey) };
  mkdirSync(dataDir, { recursive: true });
  try {
    // 'wx': if another process created the key meanwhile, use theirs.
    writeFileSync(file, JSON.stringify(keys), { mode: 0o600, flag: 'wx' });
    return keys;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return JSON.parse(readFileSync(file, 'utf8')) as KeyFile;
  }
}

export async function signLocalToken(
  dataDir: string,
  claims: { org: string; user: string; issuer?: string; audience?: string; expiresIn?: string },
): Promise<string> {
  const { privateJwk } = await keyFile(dataDir);
  const key = await importJWK(privateJwk, 'RS256');
  return new SignJWT({ org_id: claims.org })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'local' })
    .setSubject(claims.user)
    .setIssuer(claims.issuer ?? LOCAL_ISSUER)
    .setAudience(claims.audience ?? LOCAL_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? '12h')
    .sign(key);
}

export type Verifier = (token: string) => Promise<Record<string, unknown>>;

export async function localVerifier(dataDir: string, issuer: string, audience: string[]): Promise<Verifier> {
  const { publicJwk } = await keyFile(dataDir);
  const key = await importJWK(publicJwk, 'RS256');
  return async (token) => {
    const { payload } = await jwtVerify(token, key, { issuer, audience, algorithms: ['RS256'] });
    return payload as Record<string, unknown>;
  };
}
