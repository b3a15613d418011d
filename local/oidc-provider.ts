import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type KoaLikeContext } from 'oidc-provider';
import { DEMO_ORG } from './demo-org.ts';

/**
 * The local OpenID provider (node-oidc-provider) on loopback: authorization code + PKCE for the
 * console's public client, ID tokens signed RS256 (keys made at start, published at the discovery
 * document's jwks_uri) with `sub` and `org_id`, and `aud` = the console's client id, and a refresh
 * token (rotated) with which the console renews its session silently. Its login
 * page checks the demo users below. Development only: the passwords are public, nothing persists.
 */
export const CONSOLE_CLIENT_ID = 'contact-sync-console';
export const OIDC_SCOPE = 'openid org';
export const OTHER_ORG = 'other-org';

export interface DemoUser {
  org: string;
  password: string;
}

/** Demo accounts (dev only): the login is the `sub`, the organization its `org_id`. */
export const DEMO_USERS: Readonly<Record<string, DemoUser>> = {
  alice: { org: DEMO_ORG, password: 'alice-dev-password' },
  bob: { org: DEMO_ORG, password: 'bob-dev-password' },
  carol: { org: OTHER_ORG, password: 'carol-dev-password' },
};

export interface LocalOidcProvider {
  issuer: string;
  clientId: string;
  scope: string;
  close(): Promise<void>;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:22rem;margin:3rem auto}label,input,button{display:block;width:100%;margin:.4rem 0}input,button{padding:.5rem;box-sizing:border-box}.error{color:#b00020}</style>
</head><body><h1>${title}</h1>${body}</body></html>`;
}

function loginForm(uid: string, login: string, error?: string): string {
  return page(
    'Contact Sync local sign-in',
    `${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${encodeURIComponent(uid)}/login" autocomplete="off">
<label>User <input name="login" required value="${escapeHtml(login)}" autofocus></label>
<label>Password <input name="password" type="password" required></label>
<button type="submit">Sign in</button>
</form><p>Development provider: demo users are listed in docs/local-stack.md.</p>`,
  );
}

function passwordMatches(user: DemoUser | undefined, password: string): boolean {
  const expected = Buffer.from(user?.password ?? randomBytes(16).toString('hex'));
  const given = Buffer.from(password);
  return user !== undefined && given.length === expected.length && timingSafeEqual(given, expected);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | null> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 10_000) return null;
  }
  return new URLSearchParams(text);
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
  });
  res.end(html);
}

/**
 * Starts the provider on `port` (0: any free one). `redirectUris` are the console's (its sign-in
 * callback, also used for silent renewal and after sign-out).
 */
export async function startOidcProvider(opts: {
  port: number;
  redirectUris: string[];
  host?: string;
}): Promise<LocalOidcProvider> {
  const host = opts.host ?? '127.0.0.1';
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(503).end();
  };
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, resolve);
  });
  const issuer = `http://${host}:${(server.address() as AddressInfo).port}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'local-oidc-1', alg: 'RS256', use: 'sig' };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CONSOLE_CLIENT_ID,
        token_endpoint_auth_method: 'none',
        application_type: 'web',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: opts.redirectUris,
        post_logout_redirect_uris: opts.redirectUris,
        id_token_signed_response_alg: 'RS256',
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'org'],
    claims: { openid: ['sub'], org: ['org_id'] },
    // org_id goes into the ID token (the API's bearer), not only to userinfo.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx: KoaLikeContext, form: string) => {
          ctx.type = 'html';
          ctx.body = page(
            'Sign out of Contact Sync',
            `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Sign out</button>`,
          );
        },
      },
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    // The console is this provider's own first-party client: no consent screen.
    loadExistingGrant: async (ctx: KoaLikeContext) => {
      const { client, session, result } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const grantId = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      if (grantId) return provider.Grant.find(grantId);
      const grant = new provider.Grant({ accountId: session.accountId, clientId: client.clientId });
      grant.addOIDCScope(OIDC_SCOPE);
      await grant.save();
      return grant;
    },
    findAccount: (_ctx: unknown, id: string) => {
      const user = DEMO_USERS[id];
      if (!user) return undefined;
      return { accountId: id, claims: () => ({ sub: id, org_id: user.org }) };
    },
    // Silent renewal uses the refresh token (rotated on each use), which brings a new ID token.
    issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
    ttl: {
      RefreshToken: 8 * 3600,
      Session: 8 * 3600,
      Interaction: 3600,
      Grant: 8 * 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      AccessToken: 3600,
    },
    // Browsers may call the token endpoint (and read the keys) from the console's origins only.
    clientBasedCORS: (_ctx: unknown, origin: string) =>
      opts.redirectUris.some((uri) => new URL(uri).origin === origin),
  });
  const oidc = provider.callback();

  handler = (req, res) => {
    const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(new URL(req.url ?? '/', issuer).pathname);
    if (!match) return oidc(req, res);
    void interaction(req, res, Boolean(match[2])).catch(() => {
      if (!res.headersSent)
        sendHtml(
          res,
          400,
          page('Sign-in failed', '<p>This sign-in has expired: start again from the console.</p>'),
        );
    });
  };

  async function interaction(req: IncomingMessage, res: ServerResponse, submit: boolean): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name !== 'login') throw new Error(`unexpected prompt ${details.prompt.name}`);
    if (!submit || req.method !== 'POST') {
      const hint = typeof details.params.login_hint === 'string' ? details.params.login_hint : '';
      return sendHtml(res, 200, loginForm(details.uid, hint));
    }
    const form = await readForm(req);
    const login = form?.get('login')?.trim() ?? '';
    if (!passwordMatches(DEMO_USERS[login], form?.get('password') ?? '')) {
      return sendHtml(res, 401, loginForm(details.uid, login, 'Unknown user or wrong password.'));
    }
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: login } },
      { mergeWithLastSubmission: false },
    );
  }

  return {
    issuer,
    clientId: CONSOLE_CLIENT_ID,
    scope: OIDC_SCOPE,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
