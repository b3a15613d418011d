import { sleep } from '../sleep.ts';
import {
  type CommitEntry,
  type CommitOutcome,
  commitBatch,
  MAX_BATCH_ENTRIES,
} from '../store/contact-commit.ts';

/**
 * Collects a chunk's results (contacts, failed conversations, and at the end the chunk's marker)
 * and commits them in batches (store/contact-commit.ts), so that the job's counter item is written
 * once per batch instead of once per contact.
 *
 * When a batch is committed:
 * - when it is full (`maxEntries`), or when its oldest entry is about to be `maxAgeMs` old,
 *   whichever comes first: the user sees progress at least every `maxAgeMs`;
 * - and, when the chunk knows its `slot`, only at the start of one of its own time slots. The
 *   chunks of one job that run at once (the Map's concurrency) have different slots, so their
 *   commits on the job item do not overlap by construction: a slot is `widthMs` wide, and a job's
 *   chunk i of n flushes only in the slots where floor(time / widthMs) mod n = i mod n. With a
 *   fixed analysis latency the chunks run in lockstep, which would otherwise make every flush
 *   collide. The chunk's last commit (at `close`) waits i x widthMs instead: chunks that end
 *   together commit in turn, at little cost to the sync's time.
 *
 * Commits run one at a time, in order. The first failed commit (the job is no longer IN_PROGRESS,
 * or a fault) is kept: nothing more is committed, `add` throws it, `onFailure` hears it at once.
 */
export interface BatcherOptions {
  /** @default MAX_BATCH_ENTRIES */
  maxEntries?: number;
  /** @default 1000 */
  maxAgeMs?: number;
  /** This chunk's slot among the job's concurrent chunks: `index` (Map item index) of `count`. */
  slot?: { index: number; count: number; widthMs: number };
  /** Hears the first failed commit (to stop the chunk's other work). */
  onFailure?: (error: unknown) => void;
  commit?: typeof commitBatch;
  now?: () => number;
}

export type OutcomeCounts = Record<CommitOutcome, number>;

export class CommitBatcher {
  readonly outcomes: OutcomeCounts = {
    created: 0,
    updated: 0,
    failed: 0,
    'chunk-done': 0,
    'already-counted': 0,
  };
  /** Commits made (each writes the job item once). */
  commits = 0;
  private entries: CommitEntry[] = [];
  private oldestAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private readonly commit: typeof commitBatch;
  private readonly now: () => number;

  constructor(
    private readonly jobId: string,
    private readonly options: BatcherOptions = {},
  ) {
    this.maxEntries = Math.min(options.maxEntries ?? MAX_BATCH_ENTRIES, MAX_BATCH_ENTRIES);
    this.maxAgeMs = options.maxAgeMs ?? 1000;
    this.commit = options.commit ?? commitBatch;
    this.now = options.now ?? Date.now;
  }

  /** Queues an entry; throws the first failed commit's error instead, once there was one. */
  add(entry: CommitEntry): void {
    if (this.failure) throw this.failure.error;
    if (this.entries.length === 0) this.oldestAt = this.now();
    this.entries.push(entry);
    // A new batch gets its commit time; a full one may commit sooner. Otherwise the time stands.
    if (this.entries.length === 1 || this.entries.length === this.maxEntries) this.schedule();
  }

  /** Adds `last` (if any), commits everything queued, and waits for every commit. */
  async close(last?: CommitEntry): Promise<void> {
    if (last && !this.failure) this.entries.push(last);
    if (this.entries.length > 0 && !this.failure) {
      clearTimeout(this.timer);
      this.timer = undefined;
      await sleep(this.turnAtClose());
      this.flushAll();
    }
    await this.chain;
    if (this.failure) throw this.failure.error;
  }

  /** Stops without committing what is queued (the chunk is being abandoned). */
  discard(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.entries = [];
  }

  private schedule(): void {
    // No wait at all: every entry commits as soon as the commits before it are done.
    if (this.maxAgeMs <= 0 && !this.options.slot) {
      this.flushAll();
      return;
    }
    const now = this.now();
    const full = this.entries.length >= this.maxEntries;
    const at = full ? now + this.slotWait(now) : this.latestSlotStart(this.oldestAt + this.maxAgeMs, now);
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.flushAll();
      },
      Math.max(0, at - now),
    );
  }

  /**
   * The last commit waits only for the chunks of lower index that end with it (index x width):
   * chunks that run in lockstep end together, and then commit one after another, without waiting
   * for a slot of the cycle (a whole cycle added to every chunk's end would slow the sync).
   */
  private turnAtClose(): number {
    const slot = this.options.slot;
    return slot && slot.count > 1 ? (slot.index % slot.count) * slot.widthMs : 0;
  }

  /** Milliseconds from `now` to the start of this chunk's next slot (0 without slots, or in one). */
  private slotWait(now: number): number {
    const slot = this.options.slot;
    if (!slot || slot.count <= 1) return 0;
    const cycle = slot.count * slot.widthMs;
    const offset = (slot.index % slot.count) * slot.widthMs;
    const into = (((now - offset) % cycle) + cycle) % cycle;
    return into === 0 ? 0 : cycle - into;
  }

  /** The latest start of one of this chunk's slots at or before `deadline`, but not before `now`. */
  private latestSlotStart(deadline: number, now: number): number {
    const slot = this.options.slot;
    if (!slot || slot.count <= 1) return Math.max(now, deadline);
    const cycle = slot.count * slot.widthMs;
    const next = deadline + this.slotWait(deadline);
    const latest = next === deadline ? deadline : next - cycle;
    return latest >= now ? latest : now + this.slotWait(now);
  }

  private flushAll(): void {
    while (this.entries.length > 0 && !this.failure) {
      const batch = this.entries.splice(0, this.maxEntries);
      this.chain = this.chain.then(() => this.commitOne(batch));
    }
  }

  private async commitOne(batch: CommitEntry[]): Promise<void> {
    if (this.failure) return;
    try {
      const outcomes = await this.commit(this.jobId, batch);
      this.commits++;
      for (const outcome of outcomes) this.outcomes[outcome]++;
    } catch (error) {
      this.failure = { error };
      this.discard();
      this.options.onFailure?.(error);
    }
  }
}
