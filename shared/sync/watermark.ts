import { numberEnv } from '../config.ts';
import type { Platform } from '../schemas.ts';
import type { ConnectedPage } from '../store/page-repository.ts';
import type { SyncJob, SyncMode } from './job.ts';

/**
 * Incremental re-sync by watermark. Graph lists a Page's conversations newest-updated first (an
 * observed behaviour, not a documented promise), so after a COMPLETED sync the page keeps, per
 * platform, the newest `updated_time` the sync saw when it started reading; the next sync reads
 * from the top and stops at the first conversation older than that (equal times are read again).
 *
 * The safety net: every FULL_SYNC_EVERY-th sync (default 10), and any sync whose watermark was
 * recorded more than FULL_SYNC_AFTER_DAYS ago (default 7), reads everything. Only a COMPLETED sync
 * moves the watermark; conversations the last sync counted as failed are read again by id.
 */
export interface PageWatermarks {
  messengerWatermark?: string;
  instagramWatermark?: string;
  /** When the watermarks were recorded (the completing sync's end). */
  watermarkRecordedAt?: string;
  /** Incremental syncs completed since the last full one. */
  syncsSinceFull?: number;
  /** Conversations of the last complete full read: the base of an estimated progress. */
  conversationCount?: number;
  /** "<platform>#<conversationId>" the last completed sync counted as failed: the next one reads them again. */
  retryConversations?: string[];
}

const DAY_MS = 86_400_000;

export function watermarkOf(page: PageWatermarks, platform: Platform): string | undefined {
  return platform === 'messenger' ? page.messengerWatermark : page.instagramWatermark;
}

/** The mode of a new sync of `page`, and what it reads back to. */
export function planSync(
  page: ConnectedPage & PageWatermarks,
  requested: SyncMode | undefined,
  now = Date.now(),
): Pick<SyncJob, 'mode' | 'since' | 'sinceByPlatform' | 'expectedTotal'> {
  const sinceByPlatform: Partial<Record<Platform, string>> = {};
  for (const platform of ['messenger', 'instagram'] as const) {
    const mark = watermarkOf(page, platform);
    if (mark) sinceByPlatform[platform] = mark;
  }
  const marks = Object.values(sinceByPlatform).sort();
  const recordedAt = page.watermarkRecordedAt ? Date.parse(page.watermarkRecordedAt) : Number.NaN;
  const due =
    (page.syncsSinceFull ?? 0) + 1 >= numberEnv('FULL_SYNC_EVERY', 10) ||
    !(now - recordedAt <= numberEnv('FULL_SYNC_AFTER_DAYS', 7) * DAY_MS);
  const full = {
    mode: 'full' as const,
    since: null,
    ...(page.conversationCount ? { expectedTotal: page.conversationCount } : {}),
  };
  if (requested === 'full' || marks.length === 0 || due) return full;
  return { mode: 'incremental', since: marks[0] ?? null, sinceByPlatform };
}

/** The page's fields after `job` COMPLETED, with the conversations it counted as failed. */
export function afterCompletedSync(job: SyncJob, failed: string[], now: string): PageWatermarks {
  const seen = job.seenWatermarks ?? {};
  return {
    ...(seen.messenger ? { messengerWatermark: seen.messenger } : {}),
    ...(seen.instagram ? { instagramWatermark: seen.instagram } : {}),
    watermarkRecordedAt: now,
    retryConversations: failed,
    ...(job.mode === 'incremental' ? {} : { conversationCount: job.totalContacts }),
  };
}
