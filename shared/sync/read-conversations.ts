import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { numberEnv } from '../config.ts';
import { SyncFailedError } from '../domain-errors.ts';
import { GraphApiError } from '../graph/graph-api-error.ts';
import { GraphClient } from '../graph/graph-client.ts';
import type { Conversation } from '../graph/graph-responses.ts';
import type { JobStatus } from '../job-status.ts';
import { isTerminal } from '../job-status.ts';
import { logger } from '../observability.ts';
import type { ListPosition, Platform, ReadInput } from '../schemas.ts';
import {
  deleteStagedJob,
  getChunk,
  getSegmentEnd,
  putChunk,
  putSegmentEnd,
} from '../staging/staged-chunks.ts';
import { findContacts } from '../store/contact-repository.ts';
import { conditionFailedItem, ddb, isConditionalCheckFailed, tables } from '../store/db.ts';
import { getJob } from '../store/job-repository.ts';
import { contactKey, JOB_SK } from '../store/table-keys.ts';
import { customerOf, displayNameOf, lastMessageAtOf, messageCountOf } from './conversation.ts';
import type { SyncJob } from './job.ts';
import { pageForSync } from './page-for-sync.ts';

export interface ReadResult {
  /** Where the next execution segment starts; null when the list is read to its end (or the job stopped). */
  next: ListPosition | null;
  /** The job stopped being IN_PROGRESS (paused, cancelled, gone): the workflow must not finalize. */
  stopped: boolean;
  chunks: number;
  conversations: number;
}

/** Where the reader is: the cursor to read next on a platform, and whether the platform is done. */
interface Cursor {
  platform: Platform;
  after: string | null;
  done: boolean;
}

/**
 * The cursor of the last step of an incremental sync's platform: the conversations the last
 * completed sync counted as failed, read again by id. No Graph cursor has a '#'.
 */
export const RETRIES_CURSOR = '#failed-conversations';

/** A list page with its conversations at or after the platform's watermark, and whether it reached an older one. */
interface PageRead {
  kept: Conversation[];
  next: string | null;
  olderSeen: boolean;
}

/**
 * The single pass over the conversation list: reads each list page once, with the conversations'
 * participants and newest messages (field expansion, 50 per call), stages it as a chunk for the
 * workers (shared/staging/staged-chunks.ts), and goes on: the workers start on the first chunk
 * while the reader fetches the next page. Messenger first, then Instagram, in one sequence of
 * chunks, so no platform waits for the other to finish.
 *
 * One execution segment is at most MAX_CHUNKS_PER_SEGMENT chunks; the workflow continues the rest
 * in a new execution from `next` (continue-as-new). The segment's end marker tells the workers
 * how many chunks there are.
 *
 * Counting: `totalContacts` grows as pages are read, each page counted before it is staged (one
 * write on the job item per page, 2 per 100 conversations). Each write carries the segment's count so far
 * (`listed.s<n>`) and applies only on top of the count it last saw, so a retried or resumed reader
 * never counts a page twice; it continues after the chunks already staged, without calling Graph
 * for them again. The writes are guarded by the job being IN_PROGRESS: a refused one means the
 * job stopped, and the reader stops too.
 *
 * Incremental mode (shared/sync/watermark.ts): a platform is read from the top down to its
 * watermark; the first conversation older than it ends that platform's list. Then the
 * conversations the last completed sync counted as failed are read again by id (RETRIES_CURSOR).
 */
