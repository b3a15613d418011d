import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { routePath } from '#shared/api/routes.ts';
import { PagesResponse } from '#shared/contract.ts';
import { isActive } from '#shared/job-status.ts';
import { jobKey } from '#shared/store/table-keys.ts';
import { type HttpAnswer, type JobView, PATHS, StrictStatus, sleep } from '#test/e2e/http-client.ts';
import { failedMarkerCount, storedContacts } from '#test/e2e/stored-items.ts';
import type { SimPage } from '../../local/graph-sim/demo-data.ts';
import type { Harness } from './harness.ts';

/**
 * What the harness's sections share to observe a sync: the API as a user sees it (counted, and
 * every 5xx a violation), the tables as DynamoDB Local stores them, and the checks of the cancellation protocol's (docs/architecture.md)
 * invariants that hold after any trial (numbered as in cancel-race.ts):
 *   1. one terminal status; 3. the counters equal what the job wrote; 4. no contact duplicated or
 *   lost; 5. the page lock released; 6. never a 5xx.
 */

/** A job still PENDING/IN_PROGRESS this long after its trigger, cancel or fault is stuck. */
export const STUCK_AFTER_MS = 30_000;
export const CANCEL_REASON = 'reliability: cancel race';

/** Runs `run` over the items, at most `size` at a time. */
export async function pool<T>(items: T[], size: number, run: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await run(item);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

export const now = () => performance.now();

export interface StoredContact {
  pageId: string;
  contactKey: string;
  organizationId?: string;
  platform?: string;
  participantId?: string;
  lastSyncJobId?: string;
  lastSyncedAt?: string;
  [field: string]: unknown;
}

/** What every trial shares: the HTTP client (counted), the token, DynamoDB Local, the findings. */
export class Section {
  requests = 0;
  readonly violations: string[] = [];
  readonly doc: DynamoDBDocumentClient;

  constructor(
    readonly h: Harness,
    readonly seed: number,
  ) {
    this.doc = DynamoDBDocumentClient.from(h.stack.dynamo);
  }

  /** The page's stored contacts, read directly from DynamoDB Local (consistent reads). */
  contactsOf(pageId: string): Promise<StoredContact[]> {
    return storedContacts<StoredContact>(this.doc, this.h.stack.tables.contacts, pageId);
  }

  /** The job record as stored (with the internal fields the API does not show). */
  async jobItem(jobId: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.h.stack.tables.jobs,
        Key: jobKey(jobId),
        ConsistentRead: true,
      }),
    );
    return out.Item;
  }

  /** Loads the handlers a trial calls first (pages, start, cancel), so no trial pays a cold start. */
  async warmUp(): Promise<void> {
    const { http, tokens } = this.h;
    this.requests += 3;
    await http.get(PATHS.pages, tokens.demo);
    await http.post(PATHS.cancel, tokens.demo, { jobId: crypto.randomUUID() });
    await http.get(routePath('syncStatus', { jobId: crypto.randomUUID() }), tokens.demo);
  }

  /** The job's failed-conversation markers (one per conversation counted in failedContacts). */
  failedMarkersOf(jobId: string): Promise<number> {
    return failedMarkerCount(this.doc, this.h.stack.tables.jobs, jobId);
  }
}

/** One trial: its label for every message, its requests, and its reads of the API. */
export class Trial {
  jobId: string | null = null;

  constructor(
    readonly section: Section,
    readonly page: SimPage,
    /** What the trial does, e.g. "trial 3: cancel mid-chunk +120 ms". */
    readonly title: string,
  ) {}

  get label(): string {
    return `[seed ${this.section.seed} ${this.title}, page ${this.page.id}, job ${this.jobId ?? '-'}]`;
  }

  violate(invariant: number | string, message: string): void {
    this.section.violations.push(`${this.label} invariant ${invariant}: ${message}`);
  }

  private async send(method: 'GET' | 'POST', path: string, json?: unknown): Promise<HttpAnswer> {
    this.section.requests++;
    const { http, tokens } = this.section.h;
    const answer =
      method === 'GET' ? await http.get(path, tokens.demo) : await http.post(path, tokens.demo, json);
    if (answer.status >= 500) this.violate(6, `${method} ${path} answered ${answer.status}: ${answer.text}`);
    return answer;
  }

  get = (path: string) => this.send('GET', path);
  post = (path: string, json: unknown) => this.send('POST', path, json);

  /** The job as sync-status shows it, or null (with a violation) when the answer is not a job. */
  async job(jobId: string): Promise<JobView | null> {
    const answer = await this.get(routePath('syncStatus', { jobId }));
    const parsed = StrictStatus.safeParse(answer.body);
    if (answer.status !== 200 || !parsed.success) {
      this.violate('1', `GET sync-status answered ${answer.status} ${answer.text.slice(0, 300)}`);
      return null;
    }
    return parsed.data.job;
  }

