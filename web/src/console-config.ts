/**
 * Where the console finds the API and its token.
 * - `config.json` beside index.html, read at start: `{ apiUrl?, token?, tokenSource?, oidc? }`. The
 *   local stack serves one with a freshly signed dev token (or, with OIDC sign-in on, its provider);
 *   a deployed stack writes `{ apiUrl, oidc?: { issuer, clientId, scope } }`.
 * - With `oidc`, the user signs in at that OpenID provider (authorization code + PKCE) and the
 *   console sends the ID token as the bearer (oidc-sign-in.tsx).
 * - `VITE_API_URL` at build time, when config.json has no apiUrl; '' means the same origin.
 * - Without a token from config.json, the user pastes one (kept in sessionStorage for the tab).
 */
export interface ConsoleConfig {
  apiUrl: string;
  token: string | null;
  /** 'local-dev': config.json signs a new one on every read, so a 401 is answered by re-reading it. */
  tokenSource: 'local-dev' | 'config' | 'session' | 'oidc' | 'none';
  /** Sign in at this OpenID provider; the token is then the ID token it issues. */
  oidc?: OidcSettings;
}

export interface OidcSettings {
  issuer: string;
  clientId: string;
  scope: string;
}

const SESSION_TOKEN = 'contact-sync:token';

interface ConfigFile {
  apiUrl?: string;
  token?: string;
  tokenSource?: string;
  oidc?: unknown;
}

/** config.json's `oidc`, when it names an http(s) issuer and a client id; the scope defaults to openid. */
function oidcSettings(value: unknown): OidcSettings | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const { issuer, clientId, scope } = value as Record<string, unknown>;
  if (typeof issuer !== 'string' || !/^https?:\/\//.test(issuer)) return undefined;
  if (typeof clientId !== 'string' || !clientId) return undefined;
  return { issuer, clientId, scope: typeof scope === 'string' && scope ? scope : 'openid' };
}

async function readConfigFile(): Promise<ConfigFile> {
  try {
    const res = await fetch(new URL('config.json', document.baseURI), { cache: 'no-store' });
    if (!res.ok) return {};
    const body: unknown = await res.json();
    return body && typeof body === 'object' ? (body as ConfigFile) : {};
  } catch {
    return {};
  }
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const file = await readConfigFile();
  const apiUrl = (file.apiUrl ?? import.meta.env.VITE_API_URL ?? '').replace(/\/+$/, '');
  const oidc = oidcSettings(file.oidc);
  if (oidc) return { apiUrl, token: null, tokenSource: 'oidc', oidc };
  if (file.token) {
    return {
      apiUrl,
      token: file.token,
      tokenSource: file.tokenSource === 'local-dev' ? 'local-dev' : 'config',
    };
  }
  const pasted = sessionStorage.getItem(SESSION_TOKEN);
  return { apiUrl, token: pasted, tokenSource: pasted ? 'session' : 'none' };
}

export function rememberToken(token: string | null): void {
  if (token) sessionStorage.setItem(SESSION_TOKEN, token);
  else sessionStorage.removeItem(SESSION_TOKEN);
}

/** The token's claims, read without verifying (the API verifies); {} when it is not a JWT. */
export function tokenClaims(token: string | null): { sub?: string; org_id?: string } {
  const payload = token?.split('.')[1];
  if (!payload) return {};
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const claims: unknown = JSON.parse(json);
    return claims && typeof claims === 'object' ? (claims as { sub?: string; org_id?: string }) : {};
  } catch {
    return {};
  }
}