export async function readConversations(input: ReadInput, graph = new GraphClient()): Promise<ReadResult> {
  const { jobId } = input;
  const segment = input.position.segment;
  const limit = Math.min(numberEnv('CHUNK_SIZE', 50), 50);
  const maxChunks = numberEnv('MAX_CHUNKS_PER_SEGMENT', 200);
  const page = await pageForSync(input.pageId);
  const job = await getJob(jobId);
  // Stopped before reading: the workers stop at their cancel checks.
  if (job?.status !== 'IN_PROGRESS') return { next: null, stopped: true, chunks: 0, conversations: 0 };

  const finished = await getSegmentEnd(jobId, segment);
  if (finished)
    return { next: finished.next ?? null, stopped: false, chunks: finished.chunks, conversations: 0 };

  // A retried or resumed reader continues after what is already staged.
  let cursor: Cursor = { platform: input.position.platform, after: input.position.cursor, done: false };
  let index = 0;
  let listed = 0;
  const stagedIds = new Set<string>();
  for (
    let staged = await getChunk(jobId, segment, 0);
    staged;
    staged = await getChunk(jobId, segment, index)
  ) {
    index++;
    listed += staged.conversations.length;
    for (const c of staged.conversations) stagedIds.add(c.id);
    cursor = staged.resume;
  }
  const retries = job.mode === 'incremental' ? (page.retryConversations ?? []) : [];
  const retriesOf = (platform: Platform) =>
    retries.flatMap((entry) => {
      const [p, id] = entry.split('#');
      return p === platform && id && !stagedIds.has(id) ? [id] : [];
    });
  let counted = job.listed?.[`s${segment}`] ?? 0;
  const watermarks: Partial<Record<Platform, string>> = {};

  const flush = async (listComplete: boolean) => {
    const ok = await recordListed(jobId, segment, {
      counted,
      listed,
      phase: `syncing:${cursor.platform}`,
      watermarks,
      listComplete,
      checkpoint: input.position,
    });
    if (ok !== 'recorded') {
      stoppedAs = ok;
      return false;
    }
    counted = listed;
    return true;
  };

  let stopped = false;
  let stoppedAs: JobStatus | undefined;
  while (!stopped && index < maxChunks && !(cursor.done && cursor.platform === 'instagram')) {
    if (cursor.done) {
      cursor = { platform: 'instagram', after: null, done: false };
      continue;
    }
    if (cursor.platform === 'instagram' && !page.instagramAccountId) {
      cursor = { ...cursor, done: true };
      continue;
    }
    const read =
      cursor.after === RETRIES_CURSOR
        ? await readAgain(graph, page, cursor.platform, retriesOf(cursor.platform))
        : await readPage(graph, page, cursor, limit, job);
    // The newest conversation when this sync started reading the platform: its next watermark.
    if (cursor.after === null && read.first) watermarks[cursor.platform] = read.first;
    const listEnded = read.next === null || read.olderSeen;
    const retryNext = listEnded && cursor.after !== RETRIES_CURSOR && retriesOf(cursor.platform).length > 0;
    const resume: Cursor = retryNext
      ? { platform: cursor.platform, after: RETRIES_CURSOR, done: false }
      : { platform: cursor.platform, after: read.next, done: listEnded };
    if (read.kept.length > 0) {
      // Counted before it is staged, so that the total is never behind what the workers sync.
      listed += read.kept.length;
      if (!(await flush(false))) {
        stopped = true;
        break;
      }
      await putChunk(jobId, segment, index, {
        platform: cursor.platform,
        after: cursor.after,
        conversations: read.kept,
        resume,
      });
      for (const c of read.kept) stagedIds.add(c.id);
      index++;
    }
    cursor = resume;
  }

  const complete = cursor.done && cursor.platform === 'instagram';
  if (!stopped) stopped = !(await flush(complete));
  if (stopped) {
    // Paused: what is staged stays for the resumed run. Cancelled or failed: nothing will read it.
    if (stoppedAs === undefined || isTerminal(stoppedAs)) await deleteStagedJob(jobId);
    logger.info('Reading stopped: the job is no longer in progress', {
      segment,
      status: stoppedAs ?? 'GONE',
    });
    return { next: null, stopped: true, chunks: index, conversations: counted };
  }
  const next: ListPosition | null = complete
    ? null
    : cursor.done
      ? { platform: 'instagram', cursor: null, segment: segment + 1 }
      : { platform: cursor.platform, cursor: cursor.after, segment: segment + 1 };
  // The workers wait for this: how many chunks the segment has.
  await putSegmentEnd(jobId, segment, { chunks: index, next });
  logger.info('Conversations read', {
    segment,
    chunks: index,
    conversations: listed,
    complete,
  });
  return { next, stopped: false, chunks: index, conversations: listed };
}

async function readPage(
  graph: GraphClient,
  page: Awaited<ReturnType<typeof pageForSync>>,
  cursor: Cursor,
  limit: number,
  job: SyncJob,
): Promise<PageRead & { first?: string }> {
  const { items, after } = await graph
    .listConversations({
      pageId: page.pageId,
      platform: cursor.platform,
      accessToken: page.accessToken,
      after: cursor.after,
      limit,
    })
    .catch(rethrowForUser);
  const since = job.mode === 'incremental' ? job.sinceByPlatform?.[cursor.platform] : undefined;
  if (since === undefined)
    return { kept: items, next: after, olderSeen: false, first: items[0]?.updated_time };
  // Equal timestamps are read again: only a strictly older conversation ends the platform.
  const newer = items.filter((c) => lastMessageAtOf(c) >= since);
  const kept = await withoutUnchanged(page, cursor.platform, newer, since);
  return { kept, next: after, olderSeen: newer.length < items.length, first: items[0]?.updated_time };
}

/**
 * The conversations the last completed sync counted as failed, read again one by one (an
 * incremental sync would not reach them when they are older than the watermark). One that is
 * gone from Graph is left out.
 */
