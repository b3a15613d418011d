import { Plug } from 'lucide-react';
import type { Api } from '../api-client.ts';
import { useFormSubmit } from '../use-form-submit.ts';

/**
 * Connects a page with its id and page access token (route `connectPage` in shared/api/routes.ts,
 * through the api client): the API checks the token with Facebook and takes the page's name and
 * Instagram account from it. The token is never shown again.
 */
export function ConnectPageForm(props: {
  onConnect: (input: Parameters<Api['connectPage']>[0]) => Promise<void>;
}) {
  const { error, busy, submit } = useFormSubmit((field) =>
    props.onConnect({ pageId: field('pageId'), accessToken: field('accessToken') }),
  );

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
