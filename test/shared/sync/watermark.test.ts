import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredPage } from '#shared/store/page-repository.ts';
import type { SyncJob } from '#shared/sync/job.ts';
import { afterCompletedSync, planSync, watermarkOf } from '#shared/sync/watermark.ts';

const NOW = Date.parse('2026-06-15T12:00:00.000Z');
const DAY_MS = 86_400_000;
const MESSENGER_MARK = '2026-06-14T09:00:00.000Z';
const INSTAGRAM_MARK = '2026-06-13T18:30:00.000Z';

/** A connected page whose last completed sync was an incremental one, a day ago. */
function page(overrides: Partial<StoredPage> = {}): StoredPage {
  return {
    pageId: '100000000000001',
    organizationId: 'org-1',
    pageName: 'Page',
    accessTokenCiphertext: 'ciphertext',
    contactCount: 120,
    connectedAt: '2026-01-01T00:00:00.000Z',
    messengerWatermark: MESSENGER_MARK,
    instagramWatermark: INSTAGRAM_MARK,
    watermarkRecordedAt: new Date(NOW - DAY_MS).toISOString(),
    syncsSinceFull: 3,
    conversationCount: 150,
    ...overrides,
  };
}

function job(overrides: Partial<SyncJob> = {}): SyncJob {
  return {
    jobId: '00000000-0000-4000-8000-000000000001',
    organizationId: 'org-1',
    pageId: '100000000000001',
    status: 'COMPLETED',
    phase: 'done',
    syncedContacts: 140,
    failedContacts: 2,
    totalContacts: 142,
    createdBy: 'user-1',
    createdAt: '2026-06-15T11:00:00.000Z',
    updatedAt: '2026-06-15T11:30:00.000Z',
    ...overrides,
  };
}