  /** This page as GET /pages lists it, or null (with a violation). */
  async listedPage() {
    const answer = await this.get(PATHS.pages);
    const parsed = PagesResponse.safeParse(answer.body);
    if (answer.status !== 200 || !parsed.success) {
      this.violate(5, `GET pages answered ${answer.status} ${answer.text.slice(0, 300)}`);
      return null;
    }
    const page = parsed.data.pages.find((p) => p.id === this.page.id);
    if (!page) this.violate(5, 'GET pages does not list the page');
    return page ?? null;
  }

  cancel(jobId: string, reason = CANCEL_REASON): Promise<HttpAnswer> {
    return this.post(PATHS.cancel, { jobId, reason });
  }

  /** Polls GET /pages until the page shows no active job (bounded); a violation otherwise. */
  async waitForIdlePage(when: string): Promise<boolean> {
    const deadline = now() + STUCK_AFTER_MS;
    for (;;) {
      const listed = await this.listedPage();
      if (!listed) return false;
      if (listed.activeJob === null) return true;
      if (now() > deadline) {
        this.violate(
          5,
          `page still locked by job ${listed.activeJob.id} (${listed.activeJob.status}) ${when}, after ${STUCK_AFTER_MS / 1000} s`,
        );
        await this.cancel(listed.activeJob.id);
        return false;
      }
      await sleep(100);
    }
  }

  /** Polls sync-status until the job is terminal (bounded); null with a violation when it is stuck. */
  async waitForTerminal(jobId: string): Promise<JobView | null> {
    const deadline = now() + STUCK_AFTER_MS;
    let last: JobView | null = null;
    for (;;) {
      last = await this.job(jobId);
      if (last && !isActive(last)) return last;
      if (now() > deadline) {
        this.violate(
          1,
          `job stuck ${last?.status} (phase ${last?.phase}, synced ${last?.syncedContacts}) ${STUCK_AFTER_MS / 1000} s after it was last acted on`,
        );
        return null;
      }
      await sleep(100);
    }
  }
}

export const done = (job: JobView) => job.syncedContacts + job.failedContacts;
export const counters = (job: {
  syncedContacts: number;
  failedContacts: number;
  completedAt: string | null;
}) => `synced ${job.syncedContacts}, failed ${job.failedContacts}, completedAt ${job.completedAt}`;

/**
 * The checks every trial ends with, once its job is terminal: invariants 3 and 4 on the stored
 * contacts and failure markers, 5 on the page lock, and then, 1 s later, that nothing moved: not
 * the job, not a contact. Returns the job as read 1 s later.
 *
 * Invariant 2 looks for contacts of the job stamped after the stop: after `acknowledgedAt` (the
 * wall-clock time the cancel's 200 arrived) when there is one, else after the job's completedAt.
 * Not completedAt alone: the cancel stamps it before its update is sent, and that update can meet
 * a batch's transaction on the job item and be retried (TransactionConflict, as on AWS), so a batch
 * stamped a little later can commit first. Such a batch is in the acknowledged counters, which
 * invariants 3 and 4 check against the stored contacts; a contact stamped after the
 * acknowledgement was committed after it, which is what the product promises never happens.
 */
export async function checkSettled(
  t: Trial,
  final: JobView,
  before: StoredContact[],
  finalAt: number,
  acknowledgedAt?: string,
): Promise<JobView | null> {
  const { section, page } = t;
  const jobId = final.id;
  // Invariants 3 and 4 at the first read, then everything again 1 s later: nothing may move.
  const contacts1 = await section.contactsOf(page.id);
  checkContacts(t, final, before, contacts1);
  if (final.status === 'CANCELLED' && final.completedAt) {
    const stop = acknowledgedAt ?? final.completedAt;
    const late = contacts1.filter(
      (c) => c.lastSyncJobId === jobId && typeof c.lastSyncedAt === 'string' && c.lastSyncedAt > stop,
    );
    if (late.length > 0)
      t.violate(
        2,
        `${late.length} contact(s) written by the job after its cancel (${acknowledgedAt ? `acknowledged at ${acknowledgedAt}, ` : ''}completedAt ${final.completedAt}): ${late
          .map((c) => `${c.contactKey} at ${c.lastSyncedAt}`)
          .join(', ')}`,
      );
  }
  const failedMarkers = await section.failedMarkersOf(jobId);
  if (failedMarkers !== final.failedContacts)
    t.violate(
      3,
      `failedContacts is ${final.failedContacts} but the job recorded ${failedMarkers} failed conversations`,
    );

  // Invariant 5: the page lock is released once the job is terminal.
  const listed = await checkLockReleased(t, jobId, final);
  if (listed && listed.contactCount !== contacts1.length)
    t.violate(
      4,
      `the page's contactCount is ${listed.contactCount} but ${contacts1.length} contacts are stored`,
    );

  await sleep(Math.max(0, 1000 - (now() - finalAt)));
  const later = await t.job(jobId);
  if (later) {
    if (later.status !== final.status) t.violate(1, `status moved from ${final.status} to ${later.status}`);
    if (later.startedAt !== final.startedAt)
      t.violate(1, `startedAt moved from ${final.startedAt} to ${later.startedAt} after the job ended`);
    if (
      later.syncedContacts !== final.syncedContacts ||
      later.failedContacts !== final.failedContacts ||
      later.completedAt !== final.completedAt
    )
      t.violate(
        final.status === 'CANCELLED' ? 2 : 1,
        `terminal job moved from ${counters(final)} to ${counters(later)} within 1 s`,
      );
  }
  const contacts2 = await section.contactsOf(page.id);
  const changed = diffContacts(contacts1, contacts2);
  if (changed.length > 0)
    t.violate(
      final.status === 'CANCELLED' ? 2 : 4,
      `contacts changed after the job ended: ${changed.join('; ')}`,
    );
  return later;
}

