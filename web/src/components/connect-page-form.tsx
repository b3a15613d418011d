import { Plug } from 'lucide-react';
import { type FormEvent, useState } from 'react';
import type { Api } from '../api-client.ts';
import { errorMessage } from '../sync-text.ts';

/**
 * Connects a page with its id and page access token (route `connectPage` in shared/api/routes.ts,
 * through the api client): the API checks the token with Facebook and takes the page's name and
 * Instagram account from it. The token is never shown again.
 */
export function ConnectPageForm(props: {
  onConnect: (input: Parameters<Api['connectPage']>[0]) => Promise<void>;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    const form = event.currentTarget;
    const data = new FormData(form);
    const field = (name: string) => String(data.get(name) ?? '').trim();
    setBusy(true);
    setError(null);
    try {
      await props.onConnect({ pageId: field('pageId'), accessToken: field('accessToken') });
      form.reset();
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <details className="connect">
      <summary>Connect a page</summary>
      <form className="connect-form" onSubmit={submit}>
        <label>
          Page id
          <input name="pageId" required inputMode="numeric" autoComplete="off" />
        </label>
        <label>
          Page access token
          <input name="accessToken" required type="password" autoComplete="off" />
        </label>
        {error && (
          <p className="notice notice-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button" aria-disabled={busy || undefined}>
          <Plug aria-hidden className="icon" />
          {busy ? 'Connecting...' : 'Connect'}
        </button>
      </form>
    </details>
  );
}
