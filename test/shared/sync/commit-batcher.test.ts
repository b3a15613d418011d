import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CommitEntry, CommitOutcome } from '#shared/store/contact-commit.ts';
import { CommitBatcher } from '#shared/sync/commit-batcher.ts';
import { contact } from '../store/fixtures.ts';

/** A whole number of every slot cycle used below, so that slot arithmetic is easy to read. */
const BASE = 1_000_000;
const JOB = '00000000-0000-4000-8000-000000000001';

const failure = (n: number): CommitEntry => ({
  kind: 'failure',
  platform: 'messenger',
  conversationId: `t_${n}`,
  reason: 'no customer',
});
const contactEntry = (n: number, exists: boolean): CommitEntry => ({
  kind: 'contact',
  exists,
  contact: contact('page-1', `psid-${n}`),
});
const marker: CommitEntry = {
  kind: 'chunk-done',
  platform: 'messenger',
  after: null,
  conversations: 3,
  failed: 0,
};

function outcomeOf(entry: CommitEntry): CommitOutcome {
  if (entry.kind === 'contact') return entry.exists ? 'updated' : 'created';
  return entry.kind === 'failure' ? 'failed' : 'chunk-done';
}

interface Call {
  jobId: string;
  batch: CommitEntry[];
  at: number;
}

/**
 * A stand-in for commitBatch. By default every commit succeeds at once; with `manual`, each one
 * waits until the test releases it (`release(i)` / `fail(i, error)`).
 */
