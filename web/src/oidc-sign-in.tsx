import { useCallback, useEffect, useMemo } from 'react';
import { AuthProvider, useAuth } from 'react-oidc-context';
import { App } from './app.tsx';
import type { ConsoleConfig, OidcSettings } from './console-config.ts';

/**
 * Sign-in at an OpenID provider (config.json's `oidc`): the authorization code flow with PKCE for
 * a public client (oidc-client-ts through react-oidc-context). The console's own URL is the
 * redirect, silent-renewal and post-sign-out URI. The API's bearer is the ID token: it carries
 * `sub` and `org_id`, and its audience is the client id the API's authorizer expects. The session
 * is kept in sessionStorage; it is renewed silently before the token expires, and when that
 * fails the user is asked to sign in again.
 */
const params = () => new URLSearchParams(window.location.search);
const dropQuery = () => window.history.replaceState({}, document.title, window.location.pathname);

export function OidcRoot({ config, oidc }: { config: ConsoleConfig; oidc: OidcSettings }) {
  // At the root, the bare origin (as a deployment registers it: `https://<host>`), else the folder.
  const base = new URL('.', document.baseURI);
  const home = base.pathname === '/' ? base.origin : base.href;
  return (
    <AuthProvider
      authority={oidc.issuer}
      client_id={oidc.clientId}
      scope={oidc.scope}
      redirect_uri={home}
      silent_redirect_uri={home}
      post_logout_redirect_uri={home}
      response_type="code"
      automaticSilentRenew
      onSigninCallback={dropQuery}
      // Back from the provider's sign-out: only `state` in the query.
      matchSignoutCallback={() => params().has('state') && !params().has('code') && !params().has('error')}
      onSignoutCallback={dropQuery}
    >
      <OidcSession config={config} />
    </AuthProvider>
  );
}

function OidcSession({ config }: { config: ConsoleConfig }) {
  const auth = useAuth();
  const idToken = auth.user?.id_token ?? null;
  const { events, removeUser } = auth;
  // The session ended (the token expired, or silent renewal failed): ask to sign in again.
  useEffect(() => {
    const ended = () => void removeUser();
    const unsubscribe = [events.addAccessTokenExpired(ended), events.addSilentRenewError(ended)];
    return () => {
      for (const off of unsubscribe) off();
    };
  }, [events, removeUser]);
  const appConfig = useMemo(() => ({ ...config, token: idToken }), [config, idToken]);
  const { signinSilent } = auth;
  // Stable, so the console keeps its API client (and its polling) across renders.
  const renewToken = useCallback(async () => {
    try {
      return (await signinSilent())?.id_token ?? null;
    } catch {
      await removeUser();
      return null;
    }
  }, [signinSilent, removeUser]);

  if (!idToken) {
    if (auth.isLoading) return <p className="content narrow muted">Signing in...</p>;
    return (
      <main className="content narrow">
        <h1>Contact Sync</h1>
        {auth.error && (
          <p role="alert" className="muted">
            Sign-in did not complete: {auth.error.message}
          </p>
        )}
        <p className="muted">Sign in with your organization's account.</p>
        <button type="button" className="button" onClick={() => void auth.signinRedirect()}>
          Sign in
        </button>
      </main>
    );
  }
  return (
    <App
      key={auth.user?.profile.sub ?? 'user'}
      config={appConfig}
      onSignIn={(token) => {
        // A provider without an end-session endpoint: the session is forgotten here only.
        if (!token) auth.signoutRedirect({ id_token_hint: idToken }).catch(() => removeUser());
      }}
      renewToken={renewToken}
    />
  );
}
