/**
 * Typed errors. HTTP errors carry a status code and a public message; `@middy/http-error-handler`
 * turns them into `{ "error": ... }` responses (see shared/http.ts). Anything else becomes a 500
 * with a fixed message, so internals never reach a client.
 */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly expose: boolean;
  readonly publicMessage: string;

  constructor(statusCode: number, publicMessage: string, extra: Record<string, unknown> = {}) {
    // middy's error handler sends `message` as the body; a JSON string is sent as application/json.
    // `error` first, and never replaced by an extra field.
    const { error: _ignored, ...rest } = extra;
    super(JSON.stringify({ error: publicMessage, ...rest }));
    this.name = 'HttpError';
    this.statusCode = statusCode;
    // Every HttpError message is written for clients; unexpected errors become a fixed 500.
    this.expose = true;
    this.publicMessage = publicMessage;
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
export const unauthorized = (message = 'Unauthorized') => new HttpError(401, message);
export const forbidden = (message = 'Forbidden') => new HttpError(403, message);
export const notFound = (message = 'Not found') => new HttpError(404, message);
export const conflict = (message: string, extra: Record<string, unknown> = {}) =>
  new HttpError(409, message, extra);

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

const THROTTLING_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

/** An AWS throttling error, including a DynamoDB transaction cancelled because an item was throttled. */
export function isThrottling(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (THROTTLING_ERRORS.has(error.name)) return true;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  return (
    error.name === 'TransactionCanceledException' && !!reasons?.some((r) => r.Code === 'ThrottlingError')
  );
}
