import { generateKeyPair, SignJWT } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHS, simPages } from '#test/e2e/http-client.ts';
import { signLocalToken } from '../../local/auth.ts';
import { ensureConsoleBuilt } from '../../local/console-server.ts';
import { DATA_DIR, type LocalStack, startLocalStack } from '../../local/local-stack.ts';
import { DEMO_USERS } from '../../local/oidc-provider.ts';
import {
  card,
  eventually,
  launchChromium,
  primaryButton,
  primaryLabel,
  syncedShown,
  text,
  WAIT_MS,
} from './browser.ts';

/**
 * The console signing in at the local OpenID provider (authorization code + PKCE), as
 * `LOCAL_SIGN_IN=oidc npm start` runs it: real headless Chromium through the provider's login
 * page, the ID token as the API's bearer, sign-out at the provider, and organizations kept apart.
 * Chunks of 25 and 1 s of analysis per conversation keep the sync running long enough to stop.
 */
const page = simPages('9530000000', 'Sign-in')('demo page', 200, 0);
const ORIGINAL_LATENCY = process.env.ANALYZER_LATENCY_MS;

let stack: LocalStack;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  process.env.ANALYZER_LATENCY_MS = '1000';
  const webRoot = await ensureConsoleBuilt();
  [stack, browser] = await Promise.all([
    startLocalStack({
      port: 0,
      sfnPort: 0,
      graphSimPort: 0,
      pages: [page],
      context: { chunkSize: 25, mapConcurrency: 2 },
      webRoot,
      oidcPort: 0,
      consoleSignIn: 'oidc',
    }),
    launchChromium(),
  ]);
}, 180_000);

afterAll(async () => {
  for (const ctx of contexts) await ctx.close().catch(() => {});
  await browser?.close();
  await stack?.stop();
  if (ORIGINAL_LATENCY === undefined) delete process.env.ANALYZER_LATENCY_MS;
  else process.env.ANALYZER_LATENCY_MS = ORIGINAL_LATENCY;
});

const oidc = () => {
  if (!stack.oidc) throw new Error('the stack runs no OpenID provider');
  return stack.oidc;
};

async function newTab(): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  contexts.push(ctx);
  return ctx.newPage();
}

