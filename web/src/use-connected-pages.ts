import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { toast } from 'sonner';
import { isActive, isRunning } from '#shared/job-status.ts';
import { type Api, ApiError } from './api-client.ts';
import { type CardView, cardView, pagesSignature } from './card-view.ts';
import { keepsPolling, type PageRequest, type PendingAction, runPendingAction } from './pending-action.ts';
import { rememberBaseline } from './preferences.ts';
import { errorMessage, outcomeNotice, syncedText } from './sync-text.ts';
import { openTabChannel } from './tab-channel.ts';
import type { ConnectedPage, SyncJob, SyncMode } from './types.ts';
import { usePolling } from './use-polling.ts';

/** An error toast, the error's message under the title. */
const failure = (title: string) => (error: unknown) =>
  toast.error(title, { description: errorMessage(error) });

/** A start or a retry refused because a sync already holds the page: news, not an error. */
const refusal = (page: ConnectedPage, title: string) => (error: unknown) => {
  if (error instanceof ApiError && error.status === 409)
    toast.info(`A sync is already running for ${page.pageName}`);
  else failure(title)(error);
};

/**
 * The connected pages with their sync state, kept current (see usePolling) while any sync runs or
 * a request of this tab is in flight. No polling at all while every page is idle or paused: then
 * the list is refreshed when the tab becomes visible again or another tab says something changed.
 */
