import type { MiddlewareObj } from '@middy/core';
import {
  type DomainError,
  ExecutionNotFound,
  GraphUnavailable,
  InvalidCursor,
  InvalidTransition,
  JobNotFound,
  NotJobOwner,
  NotPageOwner,
  PageAlreadyConnected,
  PageBusy,
  PageLocked,
  PageNotConnected,
  PagePermissionMissing,
  PageSyncRunning,
  PageTokenRejected,
  SyncNotLaunched,
  TokenOfAnotherPage,
} from './domain-errors.ts';
import type { HttpEvent, HttpResult } from './http.ts';
import { HttpError } from './http-errors.ts';

// biome-ignore lint/suspicious/noExplicitAny: any constructor signature
type ErrorClass<E extends DomainError> = abstract new (...args: any[]) => E;

interface HttpAnswer<E extends DomainError> {
  error: ErrorClass<E>;
  status: number;
  /** Fields the body carries besides `error`. */
  body?: (error: E) => Record<string, unknown>;
  /** Headers the answer carries (e.g. Retry-After). */
  headers?: (error: E) => Record<string, string>;
}

const answer = <E extends DomainError>(entry: HttpAnswer<E>) => entry as unknown as HttpAnswer<DomainError>;

/** How the HTTP edge answers each domain error: the one place a domain error meets a status code. */
export const HTTP_ANSWERS: readonly HttpAnswer<DomainError>[] = [
  answer({ error: JobNotFound, status: 404 }),
  answer({ error: ExecutionNotFound, status: 404 }),
  answer({ error: PageNotConnected, status: 404 }),
  answer({ error: NotJobOwner, status: 403 }),
  answer({ error: NotPageOwner, status: 403 }),
  answer({ error: InvalidTransition, status: 400 }),
  answer({ error: InvalidCursor, status: 400 }),
  answer({ error: PageAlreadyConnected, status: 409 }),
  answer({ error: PageBusy, status: 409 }),
  answer({ error: PageLocked, status: 409, body: (e) => ({ activeJobId: e.activeJobId }) }),
  answer({ error: SyncNotLaunched, status: 503 }),
  answer({ error: PageSyncRunning, status: 409, body: (e) => ({ activeJobId: e.activeJobId }) }),
  // A token Facebook refuses is the request's fault: 400, never 401 (the caller's own session is fine).
  answer({ error: PageTokenRejected, status: 400 }),
  answer({ error: PagePermissionMissing, status: 400 }),
  answer({ error: TokenOfAnotherPage, status: 400 }),
  answer({
    error: GraphUnavailable,
    status: 503,
    headers: (e) => ({ 'Retry-After': String(e.retryAfterSeconds) }),
  }),
];

/** The HTTP error a domain error is answered with; anything else is left as it is. */
export function asHttpError(error: unknown): unknown {
  const entry = HTTP_ANSWERS.find((candidate) => error instanceof candidate.error);
  if (!entry) return error;
  const domain = error as DomainError;
  const http = new HttpError(entry.status, domain.message, entry.body?.(domain));
  const headers = entry.headers?.(domain);
  return headers ? Object.assign(http, { headers }) : http;
}

/** Answers the domain errors a core raises (runs before the error handler). */
export const domainErrorsAsHttp: MiddlewareObj<HttpEvent, HttpResult> = {
  onError: async (request) => {
    if (request.response === undefined) request.error = asHttpError(request.error) as Error;
  },
};