/** Opens the console, follows its Sign in to the provider's login page and signs in there. */
async function signIn(tab: Page, user: string, password: string): Promise<void> {
  await tab.goto(`${stack.apiUrl}/`);
  await tab.getByRole('button', { name: 'Sign in', exact: true }).click({ timeout: WAIT_MS });
  await tab.waitForURL((url) => url.origin === new URL(oidc().issuer).origin, { timeout: WAIT_MS });
  await tab.getByLabel('User').fill(user);
  await tab.getByLabel('Password').fill(password);
  await tab.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** The session the console keeps (oidc-client-ts's sessionStorage entry), or null. */
async function sessionOf(tab: Page): Promise<{ id_token?: string; refresh_token?: string } | null> {
  const key = `oidc.user:${oidc().issuer}:${oidc().clientId}`;
  const stored = (await tab.evaluate(`sessionStorage.getItem(${JSON.stringify(key)})`)) as string | null;
  return stored ? (JSON.parse(stored) as { id_token?: string; refresh_token?: string }) : null;
}
const idTokenOf = async (tab: Page) => (await sessionOf(tab))?.id_token ?? null;

const listPages = (token: string) =>
  fetch(`${stack.apiUrl}${PATHS.pages}`, { headers: { authorization: `Bearer ${token}` } });

describe('OIDC sign-in at the local OpenID provider', () => {
  it('serves a config.json naming the provider, and the API accepts its ID tokens besides dev tokens', async () => {
    const config = (await (await fetch(`${stack.apiUrl}/config.json`)).json()) as Record<string, unknown>;
    expect(config).toEqual({
      apiUrl: '',
      oidc: { issuer: oidc().issuer, clientId: oidc().clientId, scope: oidc().scope },
    });
    const discovery = (await (await fetch(`${oidc().issuer}/.well-known/openid-configuration`)).json()) as {
      issuer: string;
      jwks_uri: string;
      code_challenge_methods_supported: string[];
    };
    expect(discovery.issuer).toBe(oidc().issuer);
    expect(discovery.code_challenge_methods_supported).toContain('S256');
    // The dev-token path is unchanged.
    expect((await listPages(await signLocalToken(DATA_DIR, { org: 'demo-org', user: 'dev' }))).status).toBe(
      200,
    );
    // A token claiming the provider's issuer and the client's audience, but signed by another key: 401.
    // (It names the provider's key id, so only the signature tells it apart.)
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ org_id: 'demo-org' })
      .setProtectedHeader({ alg: 'RS256', kid: 'local-oidc-1' })
      .setSubject('alice')
      .setIssuer(oidc().issuer)
      .setAudience(oidc().clientId)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    const refused = await listPages(forged);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: 'Unauthorized' });
    // The dev key with the provider's audience, or the provider's issuer: 401 as well.
    for (const claims of [
      { audience: oidc().clientId },
      { issuer: oidc().issuer, audience: oidc().clientId },
    ])
      expect(
        (await listPages(await signLocalToken(DATA_DIR, { org: 'demo-org', user: 'x', ...claims }))).status,
      ).toBe(401);
  });

  it('signs a demo-org user in, syncs a page, stops it, and signs out', async () => {
    const tab = await newTab();
    // A wrong password stays on the provider's login page with an error.
    await signIn(tab, 'alice', 'not-the-password');
    await tab.getByRole('alert').getByText('Unknown user or wrong password.').waitFor({ timeout: WAIT_MS });
    await tab.getByLabel('Password').fill(DEMO_USERS.alice?.password ?? '');
    await tab.getByRole('button', { name: 'Sign in', exact: true }).click();

    await tab.getByRole('heading', { name: 'Connected pages' }).waitFor({ timeout: WAIT_MS });
    expect(new URL(tab.url()).search).toBe(''); // the code and state are gone from the address
    expect(await text(tab.locator('.who'))).toContain('alice (demo-org)');
    const idToken = await idTokenOf(tab);
    expect(idToken).toBeTruthy();
    // It can renew silently: the provider issued a refresh token with it.
    expect((await sessionOf(tab))?.refresh_token).toBeTruthy();
    // The bearer the console sends is the provider's ID token, which the API accepts.
    expect((await listPages(idToken as string)).status).toBe(200);

    const name = page.name;
    await eventually('the idle card', async () => expect(await primaryLabel(tab, name)).toBe('Sync'));
    const started = tab.waitForRequest((r) => r.url().includes(PATHS.start), { timeout: WAIT_MS });
    await primaryButton(tab, name).click();
    expect((await started).headers().authorization).toBe(`Bearer ${idToken}`);
    await eventually('Stop Sync', async () => expect(await primaryLabel(tab, name)).toBe('Stop Sync'));
    await eventually('contacts synced', async () => expect(await syncedShown(tab, name)).toBeGreaterThan(0));
    const cancelled = tab.waitForResponse((r) => r.url().includes(PATHS.cancel), { timeout: WAIT_MS });
    await primaryButton(tab, name).click();
    expect((await cancelled).status()).toBe(200);
    await eventually('the cancelled card', async () => {
      expect(await primaryLabel(tab, name)).toBe('Sync');
      expect(await text(card(tab, name))).toContain('Sync cancelled');
    });

    // Sign out: at the provider, then back to the console's sign-in, with no session kept.
    await tab.getByRole('button', { name: 'Sign out', exact: true }).click();
    await tab.waitForURL((url) => url.origin === new URL(oidc().issuer).origin, { timeout: WAIT_MS });
    await tab.getByRole('button', { name: 'Sign out', exact: true }).click();
    await tab.waitForURL((url) => url.origin === new URL(stack.apiUrl).origin, { timeout: WAIT_MS });
    await tab.getByRole('button', { name: 'Sign in', exact: true }).waitFor({ timeout: WAIT_MS });
    expect(await idTokenOf(tab)).toBeNull();
    // The provider's session ended too: signing in asks for the password again.
    await tab.getByRole('button', { name: 'Sign in', exact: true }).click();
    await tab.getByLabel('Password').waitFor({ timeout: WAIT_MS });
  }, 90_000);

  it("shows a user of another organization none of demo-org's pages", async () => {
    const tab = await newTab();
    await signIn(tab, 'carol', DEMO_USERS.carol?.password ?? '');
    await tab.getByRole('heading', { name: 'Connected pages' }).waitFor({ timeout: WAIT_MS });
    expect(await text(tab.locator('.who'))).toContain('carol (other-org)');
    await tab.getByText('No connected pages yet.').waitFor({ timeout: WAIT_MS });
    expect(await card(tab, page.name).count()).toBe(0);
    const idToken = await idTokenOf(tab);
    const answer = await listPages(idToken as string);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ pages: [] });
  });
});
