import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  jwtVerify,
  SignJWT,
} from 'jose';

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

/**
 * ID tokens of an OpenID provider, checked as API Gateway's JWT authorizer checks them when its
 * issuer is the provider: signature by a key of the issuer's JWKS (found through its discovery
 * document), issuer, audience (the client id), expiry.
 */
export function oidcVerifier(issuer: string, audience: string): Verifier {
  let jwks: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const keys = async () => {
    const res = await fetch(`${issuer}/.well-known/openid-configuration`);
    if (!res.ok) throw new Error(`discovery document: HTTP ${res.status}`);
    const { jwks_uri } = (await res.json()) as { jwks_uri?: string };
    if (!jwks_uri) throw new Error('discovery document has no jwks_uri');
    return createRemoteJWKSet(new URL(jwks_uri));
  };
  return async (token) => {
    jwks ??= keys().catch((error: Error) => {
      jwks = undefined;
      throw error;
    });
    const { payload } = await jwtVerify(token, await jwks, {
      issuer,
      audience,
      algorithms: ['RS256', 'ES256'],
    });
    return payload as Record<string, unknown>;
  };
}

/** Accepts a token that any of `verifiers` accepts; the first one's error otherwise. */
export function anyVerifier(verifiers: Verifier[]): Verifier {
  return async (token) => {
    let first: unknown;
    for (const verify of verifiers) {
      try {
        return await verify(token);
      } catch (error) {
        first ??= error;
      }
    }
    throw first ?? new Error('no verifier');
  };
}
