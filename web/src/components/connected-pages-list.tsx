import { useState } from 'react';
import type { Preferences } from '../preferences.ts';
import type { ConnectedPage, SyncJob } from '../types.ts';
import type { useConnectedPages } from '../use-connected-pages.ts';
import { ConnectPageForm } from './connect-page-form.tsx';
import { ConfirmDialog } from './dialog.tsx';
import { PageCard } from './page-card.tsx';
import { SettingsDialog } from './settings-dialog.tsx';

type Pages = ReturnType<typeof useConnectedPages>;

/** The connected-pages list: one card per page, with the dialogs its buttons open. */
export function ConnectedPagesList(props: {
  pages: Pages;
  preferences: Preferences;
  onPreferences: (next: Preferences) => void;
  /** Opens the execution view of a job. */
  onDetails?: (jobId: string) => void;
}) {
  const { pages } = props;
  const [settingsFor, setSettingsFor] = useState<ConnectedPage | null>(null);
  const [disconnecting, setDisconnecting] = useState<ConnectedPage | null>(null);
  const [confirmStop, setConfirmStop] = useState<{ page: ConnectedPage; job: SyncJob } | null>(null);

  if (pages.loadError && !pages.pages)
    return (
      <div className="notice notice-error" role="alert">
        <p>Could not load your pages: {pages.loadError}</p>
        <button type="button" className="button" onClick={pages.retry}>
          Try again
        </button>
      </div>
    );
  if (!pages.pages)
    return (
      <p className="muted" role="status">
        Loading your pages...
      </p>
    );

  return (
    <>
      {pages.pollError && (
        <p className="notice notice-warning" role="status">
          Lost contact with the API ({pages.pollError}); retrying...
        </p>
      )}
      {pages.pages.length === 0 ? (
        <p className="muted">No connected pages yet. Connect one below.</p>
      ) : (
        <ul className="cards" aria-label="Connected pages">
          {pages.pages.map((view) => (
            <PageCard
              key={view.page.id}
              view={view}
              onSync={() => void pages.startSync(view.page)}
              onFullSync={() => void pages.startSync(view.page, 'full')}
              onStop={(job) => {
                if (props.preferences.confirmStop) setConfirmStop({ page: view.page, job });
                else void pages.stopSync(view.page, job);
              }}
              onPause={(job) => void pages.pauseSync(view.page, job)}
              onResume={(job) => void pages.resumeSync(view.page, job)}
              onRetry={(job) => void pages.retrySync(view.page, job)}
              onSettings={() => setSettingsFor(view.page)}
              onDisconnect={() => setDisconnecting(view.page)}
              onDetails={props.onDetails && ((job) => props.onDetails?.(job.id))}
              onReplaceToken={(accessToken) => pages.replaceToken(view.page, accessToken)}
            />
          ))}
        </ul>
      )}
      <ConnectPageForm onConnect={pages.connect} />

      <ConfirmDialog
        open={!!confirmStop}
        title="Stop this sync?"
        message={
          <>
            The sync of <strong>{confirmStop?.page.pageName}</strong> stops now. Contacts synced so far are
            kept; you can start a new sync at any time.
          </>
        }
        confirmLabel="Stop Sync"
        cancelLabel="Keep syncing"
        onCancel={() => setConfirmStop(null)}
        onConfirm={() => {
          if (confirmStop) void pages.stopSync(confirmStop.page, confirmStop.job);
          setConfirmStop(null);
        }}
      />
      <ConfirmDialog
        open={!!disconnecting}
        title="Disconnect this page?"
        message={
          <>
            <strong>{disconnecting?.pageName}</strong> will no longer sync. A sync in progress is stopped
            first. Its contacts and sync history are kept.
          </>
        }
        confirmLabel="Disconnect"
        cancelLabel="Cancel"
        onCancel={() => setDisconnecting(null)}
        onConfirm={() => {
          if (disconnecting) void pages.disconnect(disconnecting);
          setDisconnecting(null);
        }}
      />
      <SettingsDialog
        page={settingsFor}
        preferences={props.preferences}
        onPreferences={props.onPreferences}
        onClose={() => setSettingsFor(null)}
      />
    </>
  );
}
