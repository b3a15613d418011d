import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { sleep } from '../sleep.ts';
import { ddb, isConditionalCheckFailed } from '../store/db.ts';

/** Runs Graph calls within a budget per key (a Page's Messenger inbox, or its Instagram account). */
export interface CallLimiter {
  run<T>(key: string, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T>;
}

/**
 * Spacing of reserved slots for `callsPerSecond`: the nominal 1000 / rate plus 50 ms of slack,
 * because a call can start late (its reservation write was slow) while the next starts on time,
 * and Graph counts arrivals. At the documented 2 calls/s this is 550 ms.
 */
/** How late a call may start after its slot; half the slack in slotIntervalMs. */
const LATE_MS = 25;

export function slotIntervalMs(callsPerSecond: number): number {
  return Math.ceil(1000 / callsPerSecond) + 50;
}

/**
 * The per-Page budget shared by every worker, wherever it runs: a GCRA ("virtual scheduling")
 * bucket in DynamoDB. Each call reserves the next free slot with one conditional write on the
 * key's `nextAt`, then waits for its slot. Slots are spaced `intervalMs` apart (slotIntervalMs).
 * Idle keys cost one write per call; contention costs one more write per lost race.
 */
export class DynamoRateLimiter implements CallLimiter {
  constructor(
    private readonly tableName: string,
    private readonly intervalMs: number,
  ) {}

  async run<T>(key: string, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
    for (;;) {
      const slot = await this.reserve(key);
      const wait = slot - Date.now();
      if (wait > 0) await sleep(wait, signal);
      // Too late for the slot (a slow write, a busy event loop): calling now could crowd the next
      // slot's call into the same second, so give this one up and reserve again.
      if (Date.now() - slot <= LATE_MS) return call();
    }
  }

  /** The time (epoch ms) of the slot reserved for one call of `key`. */
  private async reserve(key: string): Promise<number> {
    let seen: number | undefined; // the bucket's nextAt, once known
    for (let attempt = 0; attempt < 50; attempt++) {
      const now = Date.now();
      const slot = seen === undefined || seen <= now ? now : seen;
      try {
        await ddb.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { bucket: key },
            UpdateExpression: 'SET nextAt = :next, expiresAt = :expires',
            // Idle (or new) bucket: take "now". Busy bucket: take exactly the slot we saw.
            ConditionExpression:
              slot === now ? 'attribute_not_exists(nextAt) OR nextAt <= :now' : 'nextAt = :seen',
            ExpressionAttributeValues: {
              ':next': slot + this.intervalMs,
              ':expires': Math.ceil((slot + 3_600_000) / 1000),
              ...(slot === now ? { ':now': now } : { ':seen': seen }),
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return slot;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        seen = nextAtOf(error);
      }
    }
    throw new Error(`Could not reserve a Graph API slot for ${key}`);
  }
}

/** `nextAt` from a failed conditional write's returned item (AttributeValue or plain form). */
function nextAtOf(error: unknown): number | undefined {
  const item = (error as { Item?: Record<string, unknown> }).Item;
  const raw = item?.nextAt as { N?: string } | number | undefined;
  if (typeof raw === 'number') return raw;
  return raw?.N === undefined ? undefined : Number(raw.N);
}
