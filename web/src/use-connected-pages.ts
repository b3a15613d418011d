import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { toast } from 'sonner';
import { type Api, ApiError } from './api.ts';
import { rememberBaseline } from './preferences.ts';
import { completedText, type PagePhase, plural, syncedText } from './sync-text.ts';
import { openTabChannel } from './tabs.ts';
import { type ConnectedPage, isActive, isPaused, type SyncJob, type SyncMode } from './types.ts';

export { type PagePhase, plural, syncedText };

/**
 * Polling while a sync is active: the first poll after half a second, then 1.5x slower while
 * nothing changes, never slower than MAX_POLL_MS, so a change made anywhere (another tab, another
 * device, curl) shows within 2 s; back to the fastest pace whenever something moves. No polling at
 * all while every page is idle: then the list is refreshed when the tab becomes visible again or
 * another tab says something changed.
 */
export const MIN_POLL_MS = 500;
export const MAX_POLL_MS = 1500;
/** After a failed poll: doubling from 2 s up to 10 s, until the API answers again. */
const MAX_ERROR_POLL_MS = 10_000;

export interface PageView {
  page: ConnectedPage;
  phase: PagePhase;
  /** The active (or paused) job while there is one, else the page's last job (the outcome to show). */
  job: SyncJob | null;
  /** While starting: the user asked for a full re-sync. */
  startingFull?: boolean;
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** What changes while a sync runs; a poll that sees the same signature backs off. */
const signature = (pages: ConnectedPage[] | null) =>
  JSON.stringify(
    pages?.map((p) => [
      p.id,
      p.contactCount,
      p.activeJob?.status,
      p.activeJob?.syncedContacts,
      p.activeJob?.progress,
      p.activeJob?.progressEstimated,
      p.activeJob?.totalContacts,
    ]),
  );

function announceOutcome(job: SyncJob, pageName: string): void {
  if (job.status === 'CANCELLED') toast.success(`Sync cancelled for ${pageName}`);
  else if (job.status === 'COMPLETED')
    toast.success(`Sync completed for ${pageName}`, { description: completedText(job) });
  else if (job.status === 'FAILED')
    toast.error(`Sync failed for ${pageName}`, { description: job.error ?? 'Unknown error' });
}

/** The connected pages with their sync state, kept current while anything is active. */
export function useConnectedPages(api: Api) {
  const [pages, setPages] = useState<ConnectedPage[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [pollError, setPollError] = useState<string | null>(null);
  const [stopping, setStopping] = useState<Record<string, string>>({});
  /** Start or retry requests in flight, by page: 'full' for a deliberate full re-sync. */
  const [starting, setStarting] = useState<Record<string, 'sync' | 'full'>>({});
  /** Pause or resume requests in flight, by page. */
  const [toggling, setToggling] = useState<Record<string, 'pausing' | 'resuming'>>({});
  const stoppingRef = useRef(stopping);
  stoppingRef.current = stopping;
  /** Jobs whose outcome this tab already told the user about. */
  const announced = useRef(new Set<string>());
  /** The active job this tab last saw on each page: its end is announced when it is seen ending. */
  const seenActive = useRef(new Map<string, string>());
  const requested = useRef(0);
  const applied = useRef(0);
  const channel = useRef<ReturnType<typeof openTabChannel> | null>(null);

  const apply = useCallback((next: ConnectedPage[]) => {
    for (const page of next) {
      const active = page.activeJob;
      if (isPaused(active)) {
        // Paused still holds the page: its end (after a resume or a cancel) is announced later.
        seenActive.current.set(page.id, active.id);
        continue;
      }
      if (isActive(active)) {
        seenActive.current.set(page.id, active.id);
        // Seen before its first write: the count now is the count before the sync.
        if (active.syncedContacts === 0) rememberBaseline(active.id, page.contactCount);
        continue;
      }
      const endedId = seenActive.current.get(page.id);
      if (!endedId) continue;
      seenActive.current.delete(page.id);
      const ended = page.lastJob?.id === endedId ? page.lastJob : null;
      // A stop in progress in this tab reports its own outcome.
      if (ended && !announced.current.has(ended.id) && !stoppingRef.current[page.id]) {
        announced.current.add(ended.id);
        announceOutcome(ended, page.pageName);
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

  const refreshQuietly = useCallback(() => {
    refresh().catch((error) => setPollError(errorMessage(error)));
  }, [refresh]);

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

  const anyActive =
    !!pages?.some((p) => isActive(p.activeJob)) ||
    Object.keys(stopping).length > 0 ||
    Object.keys(toggling).length > 0;
  const pagesRef = useRef(pages);
  pagesRef.current = pages;

  useEffect(() => {
    if (!anyActive) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay = MIN_POLL_MS;
    let last = signature(pagesRef.current);
    const tick = async () => {
      try {
        await refresh();
        const now = signature(pagesRef.current);
        delay = now === last ? Math.min(delay * 1.5, MAX_POLL_MS) : MIN_POLL_MS;
        last = now;
      } catch (error) {
        setPollError(errorMessage(error));
        delay = Math.min(Math.max(delay * 2, 2000), MAX_ERROR_POLL_MS);
      }
      if (!cancelled) timer = setTimeout(tick, delay);
    };
    timer = setTimeout(tick, delay);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [anyActive, refresh]);

  const tellOtherTabs = useCallback(
    (pageId: string) => channel.current?.post({ type: 'changed', pageId }),
    [],
  );

  /** Without a mode the API chooses (incremental when the page was synced before); 'full' re-reads everything. */
  const startSync = useCallback(
    async (page: ConnectedPage, mode?: SyncMode) => {
      setStarting((s) => ({ ...s, [page.id]: mode === 'full' ? 'full' : 'sync' }));
      try {
        const { jobId } = await api.startSync(page.id, mode);
        rememberBaseline(jobId, page.contactCount);
        seenActive.current.set(page.id, jobId);
      } catch (error) {
        if (error instanceof ApiError && error.status === 409)
          toast.info(`A sync is already running for ${page.pageName}`);
        else toast.error(`Failed to start sync for ${page.pageName}`, { description: errorMessage(error) });
      }
      await refresh().catch((error) => setPollError(errorMessage(error)));
      setStarting(({ [page.id]: _, ...rest }) => rest);
      tellOtherTabs(page.id);
    },
    [api, refresh, tellOtherTabs],
  );

  const stopSync = useCallback(
    async (page: ConnectedPage, job: SyncJob) => {
      setStopping((s) => ({ ...s, [page.id]: job.id }));
      stoppingRef.current = { ...stoppingRef.current, [page.id]: job.id };
      announced.current.add(job.id);
      let failure: unknown = null;
      try {
        await api.cancelSync(job.id);
      } catch (error) {
        failure = error;
      }
      // The toast comes with the card's final state (the new count, or the completed result).
      await refresh().catch((error) => setPollError(errorMessage(error)));
      setStopping(({ [page.id]: _, ...rest }) => rest);
      if (!failure) toast.success(`Sync cancelled for ${page.pageName}`);
      // 400: the job ended (completed or failed) before the stop reached it; its outcome shows.
      else toast.error(`Failed to cancel sync for ${page.pageName}`, { description: errorMessage(failure) });
      tellOtherTabs(page.id);
    },
    [api, refresh, tellOtherTabs],
  );

  /** Pause (the answer's counters are final until a resume) or resume a sync. */
  const toggle = useCallback(
    async (page: ConnectedPage, job: SyncJob, action: 'pausing' | 'resuming') => {
      setToggling((s) => ({ ...s, [page.id]: action }));
      try {
        if (action === 'pausing') {
          const { job: paused } = await api.pauseSync(job.id);
          toast.success(`Sync paused for ${page.pageName}`, {
            description: `${syncedText(paused)} so far. Resume continues from here.`,
          });
        } else {
          await api.resumeSync(job.id);
          toast.success(`Sync resumed for ${page.pageName}`);
        }
      } catch (error) {
        // 400: the job finished, or was cancelled, before the request reached it; its state shows.
        toast.error(`Failed to ${action === 'pausing' ? 'pause' : 'resume'} sync for ${page.pageName}`, {
          description: errorMessage(error),
        });
      }
      await refresh().catch((error) => setPollError(errorMessage(error)));
      setToggling(({ [page.id]: _, ...rest }) => rest);
      tellOtherTabs(page.id);
    },
    [api, refresh, tellOtherTabs],
  );
  const pauseSync = useCallback(
    (page: ConnectedPage, job: SyncJob) => toggle(page, job, 'pausing'),
    [toggle],
  );
  const resumeSync = useCallback(
    (page: ConnectedPage, job: SyncJob) => toggle(page, job, 'resuming'),
    [toggle],
  );

  /** A new sync that skips what the stopped one (FAILED or CANCELLED) already did. */
  const retrySync = useCallback(
    async (page: ConnectedPage, job: SyncJob) => {
      setStarting((s) => ({ ...s, [page.id]: 'sync' }));
      try {
        const { jobId } = await api.retrySync(job.id);
        rememberBaseline(jobId, page.contactCount);
        seenActive.current.set(page.id, jobId);
        toast.success(`Retrying the sync of ${page.pageName}`, {
          description: 'Conversations the stopped sync finished are skipped.',
        });
      } catch (error) {
        if (error instanceof ApiError && error.status === 409)
          toast.info(`A sync is already running for ${page.pageName}`);
        else toast.error(`Failed to retry sync for ${page.pageName}`, { description: errorMessage(error) });
      }
      await refresh().catch((error) => setPollError(errorMessage(error)));
      setStarting(({ [page.id]: _, ...rest }) => rest);
      tellOtherTabs(page.id);
    },
    [api, refresh, tellOtherTabs],
  );

  const disconnect = useCallback(
    async (page: ConnectedPage) => {
      try {
        await api.disconnectPage(page.id);
        toast.success(`Disconnected ${page.pageName}`, {
          description: 'Its contacts and sync history are kept.',
        });
      } catch (error) {
        toast.error(`Failed to disconnect ${page.pageName}`, { description: errorMessage(error) });
      }
      await refresh().catch((error) => setPollError(errorMessage(error)));
      tellOtherTabs(page.id);
    },
    [api, refresh, tellOtherTabs],
  );

  const connect = useCallback(
    async (input: Parameters<Api['connectPage']>[0]) => {
      const page = await api.connectPage(input);
      toast.success(`Connected ${page.pageName}`);
      await refresh().catch((error) => setPollError(errorMessage(error)));
      tellOtherTabs(page.id);
    },
    [api, refresh, tellOtherTabs],
  );

  const views = useMemo<PageView[] | null>(
    () =>
      pages?.map((page) => {
        const active = isActive(page.activeJob) || isPaused(page.activeJob) ? page.activeJob : null;
        const phase: PagePhase = stopping[page.id]
          ? 'stopping'
          : starting[page.id]
            ? 'starting'
            : toggling[page.id]
              ? (toggling[page.id] as PagePhase)
              : isPaused(active)
                ? 'paused'
                : active
                  ? 'syncing'
                  : 'idle';
        return {
          page,
          phase,
          job: active ?? page.lastJob,
          ...(phase === 'starting' && starting[page.id] === 'full' ? { startingFull: true } : {}),
        };
      }) ?? null,
    [pages, stopping, starting, toggling],
  );

  return {
    pages: views,
    loadError,
    pollError,
    retry: () => refresh().catch((error) => setLoadError(errorMessage(error))),
    startSync,
    stopSync,
    pauseSync,
    resumeSync,
    retrySync,
    disconnect,
    connect,
  };
}
