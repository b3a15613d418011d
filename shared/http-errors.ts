/**
 * Errors written for clients: a status code and a public message. `@middy/http-error-handler`
 * turns them into `{ "error": ... }` responses (see shared/http.ts). Anything else becomes a 500
 * with a fixed message, so internals never reach a client. The domain raises its own errors
 * (shared/domain-errors.ts); shared/http-error-map.ts answers them with these.
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
