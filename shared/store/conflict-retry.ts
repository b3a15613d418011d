import { sleep } from '../sleep.ts';

/**
 * DynamoDB refuses a write that meets a transaction in flight on the same item: a single-item
 * write with TransactionConflictException, a transaction with TransactionCanceledException whose
 * reasons name TransactionConflict. The SDK retries neither. Every writer of this product can meet
 * one (the job item is written by the chunk workers' commits, cancel, pause, the phase updates and
 * the execution mirror at once), so every request of the shared client retries them here, with
 * full jitter, before the caller sees anything.
 *
 * A conflict is a definite "not applied": the retry is a new request. It runs the SDK's whole
 * pipeline again, so a transaction gets a fresh ClientRequestToken unless the caller set one (a
 * token of a refused request must not be reused with other parameters).
 *
 * A transaction cancelled for any other reason as well (a failed condition, say) is not a conflict:
 * it is the caller's to read.
 */
export const CONFLICT_ATTEMPTS = 16;
const BASE_MS = 10;
const CAP_MS = 500;

/** Conflicts met and retried by this process's clients (the benchmark reads them). */
export const conflictRetries = { conflicts: 0, retries: 0, gaveUp: 0 };

export function isTransactionConflict(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'TransactionConflictException') return true;
  if (error.name !== 'TransactionCanceledException') return false;
  const reasons = ((error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map(
    (r) => r.Code ?? 'None',
  );
  return (
    reasons.includes('TransactionConflict') &&
    reasons.every((r) => r === 'None' || r === 'TransactionConflict')
  );
}

/** Full jitter: a random wait up to base * 2^attempt, capped. */
export const conflictBackoffMs = (attempt: number) =>
  Math.random() * Math.min(CAP_MS, BASE_MS * 2 ** attempt);

type Handler = (args: { input: Record<string, unknown> }) => Promise<unknown>;
interface MiddlewareStackLike {
  add(
    middleware: (next: Handler) => Handler,
    options: { step: 'initialize'; name: string; override?: boolean },
  ): void;
}

/** Adds the conflict retry to a DynamoDB client (or a document client, which shares its stack). */
export function retryTransactionConflicts(client: { middlewareStack: unknown }): void {
  (client.middlewareStack as MiddlewareStackLike).add(
    (next) => async (args) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await next(args);
        } catch (error) {
          if (!isTransactionConflict(error)) throw error;
          conflictRetries.conflicts++;
          if (attempt >= CONFLICT_ATTEMPTS) {
            conflictRetries.gaveUp++;
            throw error;
          }
          conflictRetries.retries++;
          await sleep(conflictBackoffMs(attempt));
        }
      }
    },
    { step: 'initialize', name: 'retryTransactionConflicts', override: true },
  );
}
