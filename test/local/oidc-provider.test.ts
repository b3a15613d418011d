import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  anyVerifier,
  LOCAL_AUDIENCE,
  LOCAL_ISSUER,
  localVerifier,
  oidcVerifier,
  signLocalToken,
} from '../../local/auth.ts';
import { DATA_DIR } from '../../local/local-stack.ts';
import {
  CONSOLE_CLIENT_ID,
  DEMO_USERS,
  type LocalOidcProvider,
  startOidcProvider,
} from '../../local/oidc-provider.ts';

/**
 * The local OpenID provider over plain HTTP, as a browser would drive it: the authorization code
 * flow with PKCE through its login page, the token endpoint, the refresh grant; and the API's
 * verifiers (issuer, audience, signature through the discovery document's JWKS).
 */
const REDIRECT = 'http://127.0.0.1:9/';
let provider: LocalOidcProvider;

beforeAll(async () => {
  provider = await startOidcProvider({ port: 0, redirectUris: [REDIRECT] });
});
afterAll(async () => {
  await provider?.close();
});

/** A fetch that keeps the provider's cookies and follows no redirect. */
function browserLike() {
  const jar = new Map<string, string>();
  return async (url: string, init: RequestInit = {}) => {
    const res = await fetch(new URL(url, provider.issuer), {
      ...init,
      redirect: 'manual',
      headers: {
        ...(init.headers as Record<string, string>),
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
      },
    });
    for (const set of res.headers.getSetCookie()) {
      const [pair] = set.split(';');
      const [name, value] = (pair ?? '').split('=') as [string, string];
      jar.set(name, value);
    }
    return res;
  };
}

type TokenAnswer = { id_token?: string; refresh_token?: string; error?: string };
type SignInAnswer =
  | { status: number; page: string }
  | { status: 200; tokens: TokenAnswer; refresh: (refreshToken: string) => Promise<TokenAnswer> };

async function signIn(user: string, password: string): Promise<SignInAnswer> {
  const go = browserLike();
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const auth = new URLSearchParams({
    client_id: CONSOLE_CLIENT_ID,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: provider.scope,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'state-1',
  });
  const login = (await go(`/auth?${auth}`)).headers.get('location') ?? '';
  expect(login).toMatch(/^\/interaction\//);
  const submitted = await go(`${login}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login: user, password }).toString(),
  });
  if (submitted.status !== 303) return { status: submitted.status, page: await submitted.text() };
  let location = submitted.headers.get('location') ?? '';
  while (!location.startsWith(REDIRECT)) location = (await go(location)).headers.get('location') ?? '';
  const code = new URL(location).searchParams.get('code') ?? '';
  const token = async (params: Record<string, string>) =>
    (await (
      await fetch(`${provider.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: CONSOLE_CLIENT_ID, ...params }).toString(),
      })
    ).json()) as TokenAnswer;
  const tokens = await token({
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
  });
  return {
    status: 200,
    tokens,
    refresh: (refresh_token: string) => token({ grant_type: 'refresh_token', refresh_token }),
  };
}

describe('the local OpenID provider', () => {
  it('refuses an unknown user and a wrong password on its login page', async () => {
    for (const [user, password] of [
      ['mallory', 'x'],
      ['alice', 'bob-dev-password'],
    ] as const) {
      const answer = await signIn(user, password);
      expect(answer.status).toBe(401);
      expect('page' in answer && answer.page).toContain('Unknown user or wrong password.');
    }
  });

  it('issues ID tokens with sub, org_id and the client as audience, which the API accepts; renews them', async () => {
    const answer = await signIn('carol', DEMO_USERS.carol?.password ?? '');
    if (!('tokens' in answer)) throw new Error(`sign-in failed: ${answer.status}`);
    const { id_token, refresh_token } = answer.tokens;
    expect(id_token && decodeJwt(id_token)).toMatchObject({
      iss: provider.issuer,
      aud: CONSOLE_CLIENT_ID,
      sub: 'carol',
      org_id: 'other-org',
    });
    const verify = anyVerifier([
      await localVerifier(DATA_DIR, LOCAL_ISSUER, [LOCAL_AUDIENCE]),
      oidcVerifier(provider.issuer, CONSOLE_CLIENT_ID),
    ]);
    expect(await verify(id_token as string)).toMatchObject({ sub: 'carol', org_id: 'other-org' });
    expect(await verify(await signLocalToken(DATA_DIR, { org: 'demo-org', user: 'dev' }))).toMatchObject({
      org_id: 'demo-org',
    });
    // Another audience, another issuer: refused.
    await expect(oidcVerifier(provider.issuer, 'another-client')(id_token as string)).rejects.toThrow();
    await expect(oidcVerifier('http://127.0.0.1:9', CONSOLE_CLIENT_ID)(id_token as string)).rejects.toThrow();
    await expect(
      anyVerifier([await localVerifier(DATA_DIR, LOCAL_ISSUER, [LOCAL_AUDIENCE])])(id_token as string),
    ).rejects.toThrow();

    // Silent renewal: the refresh token brings a new ID token with the same claims.
    expect(refresh_token).toBeTruthy();
    const renewed = await answer.refresh(refresh_token as string);
    expect(renewed.error).toBeUndefined();
    expect(decodeJwt(renewed.id_token as string)).toMatchObject({ sub: 'carol', org_id: 'other-org' });
    expect(await verify(renewed.id_token as string)).toMatchObject({ aud: CONSOLE_CLIENT_ID });
  });
});
