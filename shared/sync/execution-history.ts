import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import type { z } from 'zod';
import { isThrottling } from '../aws-errors.ts';
import type { ExecutionSummary } from '../contract.ts';
import { ExecutionNotFound } from '../domain-errors.ts';
import { logger } from '../observability.ts';
import { sfn } from '../sfn.ts';
import { cacheHistory, getCachedHistory } from '../store/execution-repository.ts';
import { summarizeHistory } from './history-summary.ts';

type Summary = z.infer<typeof ExecutionSummary>;

/** A running execution's summary is re-read at most this often, however many views poll it. */
export const REFRESH_MS = 2000;
/** What a caller is told to wait when Step Functions throttled the read (seconds). */
export const THROTTLED_RETRY_AFTER_S = 5;
/** GetExecutionHistory's largest page. */
const PAGE_SIZE = 1000;
/** Up to 25,000 events per execution: 25 pages at most. */
const MAX_PAGES = 25;

export interface HistoryAnswer {
  summary: Summary;
  /** The summary is the last one read, because Step Functions throttled this read. */
  stale: boolean;
}

/**
 * The summary of an execution's history (history-summary.ts), read from Step Functions page by page
 * without the execution's data (ids and state names only), and cached in the job's partition:
 * - an ended execution's summary is final, so it is read once and never again;
 * - a running one's is re-read at most every REFRESH_MS, whatever the number of viewers;
 * - when Step Functions still throttles after the SDK's retries, the last summary is answered
 *   `stale` (an empty one before the first read), so a busy view updates more slowly, never fails.
 */
export async function executionHistory(
  jobId: string,
  name: string,
  executionArn: string,
): Promise<HistoryAnswer> {
  const cached = await getCachedHistory(jobId, name);
  const cachedSummary = cached ? (JSON.parse(cached.summary) as Summary) : undefined;
  if (cached && cachedSummary && (cached.complete || Date.now() - Date.parse(cached.readAt) < REFRESH_MS)) {
    return { summary: cachedSummary, stale: false };
  }
  const readAt = new Date();
  let events: HistoryEvent[];
  try {
    events = await readHistory(executionArn);
  } catch (error) {
    if (isThrottling(error)) {
      logger.warn('GetExecutionHistory throttled: answering the last summary', { jobId });
      return { summary: cachedSummary ?? emptySummary(readAt), stale: true };
    }
    if ((error as Error).name === 'ExecutionDoesNotExist') {
      if (cachedSummary) return { summary: cachedSummary, stale: false };
      throw new ExecutionNotFound();
    }
    throw error;
  }
  // Read to its end: the history records how the execution ended, and nothing can change it now.
  const read = summarizeHistory(events, { complete: false, readAt });
  const complete = read.end !== null;
  const summary = { ...read, complete };
  await cacheHistory(jobId, name, {
    summary: JSON.stringify(summary),
    complete,
    readAt: readAt.toISOString(),
  }).catch((error: Error) => logger.warn('Could not cache a history summary', { jobId, error: error.name }));
  return { summary, stale: false };
}

async function readHistory(executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const out = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        maxResults: PAGE_SIZE,
        includeExecutionData: false,
        nextToken,
      }),
    );
    events.push(...(out.events ?? []));
    nextToken = out.nextToken;
    if (!nextToken) break;
  }
  return events;
}

function emptySummary(readAt: Date): Summary {
  return { complete: false, readAt: readAt.toISOString(), eventCount: 0, states: [], map: null, end: null };
}