async function readAgain(
  graph: GraphClient,
  page: Awaited<ReturnType<typeof pageForSync>>,
  platform: Platform,
  ids: string[],
): Promise<PageRead & { first?: string }> {
  const kept: Conversation[] = [];
  for (const conversationId of ids) {
    try {
      kept.push(
        await graph.getConversation({
          conversationId,
          pageId: page.pageId,
          platform,
          accessToken: page.accessToken,
        }),
      );
    } catch (error) {
      if (error instanceof GraphApiError && error.kind === 'invalid') continue;
      rethrowForUser(error);
    }
  }
  return { kept, next: null, olderSeen: false };
}

/**
 * Drops the conversations at the watermark itself whose stored contact is what they would write:
 * read again in case a message came in the same second, they are not changes when it did not.
 * One batch read, of the few conversations on the watermark.
 */
async function withoutUnchanged(
  page: Awaited<ReturnType<typeof pageForSync>>,
  platform: Platform,
  conversations: Conversation[],
  since: string,
): Promise<Conversation[]> {
  const atMark = conversations.filter((c) => lastMessageAtOf(c) === since);
  if (atMark.length === 0) return conversations;
  const keyOf = (c: Conversation) => {
    const customer = customerOf(page, c);
    return customer ? contactKey(page.organizationId, platform, customer.id) : undefined;
  };
  const stored = await findContacts(
    page.pageId,
    atMark.flatMap((c) => keyOf(c) ?? []),
  );
  return conversations.filter((c) => {
    const key = keyOf(c);
    const contact = key ? stored.get(key) : undefined;
    const customer = customerOf(page, c);
    const unchanged =
      lastMessageAtOf(c) === since &&
      contact !== undefined &&
      customer !== undefined &&
      contact.lastMessageAt === lastMessageAtOf(c) &&
      contact.messageCount === messageCountOf(c) &&
      contact.displayName === displayNameOf(customer);
    return !unchanged;
  });
}

/**
 * Adds what was listed since the last write to totalContacts, on top of the count last seen (so a
 * rerun adds nothing twice). Returns false when the job is no longer IN_PROGRESS.
 */
async function recordListed(
  jobId: string,
  segment: number,
  r: {
    counted: number;
    listed: number;
    phase: string;
    watermarks: Partial<Record<Platform, string>>;
    listComplete: boolean;
    checkpoint: ListPosition;
  },
): Promise<'recorded' | JobStatus | undefined> {
  const sets = ['#listed.#segment = :listed', 'phase = :phase', 'updatedAt = :now'];
  const values: Record<string, unknown> = {
    ':listed': r.listed,
    ':phase': r.phase,
    ':now': new Date().toISOString(),
    ':running': 'IN_PROGRESS',
  };
  const names: Record<string, string> = {
    '#status': 'status',
    '#listed': 'listed',
    '#segment': `s${segment}`,
  };
  for (const [platform, time] of Object.entries(r.watermarks)) {
    sets.push(`seenWatermarks.#${platform} = :${platform}`);
    names[`#${platform}`] = platform;
    values[`:${platform}`] = time;
  }
  if (r.listComplete) sets.push('listComplete = :true');
  if (r.listComplete) values[':true'] = true;
  // Where a resumed execution starts (shared/sync/commands/resume-sync.ts): this segment, from its start.
  sets.push('checkpoint = :checkpoint');
  values[':checkpoint'] = r.checkpoint;
  let counted = r.counted;
  // A count that moved under us (another attempt of this reader) is taken as the base.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await ddb.send(
        new UpdateCommand({
          TableName: tables.jobs,
          Key: { jobId, sk: JOB_SK },
          UpdateExpression: `SET ${sets.join(', ')} ADD totalContacts :delta`,
          ConditionExpression:
            '#status = :running AND (#listed.#segment = :counted OR (attribute_not_exists(#listed.#segment) AND :counted = :zero))',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ...values,
            ':counted': counted,
            ':delta': r.listed - counted,
            ':zero': 0,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'recorded';
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const old = conditionFailedItem(error) as SyncJob | undefined;
      if (old?.status !== 'IN_PROGRESS') return old?.status;
      counted = old.listed?.[`s${segment}`] ?? 0;
    }
  }
  // Never taken as written: the Lambda fails, and its retry continues after what is staged.
  throw new Error('The job count kept moving under the reader');
}

/** Token and permission problems fail the job with a message the user can act on. */
export function rethrowForUser(error: unknown): never {
  if (error instanceof GraphApiError && error.kind !== 'retryable' && error.kind !== 'invalid') {
    throw new SyncFailedError(error.userMessage());
  }
  throw error;
}
