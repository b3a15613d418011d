import type { AnalyzerMessage, ConversationAnalyzer } from '../analyzer/analyzer.ts';
import { numberEnv } from '../config.ts';
import { JobNotRunningError, SyncFailedError } from '../domain-errors.ts';
import type { Conversation } from '../graph/graph-responses.ts';
import { logger, MetricUnit, metrics } from '../observability.ts';
import type { Platform } from '../schemas.ts';
import { findChunkMarkers, readChunkStart } from '../store/chunk-repository.ts';
import type { CommitEntry } from '../store/contact-commit.ts';
import { findContacts, type KnownContact } from '../store/contact-repository.ts';
import { type ConnectedPage, getPage } from '../store/page-repository.ts';
import { contactKey } from '../store/table-keys.ts';
import { CommitBatcher } from './commit-batcher.ts';
import { customerOf, displayNameOf, lastMessageAtOf, messageCountOf } from './conversation.ts';

/** A chunk: one list page of a platform, known by the cursor it was read from. */
export interface ChunkRef {
  jobId: string;
  pageId: string;
  platform: Platform;
  after: string | null;
  /** The worker's slot in the Map: its commit slot (commit-batcher.ts). */
  slot?: number;
}

export interface ChunkResult {
  conversations: number;
  created: number;
  updated: number;
  alreadyCounted: number;
  failed: number;
  /** Conversations sent to the analyzer (unchanged ones reuse their stored analysis). */
  analysed: number;
  /** True when the job stopped being IN_PROGRESS mid-chunk: nothing more was written. */
  stopped: boolean;
  /**
   * Set when the chunk was skipped without a Graph call: this job (before a pause) or the job it
   * retries already processed all of it.
   */
  skippedChunk?: 'done-by-this-job' | 'done-by-retried-job';
}

/** The result of a chunk of `conversations` before any of them is done. */
function nothingDone(conversations: number): ChunkResult {
  return { conversations, created: 0, updated: 0, alreadyCounted: 0, failed: 0, analysed: 0, stopped: false };
}

/**
 * Processes one chunk, a list page the reader staged (read-conversations.ts): per conversation an analysis, whose result joins the chunk's next batch commit (commit-batcher.ts:
 * one guarded transaction per batch, shared/store/contact-commit.ts). The first commit refused
 * because the job is no longer IN_PROGRESS ends the chunk, and the in-flight analyses are aborted.
 *
 * Checkpoint (pause/resume, retry): one batch read before any work finds the job (its
 * status, and the job it retries) and this chunk's marker. A chunk already done is skipped; a
 * conversation whose contact this job (or the retried job) already wrote is skipped without
 * analysis. A chunk processed to the end is marked done in its last commit.
 */