const ENV = ['FULL_SYNC_EVERY', 'FULL_SYNC_AFTER_DAYS'] as const;
let saved: Record<string, string | undefined> = {};
beforeEach(() => {
  saved = Object.fromEntries(ENV.map((name) => [name, process.env[name]]));
  for (const name of ENV) delete process.env[name];
});
afterEach(() => {
  for (const name of ENV) {
    const value = saved[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const FULL = { mode: 'full', since: null, expectedTotal: 150 };

describe('planSync', () => {
  it('reads incrementally back to the oldest platform watermark, each platform to its own', () => {
    expect(planSync(page(), undefined, NOW)).toEqual({
      mode: 'incremental',
      since: INSTAGRAM_MARK,
      sinceByPlatform: { messenger: MESSENGER_MARK, instagram: INSTAGRAM_MARK },
    });
  });

  it('asked for incremental, reads incrementally when nothing makes a full read due', () => {
    expect(planSync(page(), 'incremental', NOW)).toMatchObject({
      mode: 'incremental',
      since: INSTAGRAM_MARK,
    });
  });

  it('reads incrementally a page with a watermark on one platform only, the other not read back to anything', () => {
    const plan = planSync(page({ instagramWatermark: undefined }), undefined, NOW);

    expect(plan).toEqual({
      mode: 'incremental',
      since: MESSENGER_MARK,
      sinceByPlatform: { messenger: MESSENGER_MARK },
    });
  });

  it('reads everything when the page has no watermark (never synced to completion)', () => {
    const first = page({
      messengerWatermark: undefined,
      instagramWatermark: undefined,
      watermarkRecordedAt: undefined,
      syncsSinceFull: undefined,
      conversationCount: undefined,
    });

    expect(planSync(first, undefined, NOW)).toEqual({ mode: 'full', since: null });
    expect(planSync(first, 'incremental', NOW)).toEqual({ mode: 'full', since: null });
  });

  it('reads everything when a full sync is asked for, with the last complete count as the estimate base', () => {
    expect(planSync(page(), 'full', NOW)).toEqual(FULL);
  });

  it('reads everything on every 10th sync by default', () => {
    expect(planSync(page({ syncsSinceFull: 8 }), undefined, NOW)).toMatchObject({ mode: 'incremental' });
    expect(planSync(page({ syncsSinceFull: 9 }), undefined, NOW)).toEqual(FULL);
    expect(planSync(page({ syncsSinceFull: 12 }), undefined, NOW)).toEqual(FULL);
  });

  it('reads everything on every FULL_SYNC_EVERY-th sync', () => {
    process.env.FULL_SYNC_EVERY = '3';

    expect(planSync(page({ syncsSinceFull: 1 }), undefined, NOW)).toMatchObject({ mode: 'incremental' });
    expect(planSync(page({ syncsSinceFull: 2 }), undefined, NOW)).toEqual(FULL);
  });

  it('counts a page with no incremental sync since the last full one as the first after it', () => {
    expect(planSync(page({ syncsSinceFull: undefined }), undefined, NOW)).toMatchObject({
      mode: 'incremental',
    });
  });

  it('reads everything when the watermark is older than 7 days by default', () => {
    const at = (ms: number) => page({ watermarkRecordedAt: new Date(NOW - ms).toISOString() });

    expect(planSync(at(7 * DAY_MS), undefined, NOW)).toMatchObject({ mode: 'incremental' });
    expect(planSync(at(7 * DAY_MS + 1000), undefined, NOW)).toEqual(FULL);
    expect(planSync(at(30 * DAY_MS), undefined, NOW)).toEqual(FULL);
  });

  it('reads everything when the watermark is older than FULL_SYNC_AFTER_DAYS', () => {
    process.env.FULL_SYNC_AFTER_DAYS = '2';
    const at = (ms: number) => page({ watermarkRecordedAt: new Date(NOW - ms).toISOString() });

    expect(planSync(at(DAY_MS), undefined, NOW)).toMatchObject({ mode: 'incremental' });
    expect(planSync(at(3 * DAY_MS), undefined, NOW)).toEqual(FULL);
  });

  it('reads everything when it cannot tell how old the watermark is', () => {
    expect(planSync(page({ watermarkRecordedAt: undefined }), undefined, NOW)).toEqual(FULL);
    expect(planSync(page({ watermarkRecordedAt: 'not a date' }), undefined, NOW)).toEqual(FULL);
  });
});

describe('afterCompletedSync', () => {
  const AT = '2026-06-15T11:30:00.000Z';

  it('moves the watermarks to what the sync saw, with when, the failed conversations and the complete count of a full sync', () => {
    const completed = job({
      mode: 'full',
      seenWatermarks: { messenger: '2026-06-15T10:59:00.000Z', instagram: '2026-06-15T10:00:00.000Z' },
    });

    expect(afterCompletedSync(completed, ['messenger#t_1', 'instagram#aWdf2'], AT)).toEqual({
      messengerWatermark: '2026-06-15T10:59:00.000Z',
      instagramWatermark: '2026-06-15T10:00:00.000Z',
      watermarkRecordedAt: AT,
      retryConversations: ['messenger#t_1', 'instagram#aWdf2'],
      conversationCount: 142,
    });
  });

  it('takes a job without a mode (started before modes existed) as a full read', () => {
    const completed = job({ seenWatermarks: { messenger: '2026-06-15T10:59:00.000Z' } });

    expect(afterCompletedSync(completed, [], AT)).toMatchObject({ conversationCount: 142 });
  });

  it('keeps the complete count of the page after an incremental sync, which counted only the changes', () => {
    const completed = job({
      mode: 'incremental',
      totalContacts: 4,
      seenWatermarks: { messenger: '2026-06-15T10:59:00.000Z' },
    });

    const fields = afterCompletedSync(completed, [], AT);

    expect(fields).toEqual({
      messengerWatermark: '2026-06-15T10:59:00.000Z',
      watermarkRecordedAt: AT,
      retryConversations: [],
    });
    expect(fields).not.toHaveProperty('conversationCount');
  });

  it('leaves a platform the sync saw nothing of without a new watermark (its old one stays)', () => {
    const fields = afterCompletedSync(job({ mode: 'full', seenWatermarks: {} }), [], AT);

    expect(fields).not.toHaveProperty('messengerWatermark');
    expect(fields).not.toHaveProperty('instagramWatermark');
    expect(fields.watermarkRecordedAt).toBe(AT);
  });

  it('gives a page the watermarks planSync reads back to on the next sync', () => {
    const completed = job({
      mode: 'full',
      seenWatermarks: { messenger: '2026-06-15T10:59:00.000Z', instagram: '2026-06-15T10:00:00.000Z' },
    });
    const next = page({ ...afterCompletedSync(completed, [], AT), syncsSinceFull: 0 });

    expect(watermarkOf(next, 'messenger')).toBe('2026-06-15T10:59:00.000Z');
    expect(watermarkOf(next, 'instagram')).toBe('2026-06-15T10:00:00.000Z');
    expect(planSync(next, undefined, Date.parse(AT) + DAY_MS)).toEqual({
      mode: 'incremental',
      since: '2026-06-15T10:00:00.000Z',
      sinceByPlatform: { messenger: '2026-06-15T10:59:00.000Z', instagram: '2026-06-15T10:00:00.000Z' },
    });
  });
});
