/**
 * What the domain (shared/sync, shared/pages) raises when a request cannot be done. Each message
 * is written for clients and is what they see; the HTTP edge picks the status code and body from
 * the class (shared/http-error-map.ts). The domain never speaks HTTP.
 */
export abstract class DomainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class JobNotFound extends DomainError {
  constructor() {
    super('Sync job not found');
  }
}

export class ExecutionNotFound extends DomainError {
  constructor() {
    super('Execution not found');
  }
}

export class NotJobOwner extends DomainError {
  constructor() {
    super('Sync job belongs to another organization');
  }
}

/** The job's status does not allow `action` ("cancel", "pause", "resume", "retry", "clean up"). */
export class InvalidTransition extends DomainError {
  constructor(
    readonly action: string,
    readonly status: string,
  ) {
    super(`Cannot ${action} job with status: ${status}`);
  }
}

export class PageNotConnected extends DomainError {
  constructor() {
    super('Page not connected');
  }
}

export class NotPageOwner extends DomainError {
  constructor() {
    super('Page belongs to another organization');
  }
}

export class PageAlreadyConnected extends DomainError {
  constructor() {
    super('Page is already connected');
  }
}

/** Another job holds the page's lock: no second sync of the page can start. */
export class PageLocked extends DomainError {
  constructor(readonly activeJobId: string | null) {
    super('A sync is already running for this page');
  }
}

/** A disconnect kept finding a new sync on the page. */
export class PageBusy extends DomainError {
  constructor() {
    super('The page is busy with a sync that keeps restarting; try again');
  }
}

/** Facebook rejected the access token given to connect or re-token a page (invalid, expired, revoked). */
export class PageTokenRejected extends DomainError {
  constructor(why: string) {
    super(`Facebook rejected the access token (${why}): give a valid Page access token.`);
  }
}

/** The access token lacks a permission the sync needs (messaging access to the page's inboxes). */
export class PagePermissionMissing extends DomainError {
  constructor(permission: string | undefined, code: number) {
    const which = permission ? `${permission}, ` : '';
    super(
      `The access token is missing a permission the sync needs (${which}Graph error ${code}): grant it and try again.`,
    );
  }
}

/** The access token is not a Page token of the page named in the request. */
export class TokenOfAnotherPage extends DomainError {
  constructor(pageId: string) {
    super(`The access token is not a Page access token of page ${pageId}: give that page's token.`);
  }
}

/** Graph is down or throttling: the token could not be checked, nothing was changed. */
export class GraphUnavailable extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super(
      'Facebook is unavailable or throttling, so the token could not be checked; nothing was changed. Try again later.',
    );
  }
}

/** The page's token cannot be replaced while its sync runs (a paused sync does not block it). */
export class PageSyncRunning extends DomainError {
  constructor(readonly activeJobId: string) {
    super('A sync is running for this page: pause or stop it, then replace the token');
  }
}

/** A paging cursor that this service did not hand out (or that was altered). */
export class InvalidCursor extends DomainError {
  constructor() {
    super('cursor is invalid');
  }
}

/** The execution of a start or a resume could not be launched; nothing is left half done. */
export class SyncNotLaunched extends DomainError {
  constructor(readonly action: 'start' | 'resume') {
    super(`The sync could not be ${action === 'start' ? 'started' : 'resumed'}. Try again.`);
  }
}

/** Thrown by workers when the job is no longer IN_PROGRESS: the chunk stops writing at once. */
export class JobNotRunningError extends Error {
  constructor(readonly jobId: string) {
    super(`Job ${jobId} is no longer in progress`);
    this.name = 'JobNotRunningError';
  }
}

/** Thrown by workers for failures the user must act on (for example: reconnect the page). */
export class SyncFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncFailedError';
  }
}