export async function processChunk(
  input: ChunkRef,
  items: Conversation[],
  deps: { analyzer: ConversationAnalyzer },
): Promise<ChunkResult> {
  const start = await readChunkStart(input.jobId, input.platform, input.after);
  const empty = nothingDone(0);
  // Paused or cancelled before this chunk began: nothing to do.
  if (start.job && start.job.status !== 'IN_PROGRESS') return { ...empty, stopped: true };
  if (start.marker) return { ...empty, skippedChunk: 'done-by-this-job' };
  const retried = start.job?.resumedFrom;
  if (retried) {
    // Skip only a chunk the retried job finished without a failure: failures deserve a new try.
    const old = (await findChunkMarkers([retried], input.platform, input.after)).get(retried);
    if (old && old.failed === 0) return { ...empty, skippedChunk: 'done-by-retried-job' };
  }
  const skipWrittenBy = new Set([input.jobId, ...(retried ? [retried] : [])]);

  // The page's ids, not its token: the reader made the Graph calls.
  const page = await getPage(input.pageId);
  if (!page) throw new SyncFailedError('The page is no longer connected: reconnect it and sync again.');
  const controller = new AbortController();

  // Incremental sync: what is already stored for this chunk's customers, in one batch read.
  const known = await findContacts(
    page.pageId,
    items.flatMap((c) => {
      const customer = customerOf(page, c);
      return customer ? [contactKey(page.organizationId, input.platform, customer.id)] : [];
    }),
  );

  const result = nothingDone(items.length);
  const batcher = new CommitBatcher(input.jobId, {
    maxAgeMs: numberEnv('COMMIT_MAX_AGE_MS', 1000),
    ...(input.slot === undefined
      ? {}
      : {
          slot: {
            index: input.slot,
            count: numberEnv('COMMIT_SLOTS', 4),
            widthMs: numberEnv('COMMIT_SLOT_MS', 120),
          },
        }),
    // A refused commit (the job is no longer IN_PROGRESS) stops the analyses in flight too.
    onFailure: (error) => controller.abort(error),
  });
  let failedConversations = 0;
  // Analysis dominates and is a wait on the model, not CPU: 10 conversations at a time per chunk
  // (40 model calls in flight at the default mapConcurrency of 4) cut a 50-conversation chunk
  // from 10 analysis rounds to 5 (bench/: throughput 7x -> 10x+ the sequential baseline).
  const queue = [...items];
  const worker = async () => {
    for (
      let conversation = queue.shift();
      conversation && !controller.signal.aborted;
      conversation = queue.shift()
    ) {
      const outcome = await syncConversation(
        input,
        page,
        conversation,
        known,
        deps.analyzer,
        controller.signal,
        skipWrittenBy,
      );
      if (outcome.analysed) result.analysed++;
      if (outcome.entry) {
        if (outcome.entry.kind === 'failure') failedConversations++;
        batcher.add(outcome.entry);
      } else result.alreadyCounted++;
    }
  };
  const workers = Array.from({ length: numberEnv('CONVERSATION_CONCURRENCY', 10) }, () =>
    worker().catch((error: unknown) => {
      // The first refusal (job no longer IN_PROGRESS) or fault stops the other workers too.
      controller.abort(error);
      throw error;
    }),
  );
  const settled = await Promise.allSettled(workers);
  let failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')?.reason;
  if (failure === undefined) {
    // Every conversation was processed: the last commit also marks the chunk done, so that a
    // resume or a retry need not fetch it again.
    await batcher
      .close({
        kind: 'chunk-done',
        platform: input.platform,
        after: input.after,
        conversations: items.length,
        failed: failedConversations,
      })
      .catch((error: unknown) => {
        failure = error;
      });
  } else {
    // Whatever was queued commits now or never: a refused commit already discarded the rest.
    await batcher.close().catch(() => {});
  }
  result.created = batcher.outcomes.created;
  result.updated = batcher.outcomes.updated;
  result.failed = batcher.outcomes.failed;
  result.alreadyCounted += batcher.outcomes['already-counted'];
  // What this invocation committed, also when it stops or fails: a refused write counts nowhere.
  metrics.addMetric('ContactsSynced', MetricUnit.Count, result.created + result.updated);
  metrics.addMetric('ContactsFailed', MetricUnit.Count, result.failed);
  if (failure instanceof JobNotRunningError) result.stopped = true;
  else if (failure !== undefined) throw failure;
  logger.info(result.stopped ? 'Chunk stopped: the job is no longer in progress' : 'Chunk processed', {
    platform: input.platform,
    commits: batcher.commits,
    ...result,
  });
  return result;
}

async function syncConversation(
  input: ChunkRef,
  page: ConnectedPage,
  conversation: Conversation,
  known: Map<string, KnownContact>,
  analyzer: ConversationAnalyzer,
  signal: AbortSignal,
  skipWrittenBy: Set<string>,
): Promise<{ entry?: CommitEntry; analysed: boolean }> {
  const customer = customerOf(page, conversation);
  const fail = (reason: string) => ({
    entry: { kind: 'failure', platform: input.platform, conversationId: conversation.id, reason } as const,
    analysed: false,
  });
  if (!customer) return fail('conversation has no customer participant');

  const messages = conversation.messages?.data ?? [];
  const lastMessageAt = lastMessageAtOf(conversation);
  const stored = known.get(contactKey(page.organizationId, input.platform, customer.id));
  // Written by this job before a pause, or by the job this one retries: done, nothing to redo.
  if (stored?.lastSyncJobId && skipWrittenBy.has(stored.lastSyncJobId)) return { analysed: false };
  // Unchanged since it was last analysed (same updated_time): reuse that analysis.
  const unchanged = stored?.aiContext !== undefined && stored.lastMessageAt === lastMessageAt;
  let aiContext = stored?.aiContext;
  if (!unchanged) {
    try {
      const ownIds = new Set([page.pageId, page.instagramAccountId].filter(Boolean));
      aiContext = await analyzer.analyze(messages.map(toAnalyzerMessage(ownIds)), signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      return fail(`analysis failed: ${(error as Error).message}`);
    }
  }

  return {
    entry: {
      kind: 'contact',
      exists: stored !== undefined,
      contact: {
        pageId: page.pageId,
        organizationId: page.organizationId,
        platform: input.platform,
        participantId: customer.id,
        displayName: displayNameOf(customer),
        ...(customer.email ? { email: customer.email } : {}),
        conversationId: conversation.id,
        lastMessageAt,
        messageCount: messageCountOf(conversation),
        aiContext: aiContext as NonNullable<typeof aiContext>,
      },
    },
    analysed: !unchanged,
  };
}

const toAnalyzerMessage =
  (ownIds: Set<string | undefined>) =>
  (m: NonNullable<Conversation['messages']>['data'][number]): AnalyzerMessage => ({
    fromCustomer: !!m.from && !ownIds.has(m.from.id),
    text: m.message,
    createdAt: m.created_time,
  });
