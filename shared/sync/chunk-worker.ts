import type { ConversationAnalyzer } from '../analyzer/analyzer.ts';
import { numberEnv } from '../config.ts';
import type { ChunkInput } from '../schemas.ts';
import { sleep } from '../sleep.ts';
import { getChunk, getSegmentEnd, type StagedChunk } from '../staging/staged-chunks.ts';
import { getJobStatus } from '../store/job-repository.ts';
import { type ChunkResult, processChunk } from './process-chunk.ts';

export interface WorkerTurn extends Partial<ChunkResult> {
  /** The chunk this worker slot takes next (the same one while it is not staged yet); null: the segment is done. */
  next: number | null;
}

/**
 * One turn of a worker slot of the Map: slot w of W takes the segment's chunks w, w + W, w + 2W...
 * as the reader stages them. A chunk not staged yet is waited for (polling the staging store) for
 * up to CHUNK_WAIT_MS; then the turn ends with the same `next`, so that the state machine checks
 * the cancel flag again before it waits more. The segment's end marker ends the slot; so does a
 * job that stopped while the slot waited (read every CHUNK_WAIT_STATUS_MS).
 */
export async function runWorkerTurn(
  input: ChunkInput,
  deps: { analyzer: ConversationAnalyzer },
): Promise<WorkerTurn> {
  const staged = await waitForChunk(input);
  if (staged === 'end') return { next: null };
  if (staged === 'not-yet') return { next: input.index };
  const result = await processChunk(
    {
      jobId: input.jobId,
      pageId: input.pageId,
      platform: staged.platform,
      after: staged.after,
      // Slots take turns on the job item; a lone slot has no one to take turns with.
      ...(input.slots > 1 ? { slot: input.slot } : {}),
    },
    staged.conversations,
    deps,
  );
  const next = input.index + input.slots;
  if (result.stopped) return { ...result, next: null };
  // The segment's end already known, and past it: this slot is done, no turn needed to learn it.
  const end = await getSegmentEnd(input.jobId, input.segment);
  return { ...result, next: end && next >= end.chunks ? null : next };
}

async function waitForChunk(input: ChunkInput): Promise<StagedChunk | 'end' | 'not-yet'> {
  const waitMs = numberEnv('CHUNK_WAIT_MS', 10_000);
  const pollMs = numberEnv('CHUNK_POLL_MS', 100);
  const statusEveryMs = numberEnv('CHUNK_WAIT_STATUS_MS', 500);
  const deadline = Date.now() + waitMs;
  let statusAt = Date.now() + statusEveryMs;
  for (;;) {
    // A stopped job stages nothing more: end the wait rather than run on after the stop.
    if (Date.now() >= statusAt) {
      if ((await getJobStatus(input.jobId)) !== 'IN_PROGRESS') return 'end';
      statusAt = Date.now() + statusEveryMs;
    }
    const chunk = await getChunk(input.jobId, input.segment, input.index);
    if (chunk) return chunk;
    const end = await getSegmentEnd(input.jobId, input.segment);
    // The reader may have staged the chunk just before its end marker.
    if (end)
      return input.index < end.chunks
        ? ((await getChunk(input.jobId, input.segment, input.index)) ?? 'end')
        : 'end';
    if (Date.now() >= deadline) return 'not-yet';
    await sleep(pollMs);
  }
}
