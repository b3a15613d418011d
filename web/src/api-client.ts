import { ROUTES, type RouteName, routePath } from '#shared/api/routes.ts';
import type { ConsoleConfig } from './console-config.ts';
import type {
  CancelResult,
  ConnectedPage,
  ExecutionAnswer,
  JobWithExecutions,
  SyncJob,
  SyncMode,
} from './types.ts';

/** An answer other than 2xx: the status and the API's `{ error }` message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface Api {
  listPages(): Promise<ConnectedPage[]>;
  /** Without a mode the API chooses: incremental when the page was synced before, else full. */
  startSync(pageId: string, mode?: SyncMode): Promise<{ jobId: string }>;
  cancelSync(jobId: string, reason?: string): Promise<CancelResult>;
  pauseSync(jobId: string): Promise<{ success: true; job: SyncJob }>;
  resumeSync(jobId: string): Promise<{ success: true; job: SyncJob }>;
  retrySync(jobId: string): Promise<{ jobId: string }>;
  disconnectPage(pageId: string): Promise<void>;
  /** The API checks the token with Facebook and takes the page's name and Instagram account from it. */
  connectPage(input: {
    pageId: string;
    accessToken: string;
    pageName?: string;
    instagramAccountId?: string;
  }): Promise<ConnectedPage>;
  /** A new token for a connected page (after "reconnect the page"); its contacts and history stay. */
  replacePageToken(pageId: string, accessToken: string): Promise<ConnectedPage>;
  /** A job's counters and its executions, in the order they started. */
  syncStatus(jobId: string): Promise<JobWithExecutions>;
  /** One execution of a job, its history summarized; `stale` (with a Retry-After) when the read was throttled. */
  syncExecution(jobId: string, name: string): Promise<ExecutionAnswer>;
}

/**
 * A Retry-After header as milliseconds: delay-seconds or an HTTP date; null when absent or unreadable
 * (a cross-origin answer shows it only when the API exposes it).
 */
export function retryAfterMs(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * The HTTP API with a bearer token. On a 401 it asks `renewToken` once for a new token (the local
 * dev token is re-signed by re-reading config.json) and retries; otherwise the 401 is thrown.
 */
export function createApi(config: ConsoleConfig, renewToken: () => Promise<string | null>): Api {
  let token = config.token;

  /** The answer's JSON body and its headers; an answer other than 2xx is thrown as an ApiError. */
  async function send<T>(
    method: string,
    path: string,
    body?: unknown,
    retried = false,
  ): Promise<{ body: T; headers: Headers }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${config.apiUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'The API cannot be reached');
    }
    if (res.status === 401 && !retried) {
      const renewed = await renewToken();
      if (renewed && renewed !== token) {
        token = renewed;
        return send<T>(method, path, body, true);
      }
    }
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = {};
    }
    if (!res.ok) {
      const message = typeof parsed.error === 'string' ? parsed.error : `HTTP ${res.status}`;
      throw new ApiError(res.status, message, parsed);
    }
    return { body: parsed as T, headers: res.headers };
  }

  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> =>
    (await send<T>(method, path, body)).body;

  /** A route of the table (shared/api/routes.ts), at `path` (default: its own, without parameters). */
  const route = <T>(name: RouteName, body?: unknown, path: string = ROUTES[name].path) =>
    call<T>(ROUTES[name].method, path, body);
  return {
    listPages: async () => (await route<{ pages: ConnectedPage[] }>('listPages')).pages,
    startSync: (pageId, mode) => route('startSync', mode ? { pageId, mode } : { pageId }),
    cancelSync: (jobId, reason) => route('cancelSync', reason ? { jobId, reason } : { jobId }),
    pauseSync: (jobId) => route('pauseSync', { jobId }),
    resumeSync: (jobId) => route('resumeSync', { jobId }),
    retrySync: (jobId) => route('retrySync', { jobId }),
    disconnectPage: async (pageId) => {
      await route('disconnectPage', undefined, routePath('disconnectPage', { pageId }));
    },
    connectPage: async (input) => (await route<{ page: ConnectedPage }>('connectPage', input)).page,
    replacePageToken: async (pageId, accessToken) =>
      (
        await route<{ page: ConnectedPage }>(
          'replacePageToken',
          { accessToken },
          routePath('replacePageToken', { pageId }),
        )
      ).page,
    syncStatus: async (jobId) =>
      (await route<{ job: JobWithExecutions }>('syncStatus', undefined, routePath('syncStatus', { jobId })))
        .job,
    syncExecution: async (jobId, name) => {
      const { body, headers } = await send<Omit<ExecutionAnswer, 'retryAfterMs'>>(
        ROUTES.syncExecution.method,
        routePath('syncExecution', { jobId, name }),
      );
      return { ...body, retryAfterMs: body.stale ? retryAfterMs(headers.get('retry-after')) : null };
    },
  };
}
