import { useMemo, useState } from 'react';
import { Toaster } from 'sonner';
import { createApi } from './api-client.ts';
import { ConnectedPagesList } from './components/connected-pages-list.tsx';
import { ExecutionView } from './components/execution-view.tsx';
import { type ConsoleConfig, loadConfig, tokenClaims } from './console-config.ts';
import { useExecutionRoute } from './execution-route.ts';
import { loadPreferences, type Preferences, savePreferences } from './preferences.ts';
import { useConnectedPages } from './use-connected-pages.ts';

interface AppProps {
  config: ConsoleConfig;
  /** A pasted token, or null to sign out. */
  onSignIn: (token: string | null) => void;
  /** A new token after a 401 (OIDC: silent renewal), or null. */
  renewToken?: () => Promise<string | null>;
}

export function App({ config, onSignIn, renewToken }: AppProps) {
  if (!config.token) return <SignIn onSignIn={onSignIn} />;
  return <Console config={config} onSignIn={onSignIn} renewToken={renewToken} />;
}

function Console({ config, onSignIn, renewToken }: AppProps) {
  const api = useMemo(
    () =>
      createApi(
        config,
        renewToken ??
          (async () => {
            // The local dev token is re-signed on every read of config.json; a pasted one is not.
            if (config.tokenSource === 'local-dev') return (await loadConfig()).token;
            return null;
          }),
      ),
    [config, renewToken],
  );
  const pages = useConnectedPages(api);
  const details = useExecutionRoute();
  const claims = tokenClaims(config.token);
  const user = claims.sub ?? 'anonymous';
  const [preferences, setPreferences] = useState<Preferences>(() => loadPreferences(user));
  const updatePreferences = (next: Preferences) => {
    setPreferences(next);
    savePreferences(user, next);
  };

  return (
    <>
      <header className="topbar">
        <span className="brand">Contact Sync</span>
        <span className="who">
          Signed in as <strong>{user}</strong>
          {claims.org_id && <> ({claims.org_id})</>}
          {config.tokenSource === 'local-dev' ? (
            <span className="badge">local dev token</span>
          ) : (
            <button type="button" className="link-button" onClick={() => onSignIn(null)}>
              Sign out
            </button>
          )}
        </span>
      </header>
      <main className="content">
        <h1>Connected pages</h1>
        <p className="muted intro">
          Sync imports each page's Messenger and Instagram conversations as contacts. A sync can be stopped at
          any moment; what it saved before the stop is kept.
        </p>
        <ConnectedPagesList
          pages={pages}
          preferences={preferences}
          onPreferences={updatePreferences}
          onDetails={details.open}
        />
      </main>
      <ExecutionView api={api} route={details.route} onClose={details.close} />
      <Toaster position="top-right" richColors closeButton duration={6000} />
    </>
  );
}

/** A deployment without a token in config.json: the user pastes an access token (kept for this tab). */
function SignIn({ onSignIn }: { onSignIn: (token: string | null) => void }) {
  return (
    <main className="content narrow">
      <h1>Contact Sync</h1>
      <form
        className="connect-form"
        onSubmit={(event) => {
          event.preventDefault();
          const token = String(new FormData(event.currentTarget).get('token') ?? '').trim();
          if (token) onSignIn(token);
        }}
      >
        <label>
          Access token (JWT with your organization's <code>org_id</code>)
          <textarea name="token" required rows={4} autoComplete="off" spellCheck={false} />
        </label>
        <button type="submit" className="button">
          Sign in
        </button>
      </form>
    </main>
  );
}