/** Invariant 5: GET /pages shows no active job for the page (bounded: finalize releases just after). */
export async function checkLockReleased(t: Trial, jobId: string, final: JobView) {
  const deadline = now() + 5000;
  for (;;) {
    const listed = await t.listedPage();
    if (!listed) return null;
    if (listed.activeJob === null) {
      if (listed.lastJob?.id !== jobId)
        t.violate(5, `GET pages shows lastJob ${listed.lastJob?.id}, not the trial's job`);
      else if (listed.lastJob.status !== final.status)
        t.violate(1, `GET pages shows the job ${listed.lastJob.status}, sync-status ${final.status}`);
      return listed;
    }
    if (now() > deadline) {
      t.violate(
        5,
        `page lock not released: activeJob ${listed.activeJob.id} (${listed.activeJob.status}) 5 s after the job ended ${final.status}`,
      );
      return listed;
    }
    await sleep(50);
  }
}

/** Invariants 3 and 4 on the stored contacts of the page. */
export function checkContacts(
  t: Trial,
  final: JobView,
  before: StoredContact[],
  after: StoredContact[],
): void {
  const jobId = final.id;
  const ofJob = after.filter((c) => c.lastSyncJobId === jobId).length;
  if (ofJob !== final.syncedContacts)
    t.violate(
      3,
      `syncedContacts is ${final.syncedContacts} but ${ofJob} contact(s) carry lastSyncJobId ${jobId}`,
    );

  const keys = new Set(after.map((c) => c.contactKey));
  if (keys.size !== after.length)
    t.violate(4, `${after.length} contacts but ${keys.size} distinct contact keys`);
  const participants = new Set(after.map((c) => `${c.organizationId}#${c.platform}#${c.participantId}`));
  if (participants.size !== after.length)
    t.violate(
      4,
      `${after.length} contacts but ${participants.size} distinct (organization, platform, participant)`,
    );
  const misKeyed = after.filter(
    (c) => c.contactKey !== `${c.organizationId}#${c.platform}#${c.participantId}`,
  );
  if (misKeyed.length > 0)
    t.violate(
      4,
      `contact keys not <org>#<platform>#<participantId>: ${misKeyed.map((c) => c.contactKey).join(', ')}`,
    );
  const conversations = t.page.conversations.messenger.length + t.page.conversations.instagram.length;
  if (after.length > conversations)
    t.violate(4, `${after.length} contacts stored for a page of ${conversations} conversations`);

  const lost = before.filter((c) => !keys.has(c.contactKey)).map((c) => c.contactKey);
  if (lost.length > 0)
    t.violate(4, `${lost.length} contact(s) present before the trial are gone: ${lost.join(', ')}`);
}

/** Contacts added, removed or changed between two reads of a page. */
export function diffContacts(a: StoredContact[], b: StoredContact[]): string[] {
  const byKey = new Map(a.map((c) => [c.contactKey, stable(c)]));
  const changes: string[] = [];
  for (const c of b) {
    const was = byKey.get(c.contactKey);
    if (was === undefined) changes.push(`${c.contactKey} added`);
    else if (was !== stable(c)) changes.push(`${c.contactKey} changed: ${was} -> ${stable(c)}`);
    byKey.delete(c.contactKey);
  }
  for (const key of byKey.keys()) changes.push(`${key} removed`);
  return changes;
}

/** JSON with object keys sorted at every level, so equal items give equal text. */
function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.entries(value)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`)
      .join(',')}}`;
  return JSON.stringify(value);
}
