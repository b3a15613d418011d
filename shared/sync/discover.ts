import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { numberEnv } from '../config.ts';
import { SyncFailedError } from '../errors.ts';
import { GraphApiError } from '../graph/errors.ts';
import { GraphClient } from '../graph/graph-client.ts';
import { logger } from '../observability.ts';
import type { Platform } from '../schemas.ts';
import { ddb, isConditionalCheckFailed, JOB_SK, tables } from '../store/db.ts';
import { pageForSync } from './page-token.ts';

export interface Discovery {
  platform: Platform;
  limit: number;
  count: number;
  /** One item per Map iteration: the cursor that starts the chunk (ids and cursors only). */
  chunks: { after: string | null }[];
  /** Where the next segment of this platform starts; null when the platform is fully laid out. */
  nextAfter: string | null;
}

/**
 * Walks one segment of a platform's conversation list with `fields=id`, from `after`, to count it
 * and lay out chunk cursors: at most MAX_CHUNKS_PER_SEGMENT chunks, so that one execution's
 * history and payload stay small whatever the page's size (the workflow continues a larger
 * platform in a new execution). The count is added to the job's total once per segment, so a
 * retried discovery does not count twice. The same write records the segment as the job's
 * checkpoint, where a resume starts.
 */
export async function discoverConversations(
  input: { jobId: string; pageId: string; platform: Platform; after?: string | null; segment?: number },
  graph = new GraphClient(),
): Promise<Discovery> {
  const limit = numberEnv('CHUNK_SIZE', 50);
  const maxChunks = numberEnv('MAX_CHUNKS_PER_SEGMENT', 200);
  const page = await pageForSync(input.pageId);
  await setPhase(input.jobId, `discovering:${input.platform}`);
  const chunks: { after: string | null }[] = [];
  let count = 0;
  let after: string | null = input.after ?? null;

  if (input.platform === 'messenger' || page.instagramAccountId) {
    do {
      const result: { items: string[]; after: string | null } = await graph
        .listConversationIds({
          pageId: page.pageId,
          platform: input.platform,
          accessToken: page.accessToken,
          after,
          limit,
        })
        .catch(rethrowForUser);
      if (result.items.length > 0) chunks.push({ after });
      count += result.items.length;
      after = result.after;
    } while (after && chunks.length < maxChunks);
  } else {
    after = null;
  }

  const segment = `${input.platform}#${input.segment ?? 0}`;
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tables.jobs,
        Key: { jobId: input.jobId, sk: JOB_SK },
        UpdateExpression:
          'ADD totalContacts :count SET discoveredSegments = list_append(if_not_exists(discoveredSegments, :empty), :segments), checkpoint = :checkpoint, phase = :phase, updatedAt = :now',
        ConditionExpression: '#status = :running AND NOT contains(discoveredSegments, :segment)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':count': count,
          ':empty': [],
          ':segments': [segment],
          ':segment': segment,
          // Where a resumed execution starts (shared/sync/pause-job.ts): this segment, from its cursor.
          ':checkpoint': {
            platform: input.platform,
            segment: input.segment ?? 0,
            cursor: input.after ?? null,
          },
          ':phase': `syncing:${input.platform}`,
          ':now': new Date().toISOString(),
          ':running': 'IN_PROGRESS',
        },
      }),
    );
  } catch (error) {
    // Already counted by an earlier attempt, or the job stopped: the Map's own checks decide.
    if (!isConditionalCheckFailed(error)) throw error;
  }
  logger.info('Conversations discovered', {
    platform: input.platform,
    segment: input.segment ?? 0,
    count,
    chunks: chunks.length,
    more: after !== null,
  });
  return { platform: input.platform, limit, count, chunks, nextAfter: after };
}

/** Shows what the job is doing; a job that is no longer running is left alone. */
async function setPhase(jobId: string, phase: string): Promise<void> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tables.jobs,
        Key: { jobId, sk: JOB_SK },
        UpdateExpression: 'SET phase = :phase, updatedAt = :now',
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':phase': phase,
          ':now': new Date().toISOString(),
          ':running': 'IN_PROGRESS',
        },
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
  }
}

/** Token and permission problems fail the job with a message the user can act on. */
export function rethrowForUser(error: unknown): never {
  if (error instanceof GraphApiError && error.kind !== 'retryable' && error.kind !== 'invalid') {
    throw new SyncFailedError(error.userMessage());
  }
  throw error;
}
