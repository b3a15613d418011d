import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { sleep } from '../sleep.ts';
import { ddb, isConditionalCheckFailed } from '../store/db.ts';
import { RATE_LIMITS_KEYS } from '../store/table-keys.ts';

/** Runs Graph calls within a budget per key (a Page's Messenger inbox, or its Instagram account). */
export interface CallLimiter {
  run<T>(key: string, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T>;
}

/**
 * The slots of a budget of `callsPerSecond`: `capacity` calls per `windowMs` (a rate below one
 * call per second is one slot over a longer window). `name` is the setting, for the error.
 */
export function budgetSlots(callsPerSecond: number, name: string): { capacity: number; windowMs: number } {
  if (!(callsPerSecond > 0)) throw new Error(`${name} must be > 0, got ${callsPerSecond}`);
  const capacity = Math.max(1, Math.floor(callsPerSecond));
  return { capacity, windowMs: (capacity * 1000) / callsPerSecond };
}

/** How long a taken slot stays taken if its worker dies before answering (the request timeout). */
const LEASE_MS = 35_000;

/**
 * The per-Page budget shared by every worker, wherever it runs, kept in DynamoDB: `capacity`
 * slots per key (the calls allowed per window, e.g. 2 per second). A call takes a free slot with
 * one conditional write, and the slot is free again only a full window after the call's answer
 * came back. Graph counts a call when it arrives, somewhere between our send and its answer, so
 * this keeps every window of arrivals within the budget however late a call travels; spacing
 * sends alone would not. A worker that dies mid-call loses its slot for LEASE_MS at most.
 */
export class DynamoRateLimiter implements CallLimiter {
  private readonly capacity: number;
  private readonly windowMs: number;

  constructor(
    private readonly tableName: string,
    callsPerSecond: number,
  ) {
    ({ capacity: this.capacity, windowMs: this.windowMs } = budgetSlots(callsPerSecond, 'callsPerSecond'));
  }

  async run<T>(key: string, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
    const { slot, lease } = await this.take(key, signal);
    try {
      return await call();
    } finally {
      await this.release(key, slot, lease, Date.now() + this.windowMs);
    }
  }

  private async take(key: string, signal: AbortSignal | undefined): Promise<{ slot: string; lease: number }> {
    for (;;) {
      signal?.throwIfAborted();
      const out = await ddb.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { [RATE_LIMITS_KEYS.partitionKey]: key },
          ConsistentRead: true,
        }),
      );
      const slots = Array.from({ length: this.capacity }, (_, i) => {
        const freeAt = out.Item?.[`s${i}`];
        return { name: `s${i}`, freeAt: typeof freeAt === 'number' ? freeAt : undefined };
      });
      const now = Date.now();
      const earliest = slots.reduce((a, b) => ((a.freeAt ?? 0) <= (b.freeAt ?? 0) ? a : b));
      if ((earliest.freeAt ?? 0) > now) {
        await sleep(Math.min((earliest.freeAt ?? 0) - now, 1000), signal);
        continue;
      }
      const lease = now + LEASE_MS;
      // Taken only if nobody took it since we looked.
      const taken = await this.writeSlot(
        key,
        earliest.name,
        `SET #slot = :lease, ${RATE_LIMITS_KEYS.timeToLive} = :expires`,
        earliest.freeAt === undefined ? 'attribute_not_exists(#slot)' : '#slot = :seen',
        {
          ':lease': lease,
          ':expires': Math.ceil((now + 3_600_000) / 1000),
          ...(earliest.freeAt === undefined ? {} : { ':seen': earliest.freeAt }),
        },
      );
      if (taken) return { slot: earliest.name, lease };
    }
  }

  private async release(key: string, slot: string, lease: number, freeAt: number): Promise<void> {
    // Refused when our lease ran out and someone else holds the slot now: nothing to release.
    await this.writeSlot(key, slot, 'SET #slot = :freeAt', '#slot = :lease', {
      ':freeAt': freeAt,
      ':lease': lease,
    });
  }

  /** Updates the `#slot` of `key`'s item under `condition`; false when the condition refused it. */
  private async writeSlot(
    key: string,
    slot: string,
    update: string,
    condition: string,
    values: Record<string, number>,
  ): Promise<boolean> {
    try {
      await ddb.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [RATE_LIMITS_KEYS.partitionKey]: key },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#slot': slot },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      return false;
    }
  }
}
