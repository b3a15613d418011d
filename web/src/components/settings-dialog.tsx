import { useId } from 'react';
import type { Preferences } from '../preferences.ts';
import { plural } from '../sync-text.ts';
import type { ConnectedPage } from '../types.ts';
import { Dialog } from './dialog.tsx';

/** A page's details and the user's own preferences (kept per user in this browser). */
export function SettingsDialog(props: {
  page: ConnectedPage | null;
  preferences: Preferences;
  onPreferences: (next: Preferences) => void;
  onClose: () => void;
}) {
  const confirmId = useId();
  const { page } = props;
  return (
    <Dialog
      open={!!page}
      title={page ? `Settings: ${page.pageName}` : 'Settings'}
      onClose={props.onClose}
      footer={
        <button type="button" className="button" onClick={props.onClose}>
          Close
        </button>
      }
    >
      {page && (
        <dl className="details">
          <dt>Page id</dt>
          <dd>{page.id}</dd>
          <dt>Instagram account</dt>
          <dd>{page.instagramAccountId ?? 'none linked'}</dd>
          <dt>Contacts</dt>
          <dd>{plural(page.contactCount, 'contact')}</dd>
          <dt>Connected</dt>
          <dd>{new Date(page.connectedAt).toLocaleString()}</dd>
        </dl>
      )}
      <h3 className="section-title">Your preferences</h3>
      <div className="checkbox-row">
        <input
          id={confirmId}
          type="checkbox"
          checked={props.preferences.confirmStop}
          onChange={(event) =>
            props.onPreferences({ ...props.preferences, confirmStop: event.target.checked })
          }
        />
        <label htmlFor={confirmId}>Ask "Are you sure?" before stopping a sync (all pages)</label>
      </div>
    </Dialog>
  );
}