function fakeCommit(
  options: { manual?: boolean; outcomes?: (batch: CommitEntry[]) => CommitOutcome[] } = {},
) {
  const calls: Call[] = [];
  const gates: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const commit = vi.fn(async (jobId: string, batch: CommitEntry[]): Promise<CommitOutcome[]> => {
    calls.push({ jobId, batch: [...batch], at: Date.now() });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      if (options.manual)
        await new Promise<void>((resolve, reject) => {
          gates.push({ resolve, reject });
        });
      return options.outcomes ? options.outcomes(batch) : batch.map(outcomeOf);
    } finally {
      inFlight--;
    }
  });
  return {
    commit,
    calls,
    release: (i: number) => gates[i]?.resolve(),
    fail: (i: number, error: unknown) => gates[i]?.reject(error),
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

/** Lets the promise chains settle without moving the clock. */
const settle = () => vi.advanceTimersByTimeAsync(0);

const isOwnSlotStart = (at: number, index: number, count: number, widthMs: number) =>
  at % widthMs === 0 && Math.floor(at / widthMs) % count === index % count;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(BASE);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('CommitBatcher without a slot', () => {
  it('commits a full batch at once, without waiting for its age', async () => {
    const fake = fakeCommit();
    const batcher = new CommitBatcher(JOB, { maxEntries: 3, maxAgeMs: 60_000, commit: fake.commit });

    batcher.add(failure(1));
    batcher.add(failure(2));
    await settle();
    expect(fake.calls).toHaveLength(0);

    batcher.add(failure(3));
    await settle();

    expect(fake.calls).toEqual([{ jobId: JOB, batch: [failure(1), failure(2), failure(3)], at: BASE }]);
  });

  it('commits a partial batch when its oldest entry is maxAgeMs old, not before', async () => {
    const fake = fakeCommit();
    const batcher = new CommitBatcher(JOB, { maxAgeMs: 1000, commit: fake.commit, now: () => Date.now() });

    batcher.add(failure(1));
    await vi.advanceTimersByTimeAsync(400);
    // A later entry does not postpone the commit of the oldest one.
    batcher.add(failure(2));
    await vi.advanceTimersByTimeAsync(599);
    expect(fake.calls).toHaveLength(0);

    await vi.advanceTimersByTimeAsync(1);

    expect(fake.calls).toEqual([{ jobId: JOB, batch: [failure(1), failure(2)], at: BASE + 1000 }]);
    // The next entry starts a new batch with its own age.
    batcher.add(failure(3));
    await vi.advanceTimersByTimeAsync(999);
    expect(fake.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.calls.map((c) => [c.batch.length, c.at])).toEqual([
      [2, BASE + 1000],
      [1, BASE + 2000],
    ]);
  });

  it('commits every entry at once when maxAgeMs is 0', async () => {
    const fake = fakeCommit();
    const batcher = new CommitBatcher(JOB, { maxAgeMs: 0, commit: fake.commit, now: () => Date.now() });

    batcher.add(failure(1));
    await settle();
    expect(fake.calls.map((c) => c.batch)).toEqual([[failure(1)]]);

    batcher.add(failure(2));
    await settle();
    expect(fake.calls.map((c) => c.batch)).toEqual([[failure(1)], [failure(2)]]);
    expect(fake.calls.every((c) => c.at === BASE)).toBe(true);
  });

  it('never commits more than 98 entries at once, whatever maxEntries says', async () => {
    const fake = fakeCommit();
    const batcher = new CommitBatcher(JOB, { maxEntries: 500, maxAgeMs: 60_000, commit: fake.commit });

    for (let n = 0; n < 100; n++) batcher.add(failure(n));
    await settle();

    expect(fake.calls.map((c) => c.batch.length)).toEqual([98, 2]);
    expect(fake.calls.flatMap((c) => c.batch)).toEqual(Array.from({ length: 100 }, (_, n) => failure(n)));
  });
});

describe('CommitBatcher with a slot', () => {
  const count = 4;
  const widthMs = 100;

  for (const index of [0, 1, 2, 3, 6]) {
    it(`chunk ${index} of ${count} commits only at the start of its own slots, within maxAgeMs`, async () => {
      for (const offset of [0, 37, 100, 150, 250, 399, 1234]) {
        vi.setSystemTime(BASE + offset);
        const fake = fakeCommit();
        const batcher = new CommitBatcher(JOB, {
          maxAgeMs: 1000,
          slot: { index, count, widthMs },
          commit: fake.commit,
          now: () => Date.now(),
        });
        const oldest = Date.now();

        batcher.add(failure(1));
        await vi.advanceTimersByTimeAsync(300);
        batcher.add(failure(2));
        await vi.advanceTimersByTimeAsync(2000);

        expect(fake.calls, `offset ${offset}`).toHaveLength(1);
        const { at, batch } = fake.calls[0] as Call;
        expect(batch).toEqual([failure(1), failure(2)]);
        expect(isOwnSlotStart(at, index, count, widthMs), `offset ${offset}: at ${at}`).toBe(true);
        expect(at - oldest, `offset ${offset}`).toBeLessThanOrEqual(1000);
        // The latest of its slots before the deadline: a batch is not committed earlier than needed.
        expect(at - oldest, `offset ${offset}`).toBeGreaterThan(1000 - count * widthMs);
      }
    });
  }

  it('the slots of concurrent chunks never coincide', async () => {
    const fakes = [0, 1, 2, 3].map(() => fakeCommit());
    const batchers = fakes.map(
      (fake, index) =>
        new CommitBatcher(JOB, {
          maxAgeMs: 1000,
          slot: { index, count, widthMs },
          commit: fake.commit,
          now: () => Date.now(),
        }),
    );

    // Lockstep: every chunk adds an entry at the same times.
    for (let step = 0; step < 10; step++) {
      for (const batcher of batchers) batcher.add(failure(step));
      await vi.advanceTimersByTimeAsync(230);
    }
    await vi.advanceTimersByTimeAsync(2000);

    const times = fakes.map((fake) => fake.calls.map((c) => c.at));
    for (const [index, own] of times.entries()) {
      expect(own.length).toBeGreaterThan(1);
      for (const at of own) expect(isOwnSlotStart(at, index, count, widthMs)).toBe(true);
    }
    const slotsUsed = times.flat().map((at) => Math.floor(at / widthMs));
    expect(new Set(slotsUsed).size).toBe(slotsUsed.length);
    // Nothing lost on the way.
    for (const fake of fakes) expect(fake.calls.flatMap((c) => c.batch)).toHaveLength(10);
  });

  it('a full batch waits for the start of its next slot', async () => {
    vi.setSystemTime(BASE + 250); // in slot 2 of 4
    const fake = fakeCommit();
    const batcher = new CommitBatcher(JOB, {
      maxEntries: 2,
      maxAgeMs: 60_000,
      slot: { index: 1, count, widthMs },
      commit: fake.commit,
      now: () => Date.now(),
    });

    batcher.add(failure(1));
    batcher.add(failure(2));
    await vi.advanceTimersByTimeAsync(249);
    expect(fake.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);

    expect(fake.calls.map((c) => c.at)).toEqual([BASE + 500]);
    expect(isOwnSlotStart(BASE + 500, 1, count, widthMs)).toBe(true);
  });

  // The last commit does not wait for a slot of the cycle: chunks that end together commit in turn,
  // chunk i after i x widthMs.
  for (const [index, turn] of [
    [0, 0],
    [1, 100],
    [3, 300],
    [6, 200],
  ] as const) {
    it(`close commits everything after chunk ${index}'s turn of ${turn} ms`, async () => {
      vi.setSystemTime(BASE + 10);
      const fake = fakeCommit();
      const batcher = new CommitBatcher(JOB, {
        maxAgeMs: 1000,
        slot: { index, count, widthMs },
        commit: fake.commit,
        now: () => Date.now(),
      });
      batcher.add(failure(1));

      let closed = false;
      void batcher.close(marker).then(() => {
        closed = true;
      });
      if (turn > 0) {
        await vi.advanceTimersByTimeAsync(turn - 1);
        expect(fake.calls).toHaveLength(0);
        expect(closed).toBe(false);
      }
      await vi.advanceTimersByTimeAsync(turn > 0 ? 1 : 0);

      expect(fake.calls).toEqual([{ jobId: JOB, batch: [failure(1), marker], at: BASE + 10 + turn }]);
      expect(closed).toBe(true);
      // The age timer of the entry queued before close does not commit anything more.
      await vi.advanceTimersByTimeAsync(5000);
      expect(fake.calls).toHaveLength(1);
    });
  }
});

describe('CommitBatcher commits', () => {
  it('never overlap: a commit waits for the one before it', async () => {
    const fake = fakeCommit({ manual: true });
    const batcher = new CommitBatcher(JOB, { maxAgeMs: 0, commit: fake.commit, now: () => Date.now() });

    batcher.add(failure(1));
    batcher.add(failure(2));
    await settle();
    expect(fake.calls.map((c) => c.batch)).toEqual([[failure(1)]]);

    fake.release(0);
    await settle();
    expect(fake.calls.map((c) => c.batch)).toEqual([[failure(1)], [failure(2)]]);

    fake.release(1);
    await batcher.close();
    expect(fake.maxInFlight).toBe(1);
    expect(batcher.commits).toBe(2);
  });

  it('stop at the first failure: nothing more commits, onFailure hears it once, add and close throw it', async () => {
    const fake = fakeCommit({ manual: true });
    const onFailure = vi.fn();
    const batcher = new CommitBatcher(JOB, {
      maxAgeMs: 0,
      commit: fake.commit,
      onFailure,
      now: () => Date.now(),
    });
    const refused = new Error('refused');

    batcher.add(failure(1));
    batcher.add(failure(2)); // queued behind the first commit
    await settle();
    fake.fail(0, refused);
    await settle();

    expect(fake.calls.map((c) => c.batch)).toEqual([[failure(1)]]);
    expect(onFailure).toHaveBeenCalledTimes(1);
    expect(onFailure).toHaveBeenCalledWith(refused);
    expect(() => batcher.add(failure(3))).toThrow(refused);
    await expect(batcher.close(marker)).rejects.toBe(refused);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fake.calls).toHaveLength(1);
    expect(onFailure).toHaveBeenCalledTimes(1);
    expect(batcher.commits).toBe(0);
    expect(batcher.outcomes).toEqual({
      created: 0,
      updated: 0,
      failed: 0,
      'chunk-done': 0,
      'already-counted': 0,
    });
  });

  it('discard what was queued but not yet committed when a commit fails', async () => {
    const fake = fakeCommit({ manual: true });
    const batcher = new CommitBatcher(JOB, { maxEntries: 1, maxAgeMs: 1000, commit: fake.commit });
    const refused = new Error('refused');

    batcher.add(failure(1)); // full: commits at once
    await settle();
    batcher.add(failure(2)); // full too, but queued behind the first
    fake.fail(0, refused);
    await vi.advanceTimersByTimeAsync(5000);

    expect(fake.calls).toHaveLength(1);
    await expect(batcher.close()).rejects.toBe(refused);
  });

  it('close(last) commits the queued entries with last, and resolves once they are committed', async () => {
    const fake = fakeCommit({ manual: true });
    const batcher = new CommitBatcher(JOB, { maxAgeMs: 60_000, commit: fake.commit, now: () => Date.now() });

    batcher.add(contactEntry(1, false));
    batcher.add(failure(2));
    let closed = false;
    const closing = batcher.close(marker).then(() => {
      closed = true;
    });
    await settle();

    expect(fake.calls.map((c) => c.batch)).toEqual([[contactEntry(1, false), failure(2), marker]]);
    expect(closed).toBe(false);
    fake.release(0);
    await closing;
    expect(closed).toBe(true);
    expect(batcher.outcomes).toEqual({
      created: 1,
      updated: 0,
      failed: 1,
      'chunk-done': 1,
      'already-counted': 0,
    });
  });

  it('close without anything queued commits nothing', async () => {
    const fake = fakeCommit();
    const batcher = new CommitBatcher(JOB, { commit: fake.commit });

    await batcher.close();

    expect(fake.commit).not.toHaveBeenCalled();
    expect(batcher.commits).toBe(0);
  });

  it('tallies the outcomes of every commit', async () => {
    const fake = fakeCommit({
      // The store found the first entry of each batch already counted.
      outcomes: (batch) => batch.map((e, i) => (i === 0 ? 'already-counted' : outcomeOf(e))),
    });
    const batcher = new CommitBatcher(JOB, { maxEntries: 3, maxAgeMs: 60_000, commit: fake.commit });

    batcher.add(contactEntry(1, false));
    batcher.add(contactEntry(2, false));
    batcher.add(contactEntry(3, true));
    await settle();
    batcher.add(contactEntry(4, true));
    batcher.add(failure(5));
    const closing = batcher.close(marker);
    await settle();
    await closing;

    expect(fake.calls.map((c) => c.batch.length)).toEqual([3, 3]);
    expect(batcher.commits).toBe(2);
    expect(batcher.outcomes).toEqual({
      created: 1,
      updated: 1,
      failed: 1,
      'chunk-done': 1,
      'already-counted': 2,
    });
  });

  it('discard drops the queue without committing it', async () => {
    const fake = fakeCommit();
    const batcher = new CommitBatcher(JOB, { maxAgeMs: 1000, commit: fake.commit, now: () => Date.now() });

    batcher.add(failure(1));
    batcher.discard();
    await vi.advanceTimersByTimeAsync(5000);
    await batcher.close();

    expect(fake.commit).not.toHaveBeenCalled();
  });
});