export function useConnectedPages(api: Api) {
  const [pages, setPages] = useState<ConnectedPage[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [pollError, setPollError] = useState<string | null>(null);
  /** The request in flight on each page ('full' for a deliberate full re-sync). */
  const [pending, setPending] = useState<Record<string, PendingAction>>({});
  /** The same, current at once (a list applied while a stop is in flight must know of it). */
  const pendingRef = useRef(pending);
  /** Jobs whose outcome this tab already told the user about. */
  const announced = useRef(new Set<string>());
  /** The active job this tab last saw on each page: its end is announced when it is seen ending. */
  const seenActive = useRef(new Map<string, string>());
  const requested = useRef(0);
  const applied = useRef(0);
  const channel = useRef<ReturnType<typeof openTabChannel> | null>(null);
  const pagesRef = useRef(pages);
  pagesRef.current = pages;

  const mark = useCallback((pageId: string, action: PendingAction | null) => {
    const { [pageId]: _, ...rest } = pendingRef.current;
    pendingRef.current = action ? { ...rest, [pageId]: action } : rest;
    setPending(pendingRef.current);
  }, []);

  const apply = useCallback((next: ConnectedPage[]) => {
    for (const page of next) {
      const active = page.activeJob;
      if (isActive(active)) {
        // A paused job still holds the page: its end (after a resume or a cancel) is announced later.
        seenActive.current.set(page.id, active.id);
        // Seen running before its first write: the count now is the count before the sync.
        if (isRunning(active) && active.syncedContacts === 0) rememberBaseline(active.id, page.contactCount);
        continue;
      }
      const endedId = seenActive.current.get(page.id);
      if (!endedId) continue;
      seenActive.current.delete(page.id);
      const ended = page.lastJob?.id === endedId ? page.lastJob : null;
      // A stop in progress in this tab reports its own outcome.
      if (ended && !announced.current.has(ended.id) && pendingRef.current[page.id] !== 'stop') {
        announced.current.add(ended.id);
        const notice = outcomeNotice(ended, page.pageName);
        if (notice)
          toast[notice.tone](
            notice.title,
            notice.description ? { description: notice.description } : undefined,
          );
      }
    }
    setPages(next);
  }, []);

  /** Reads the pages; an answer older than one already applied is dropped. */
  const refresh = useCallback(async () => {
    const seq = ++requested.current;
    const next = await api.listPages();
    if (seq < applied.current) return;
    applied.current = seq;
    apply(next);
    setLoadError(null);
    setPollError(null);
  }, [api, apply]);

  const refreshQuietly = useCallback(
    () => refresh().catch((error) => setPollError(errorMessage(error))),
    [refresh],
  );

  // First load, other tabs' news, and coming back to the tab.
  useEffect(() => {
    refresh().catch((error) => setLoadError(errorMessage(error)));
    channel.current = openTabChannel(() => refreshQuietly());
    const onVisible = () => {
      if (document.visibilityState === 'visible') refreshQuietly();
    };
    document.addEventListener('visibilitychange', onVisible);
    window.addEventListener('online', refreshQuietly);
    return () => {
      channel.current?.close();
      document.removeEventListener('visibilitychange', onVisible);
      window.removeEventListener('online', refreshQuietly);
    };
  }, [refresh, refreshQuietly]);

  usePolling(!!pages?.some((p) => isRunning(p.activeJob)) || Object.values(pending).some(keepsPolling), {
    poll: refresh,
    signature: () => pagesSignature(pagesRef.current),
    onError: (error) => setPollError(errorMessage(error)),
  });

  const tellOtherTabs = useCallback(
    (pageId: string) => channel.current?.post({ type: 'changed', pageId }),
    [],
  );

  const actions = useMemo(() => {
    const run = <T>(page: ConnectedPage, request: PageRequest<T>) =>
      runPendingAction(request, {
        mark: (action) => mark(page.id, action),
        refresh: refreshQuietly,
        tellOtherTabs: () => tellOtherTabs(page.id),
      });
    /**
     * A start or a retry: the new job's page count before it is kept (for the gain) and its end is
     * announced when seen; a refusal because a sync already holds the page is only news.
     */
    const begin = (
      page: ConnectedPage,
      pending: 'sync' | 'full',
      verb: 'start' | 'retry',
      send: () => Promise<{ jobId: string }>,
      onBegun?: () => void,
    ) =>
      run(page, {
        pending,
        send,
        onDone: ({ jobId }) => {
          rememberBaseline(jobId, page.contactCount);
          seenActive.current.set(page.id, jobId);
          onBegun?.();
        },
        onFailed: refusal(page, `Failed to ${verb} sync for ${page.pageName}`),
      });
    /** Pause (the answer's counters are final until a resume) or resume a sync. */
    const toggle = (
      page: ConnectedPage,
      job: SyncJob,
      verb: 'pause' | 'resume',
      onDone: (answer: { job: SyncJob }) => void,
    ) =>
      run(page, {
        pending: verb,
        send: () => (verb === 'pause' ? api.pauseSync(job.id) : api.resumeSync(job.id)),
        onDone,
        // 400: the job finished, or was cancelled, before the request reached it; its state shows.
        onFailed: failure(`Failed to ${verb} sync for ${page.pageName}`),
      });
    return {
      /** Without a mode the API chooses (incremental when the page was synced before); 'full' re-reads everything. */
      startSync: (page: ConnectedPage, mode?: SyncMode) =>
        begin(page, mode === 'full' ? 'full' : 'sync', 'start', () => api.startSync(page.id, mode)),
      /** A new sync that skips what the stopped one (FAILED or CANCELLED) already did. */
      retrySync: (page: ConnectedPage, job: SyncJob) =>
        begin(
          page,
          'sync',
          'retry',
          () => api.retrySync(job.id),
          () =>
            toast.success(`Retrying the sync of ${page.pageName}`, {
              description: 'Conversations the stopped sync finished are skipped.',
            }),
        ),
      stopSync: (page: ConnectedPage, job: SyncJob) => {
        announced.current.add(job.id);
        return run(page, {
          pending: 'stop',
          send: () => api.cancelSync(job.id),
          // The toast comes with the card's final state (the new count, or the completed result).
          reportAfterRefresh: true,
          onDone: () => toast.success(`Sync cancelled for ${page.pageName}`),
          // 400: the job ended (completed or failed) before the stop reached it; its outcome shows.
          onFailed: failure(`Failed to cancel sync for ${page.pageName}`),
        });
      },
      pauseSync: (page: ConnectedPage, job: SyncJob) =>
        toggle(page, job, 'pause', ({ job: paused }) =>
          toast.success(`Sync paused for ${page.pageName}`, {
            description: `${syncedText(paused)} so far. Resume continues from here.`,
          }),
        ),
      resumeSync: (page: ConnectedPage, job: SyncJob) =>
        toggle(page, job, 'resume', () => toast.success(`Sync resumed for ${page.pageName}`)),
      disconnect: (page: ConnectedPage) =>
        run(page, {
          send: () => api.disconnectPage(page.id),
          onDone: () =>
            toast.success(`Disconnected ${page.pageName}`, {
              description: 'Its contacts and sync history are kept.',
            }),
          onFailed: failure(`Failed to disconnect ${page.pageName}`),
        }),
      /** A failure is the form's to show. */
      /** A new token for a page whose sync asked to reconnect it; a failure is the form's to show. */
      replaceToken: async (page: ConnectedPage, accessToken: string) => {
        await api.replacePageToken(page.id, accessToken);
        toast.success(`Reconnected ${page.pageName}`, { description: 'Sync again to continue.' });
        await refreshQuietly();
        tellOtherTabs(page.id);
      },
      connect: async (input: Parameters<Api['connectPage']>[0]) => {
        const page = await api.connectPage(input);
        toast.success(`Connected ${page.pageName}`);
        await refreshQuietly();
        tellOtherTabs(page.id);
      },
    };
  }, [api, mark, refreshQuietly, tellOtherTabs]);

  const views = useMemo<CardView[] | null>(
    () => pages?.map((page) => cardView(page, pending[page.id])) ?? null,
    [pages, pending],
  );

  return {
    pages: views,
    loadError,
    pollError,
    retry: () => refresh().catch((error) => setLoadError(errorMessage(error))),
    ...actions,
  };
}
