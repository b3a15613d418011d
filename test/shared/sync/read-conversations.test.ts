import { randomUUID } from 'node:crypto';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GraphClient, ListRequest } from '#shared/graph/graph-client.ts';
import type { Conversation } from '#shared/graph/graph-responses.ts';
import type { ListPosition, Platform, ReadInput } from '#shared/schemas.ts';
import { ddb, tables } from '#shared/store/db.ts';
import { transitionJob } from '#shared/store/job-repository.ts';
import { contactKey, JOB_SK } from '#shared/store/table-keys.ts';
import { customerOf, messageCountOf } from '#shared/sync/conversation.ts';
import type { SyncJob } from '#shared/sync/job.ts';
import { processChunk } from '#shared/sync/process-chunk.ts';
import { generatePage, type SimPage } from '../../../local/graph-sim/demo-data.ts';
import { startLocalS3 } from '../../../local/s3.ts';
import { contactsOf, readJob } from '../store/fixtures.ts';
import { connect, countingAnalyzer, startChunkWorld } from './chunk-world.ts';

/**
 * The reader ("Read conversations") on real parts: DynamoDB Local (global setup), a local S3
 * (s3rver) as the staging store, the Graph simulator and the local KMS the page token is decrypted
 * through. Each test has its own page, so that the simulator's call counts are its own.
 *
 * The staging module makes its S3 client when it is imported, from AWS_ENDPOINT_URL_S3: the reader
 * and the staging store are imported once the local S3 runs and the environment names it.
 */
const BUCKET = 'contact-sync-staging-reader-test';
const simulated = (n: number, messenger = 120, instagram = 30): SimPage =>
  generatePage({
    id: `32000000000${String(n).padStart(4, '0')}`,
    name: `Reader Page ${n}`,
    accessToken: `token-${randomUUID()}`,
    messenger,
    instagram,
  });
const PAGES = {
  order: simulated(1),
  graphCrash: simulated(2),
  stageCrash: simulated(3),
  segments: simulated(4),
  segmentAtPlatformEnd: simulated(5),
  cancelled: simulated(6),
  paused: simulated(7),
  incremental: simulated(8),
  unchanged: simulated(9, 30, 0),
  retryFailed: simulated(10, 30, 0),
};

let world: Awaited<ReturnType<typeof startChunkWorld>>;
let s3: Awaited<ReturnType<typeof startLocalS3>>;
let s3Client: S3Client;
let staging: typeof import('#shared/staging/staged-chunks.ts');
let reader: typeof import('#shared/sync/read-conversations.ts');
const ENV = ['AWS_ENDPOINT_URL_S3', 'STAGING_BUCKET', 'MAX_CHUNKS_PER_SEGMENT', 'CHUNK_SIZE'] as const;
const savedEnv = Object.fromEntries(ENV.map((name) => [name, process.env[name]]));

beforeAll(async () => {
  s3 = await startLocalS3([BUCKET], undefined);
  process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  process.env.STAGING_BUCKET = BUCKET;
  delete process.env.MAX_CHUNKS_PER_SEGMENT;
  delete process.env.CHUNK_SIZE;
  s3Client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true });
  world = await startChunkWorld(Object.values(PAGES));
  staging = await import('#shared/staging/staged-chunks.ts');
  reader = await import('#shared/sync/read-conversations.ts');
});
afterAll(async () => {
  for (const name of ENV) {
    const value = savedEnv[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  s3Client?.destroy();
  await world?.close();
  await s3?.close();
});

/** A job as start-sync creates it (with the maps the reader writes into), already IN_PROGRESS. */
async function givenReadJob(pageId: string, extra: Partial<SyncJob> = {}): Promise<string> {
  const now = new Date().toISOString();
  const job: SyncJob = {
    jobId: randomUUID(),
    organizationId: 'org-test',
    pageId,
    status: 'IN_PROGRESS',
    phase: 'starting',
    syncedContacts: 0,
    failedContacts: 0,
    totalContacts: 0,
    mode: 'full',
    since: null,
    listed: {},
    seenWatermarks: {},
    createdBy: 'tester',
    createdAt: now,
    updatedAt: now,
    startedAt: now,
    ...extra,
  };
  await ddb.send(new PutCommand({ TableName: tables.jobs, Item: { ...job, sk: JOB_SK } }));
  return job.jobId;
}

const START: ListPosition = { platform: 'messenger', cursor: null, segment: 0 };
const input = (jobId: string, page: SimPage, position: ListPosition = START): ReadInput => ({
  jobId,
  pageId: page.id,
  position,
});
const read = (jobId: string, page: SimPage, position?: ListPosition, graph: GraphClient = world.graph) =>
  reader.readConversations(input(jobId, page, position), graph);

const graphCalls = (page: SimPage) => world.sim.stats().callsByPage[page.id] ?? 0;

/** The page's whole list as Graph gives it, per platform (read before a test counts its calls). */
async function listAll(page: SimPage): Promise<Record<Platform, Conversation[]>> {
  const all: Record<Platform, Conversation[]> = { messenger: [], instagram: [] };
  for (const platform of ['messenger', 'instagram'] as const) {
    let after: string | null = null;
    do {
      const out: { items: Conversation[]; after: string | null } = await world.graph.listConversations({
        pageId: page.id,
        platform,
        accessToken: page.accessToken,
        after,
        limit: 50,
      });
      all[platform].push(...out.items);
      after = out.after;
    } while (after);
  }
  return all;
}
const idsOf = (conversations: Conversation[]) => conversations.map((c) => c.id);

/** The chunks staged for a segment, in index order, up to the first missing one. */
async function stagedChunks(jobId: string, segment = 0) {
  const chunks = [];
  for (let index = 0; ; index++) {
    const chunk = await staging.getChunk(jobId, segment, index);
    if (!chunk) return chunks;
    chunks.push(chunk);
  }
}
const stagedIds = async (jobId: string, segment = 0) =>
  (await stagedChunks(jobId, segment)).flatMap((chunk) => idsOf(chunk.conversations));

async function stagedKeys(jobId: string): Promise<string[]> {
  const out = await s3Client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `jobs/${jobId}/` }));
  return (out.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])).sort();
}

/** The real Graph client, with `before(n)` run before its n-th list call (which fails if it throws). */
function graphWith(before: (n: number, req: ListRequest) => Promise<void>): GraphClient {
  let calls = 0;
  return {
    listConversations: async (req: ListRequest) => {
      await before(++calls, req);
      return world.graph.listConversations(req);
    },
  } as unknown as GraphClient;
}

describe('readConversations: one pass over the list', () => {
  it('stages every conversation exactly once, in list order, Messenger then Instagram, and counts them all', async () => {
    const page = await connect(PAGES.order);
    const list = await listAll(page);
    const jobId = await givenReadJob(page.id);
    const calls = graphCalls(page);

    const result = await read(jobId, page);

    // 120 Messenger conversations in pages of 50, then 30 Instagram ones: 4 list calls, 4 chunks.
    expect(result).toEqual({ next: null, stopped: false, chunks: 4, conversations: 150 });
    expect(graphCalls(page) - calls).toBe(4);
    const chunks = await stagedChunks(jobId);
    expect(chunks.map((c) => [c.platform, c.conversations.length])).toEqual([
      ['messenger', 50],
      ['messenger', 50],
      ['messenger', 20],
      ['instagram', 30],
    ]);
    const ids = chunks.flatMap((c) => idsOf(c.conversations));
    expect(ids).toEqual([...idsOf(list.messenger), ...idsOf(list.instagram)]);
    expect(new Set(ids).size).toBe(150);
    // Each chunk is known by the cursor it was read from; its resume is where the next one starts.
    expect(chunks[0]?.after).toBeNull();
    expect(chunks[1]?.after).toBe(chunks[0]?.resume.after);
    expect(chunks[2]?.after).toBe(chunks[1]?.resume.after);
    expect(chunks[1]?.after).not.toBeNull();
    expect(chunks[2]?.resume).toMatchObject({ platform: 'messenger', done: true });
    expect(chunks[3]).toMatchObject({ after: null, resume: { platform: 'instagram', done: true } });
    expect(await staging.getSegmentEnd(jobId, 0)).toEqual({ chunks: 4, next: null });

    const job = await readJob(jobId);
    expect(job).toMatchObject({
      status: 'IN_PROGRESS',
      totalContacts: 150,
      listComplete: true,
      listed: { s0: 150 },
      seenWatermarks: {
        messenger: list.messenger[0]?.updated_time,
        instagram: list.instagram[0]?.updated_time,
      },
    });
  });

  it('makes no Graph call and counts nothing again when it runs again for a finished segment (a retry)', async () => {
    const page = await connect(PAGES.order);
    const jobId = await givenReadJob(page.id);
    const first = await read(jobId, page);
    const keys = await stagedKeys(jobId);
    const calls = graphCalls(page);

    const again = await read(jobId, page);

    expect(again).toMatchObject({ next: null, chunks: first.chunks });
    expect(graphCalls(page)).toBe(calls);
    expect((await readJob(jobId)).totalContacts).toBe(150);
    expect(await stagedKeys(jobId)).toEqual(keys);
  });

  it('continues after the chunks a crashed attempt staged, without reading them again, the count exact', async () => {
    const page = await connect(PAGES.graphCrash);
    const list = await listAll(page);
    const jobId = await givenReadJob(page.id);
    // The attempt dies at its third list call, after staging two chunks.
    const crashing = graphWith(async (n) => {
      if (n === 3) throw new Error('reader crashed');
    });
    await expect(read(jobId, page, START, crashing)).rejects.toThrow('reader crashed');
    expect(await stagedKeys(jobId)).toHaveLength(2);
    expect((await readJob(jobId)).totalContacts).toBe(100);
    const calls = graphCalls(page);

    const result = await read(jobId, page);

    expect(result).toEqual({ next: null, stopped: false, chunks: 4, conversations: 150 });
    // The third Messenger page and the Instagram one: the first two are not read again.
    expect(graphCalls(page) - calls).toBe(2);
    expect(await stagedIds(jobId)).toEqual([...idsOf(list.messenger), ...idsOf(list.instagram)]);
    expect(await readJob(jobId)).toMatchObject({
      totalContacts: 150,
      listed: { s0: 150 },
      listComplete: true,
    });
  });

  it('counts a page only once when the attempt crashed after counting it and before staging it', async () => {
    const page = await connect(PAGES.stageCrash);
    const list = await listAll(page);
    const jobId = await givenReadJob(page.id);
    const third = `jobs/${jobId}/s0/000002.json`;
    const send = S3Client.prototype.send;
    const failing = vi.spyOn(S3Client.prototype, 'send').mockImplementation(function (
      this: S3Client,
      command: Parameters<S3Client['send']>[0],
      ...rest: unknown[]
    ) {
      if ((command.input as { Key?: string }).Key === third)
        return Promise.reject(new Error('reader crashed'));
      return (send as (...args: unknown[]) => Promise<unknown>).call(this, command, ...rest);
    } as S3Client['send']);
    try {
      await expect(read(jobId, page)).rejects.toThrow('reader crashed');
    } finally {
      failing.mockRestore();
    }
    expect(await stagedKeys(jobId)).toHaveLength(2);
    // Counted before it is staged: never behind what the workers sync.
    expect((await readJob(jobId)).totalContacts).toBe(120);

    const result = await read(jobId, page);

    expect(result).toMatchObject({ next: null, chunks: 4 });
    expect(await stagedIds(jobId)).toEqual([...idsOf(list.messenger), ...idsOf(list.instagram)]);
    expect(await readJob(jobId)).toMatchObject({
      totalContacts: 150,
      listed: { s0: 150 },
      listComplete: true,
    });
  });
});

describe('readConversations: execution segments', () => {
  it('cuts a segment at MAX_CHUNKS_PER_SEGMENT and returns where the next one starts', async () => {
    const page = await connect(PAGES.segments);
    const list = await listAll(page);
    const jobId = await givenReadJob(page.id);
    process.env.MAX_CHUNKS_PER_SEGMENT = '2';
    try {
      const calls = graphCalls(page);
      const first = await read(jobId, page);

      const chunks = await stagedChunks(jobId, 0);
      expect(chunks).toHaveLength(2);
      const next = { platform: 'messenger', cursor: chunks[1]?.resume.after, segment: 1 };
      expect(next.cursor).toEqual(expect.any(String));
      expect(first).toEqual({ next, stopped: false, chunks: 2, conversations: 100 });
      expect(graphCalls(page) - calls).toBe(2);
      expect(await staging.getSegmentEnd(jobId, 0)).toEqual({ chunks: 2, next });
      const between = await readJob(jobId);
      expect(between).toMatchObject({ totalContacts: 100, listed: { s0: 100 } });
      expect(between.listComplete).toBeUndefined();

      const second = await read(jobId, page, first.next ?? undefined);

      expect(second).toEqual({ next: null, stopped: false, chunks: 2, conversations: 50 });
      expect(graphCalls(page) - calls).toBe(4);
      expect([...(await stagedIds(jobId, 0)), ...(await stagedIds(jobId, 1))]).toEqual([
        ...idsOf(list.messenger),
        ...idsOf(list.instagram),
      ]);
      expect(await readJob(jobId)).toMatchObject({
        totalContacts: 150,
        listed: { s0: 100, s1: 50 },
        listComplete: true,
      });
    } finally {
      delete process.env.MAX_CHUNKS_PER_SEGMENT;
    }
  });

  it('starts the next segment at the top of Instagram when a segment ends with the Messenger list', async () => {
    const page = await connect(PAGES.segmentAtPlatformEnd);
    const list = await listAll(page);
    const jobId = await givenReadJob(page.id);
    process.env.MAX_CHUNKS_PER_SEGMENT = '3';
    try {
      const first = await read(jobId, page);

      expect(first).toEqual({
        next: { platform: 'instagram', cursor: null, segment: 1 },
        stopped: false,
        chunks: 3,
        conversations: 120,
      });
      const second = await read(jobId, page, first.next ?? undefined);

      expect(second).toEqual({ next: null, stopped: false, chunks: 1, conversations: 30 });
      expect(await stagedIds(jobId, 1)).toEqual(idsOf(list.instagram));
      expect(await readJob(jobId)).toMatchObject({ totalContacts: 150, listComplete: true });
    } finally {
      delete process.env.MAX_CHUNKS_PER_SEGMENT;
    }
  });
});

describe('readConversations: a job that stops', () => {
  it('stops reading when the job is cancelled, deletes what it staged and counts nothing more', async () => {
    const page = await connect(PAGES.cancelled);
    const jobId = await givenReadJob(page.id);
    const calls = graphCalls(page);
    // The cancel commits while the second list page is being read.
    const cancelling = graphWith(async (n) => {
      if (n === 2) await transitionJob(jobId, { from: ['IN_PROGRESS'], to: 'CANCELLED', phase: 'cancelled' });
    });

    const result = await read(jobId, page, START, cancelling);

    expect(result.next).toBeNull();
    expect(graphCalls(page) - calls).toBe(2);
    expect(await stagedKeys(jobId)).toEqual([]);
    expect(await readJob(jobId)).toMatchObject({
      status: 'CANCELLED',
      totalContacts: 50,
      listed: { s0: 50 },
    });

    // Run again (a retry of the step): nothing is read, staged or counted.
    await expect(read(jobId, page)).resolves.toEqual({
      next: null,
      stopped: true,
      chunks: 0,
      conversations: 0,
    });
    expect(graphCalls(page) - calls).toBe(2);
    expect(await stagedKeys(jobId)).toEqual([]);
    expect((await readJob(jobId)).totalContacts).toBe(50);
  });

  it('keeps what it staged when the job is paused, and the resumed reader continues after it', async () => {
    const page = await connect(PAGES.paused);
    const list = await listAll(page);
    const jobId = await givenReadJob(page.id);
    const calls = graphCalls(page);
    const pausing = graphWith(async (n) => {
      if (n === 2) await transitionJob(jobId, { from: ['IN_PROGRESS'], to: 'PAUSED', phase: 'paused' });
    });

    const result = await read(jobId, page, START, pausing);

    expect(result.next).toBeNull();
    expect(graphCalls(page) - calls).toBe(2);
    expect(await stagedKeys(jobId)).toEqual([`jobs/${jobId}/s0/000000.json`]);
    expect(await staging.getSegmentEnd(jobId, 0)).toBeNull();
    expect(await readJob(jobId)).toMatchObject({ status: 'PAUSED', totalContacts: 50 });

    await transitionJob(jobId, { from: ['PAUSED'], to: 'IN_PROGRESS', phase: 'resuming' });
    const resumed = await read(jobId, page);

    expect(resumed).toEqual({ next: null, stopped: false, chunks: 4, conversations: 150 });
    // The second Messenger page again (it was read, not staged), the third, and Instagram's.
    expect(graphCalls(page) - calls).toBe(5);
    expect(await stagedIds(jobId)).toEqual([...idsOf(list.messenger), ...idsOf(list.instagram)]);
    expect(await readJob(jobId)).toMatchObject({ totalContacts: 150, listComplete: true });
  });
});

describe('readConversations: incremental', () => {
  it('stages only the conversations at or after each platform watermark, and stops reading at the first older one', async () => {
    const page = await connect(PAGES.incremental);
    const list = await listAll(page);
    const messengerMark = list.messenger[60]?.updated_time ?? '';
    const instagramMark = list.instagram[10]?.updated_time ?? '';
    const jobId = await givenReadJob(page.id, {
      mode: 'incremental',
      since: [messengerMark, instagramMark].sort()[0] ?? null,
      sinceByPlatform: { messenger: messengerMark, instagram: instagramMark },
    });
    const calls = graphCalls(page);

    const result = await read(jobId, page);

    const expected = [
      ...list.messenger.filter((c) => (c.updated_time ?? '') >= messengerMark),
      ...list.instagram.filter((c) => (c.updated_time ?? '') >= instagramMark),
    ];
    // The conversations on the watermark itself are read again (no contact is stored for them).
    expect(expected.length).toBeGreaterThanOrEqual(61 + 11);
    expect(expected.length).toBeLessThan(150);
    expect(await stagedIds(jobId)).toEqual(idsOf(expected));
    expect(result).toMatchObject({ next: null, conversations: expected.length });
    // Messenger's second page holds the first older conversation: no third page. Instagram's first does.
    expect(graphCalls(page) - calls).toBe(3);
    expect(await readJob(jobId)).toMatchObject({
      totalContacts: expected.length,
      listComplete: true,
      seenWatermarks: {
        messenger: list.messenger[0]?.updated_time,
        instagram: list.instagram[0]?.updated_time,
      },
    });
  });

  it('drops a conversation on the watermark whose stored contact is unchanged, keeps a changed one and a newer one', async () => {
    const page = await connect(PAGES.unchanged);
    // A full sync: read, then every chunk processed, so that every contact is stored.
    const fullJob = await givenReadJob(page.id);
    await read(fullJob, page);
    for (const chunk of await stagedChunks(fullJob)) {
      await processChunk(
        { jobId: fullJob, pageId: page.id, platform: chunk.platform, after: chunk.after },
        chunk.conversations,
        { analyzer: countingAnalyzer().analyzer },
      );
    }
    expect(await contactsOf(page.id)).toHaveLength(30);
    const list = await listAll(page);
    const mark = (await readJob(fullJob)).seenWatermarks?.messenger ?? '';
    expect(mark).toBe(list.messenger[0]?.updated_time);
    const incremental = { mode: 'incremental' as const, since: mark, sinceByPlatform: { messenger: mark } };

    // Nothing changed: the conversation on the watermark is read, and dropped.
    const quiet = await givenReadJob(page.id, incremental);
    let calls = graphCalls(page);
    await expect(read(quiet, page)).resolves.toMatchObject({ next: null, chunks: 0, conversations: 0 });
    expect(await stagedKeys(quiet)).toEqual([`jobs/${quiet}/s0/end.json`]);
    // One Messenger page (it ends at its second conversation) and Instagram's empty list.
    expect(graphCalls(page) - calls).toBe(2);
    expect(await readJob(quiet)).toMatchObject({ totalContacts: 0, listComplete: true });

    // A new message in the 6th conversation, and the top one's stored contact no longer what it would write.
    const top = list.messenger[0] as Conversation;
    const customer = customerOf({ pageId: page.id }, top);
    await ddb.send(
      new UpdateCommand({
        TableName: tables.contacts,
        Key: { pageId: page.id, contactKey: contactKey('org-test', 'messenger', customer?.id ?? '') },
        UpdateExpression: 'SET messageCount = :count',
        ExpressionAttributeValues: { ':count': messageCountOf(top) - 1 },
      }),
    );
    const moved = list.messenger[5]?.id ?? '';
    world.sim.addMessages({ pageId: page.id, conversationIds: [moved] });
    const changes = await givenReadJob(page.id, incremental);
    calls = graphCalls(page);

    const result = await read(changes, page);

    expect(result).toMatchObject({ next: null, chunks: 1, conversations: 2 });
    expect(await stagedIds(changes)).toEqual([moved, top.id]);
    expect(graphCalls(page) - calls).toBe(2);
    expect(await readJob(changes)).toMatchObject({ totalContacts: 2, listComplete: true });
  });

  it('reads again the conversations the last completed sync counted as failed, older than the watermark', async () => {
    const page = await connect(PAGES.retryFailed);
    const list = await listAll(page);
    const mark = list.messenger[0]?.updated_time ?? '';
    const failed = list.messenger[12]?.id ?? '';
    // What the page keeps after a completed sync that counted one conversation as failed.
    await ddb.send(
      new UpdateCommand({
        TableName: tables.pages,
        Key: { pageId: page.id },
        UpdateExpression:
          'SET messengerWatermark = :mark, watermarkRecordedAt = :now, retryConversations = :retry',
        ExpressionAttributeValues: {
          ':mark': mark,
          ':now': new Date().toISOString(),
          ':retry': [`messenger#${failed}`],
        },
      }),
    );
    const jobId = await givenReadJob(page.id, {
      mode: 'incremental',
      since: mark,
      sinceByPlatform: { messenger: mark },
    });

    await read(jobId, page);

    // The top conversation (on the watermark, no contact stored) and the failed one, each once, both counted.
    const ids = await stagedIds(jobId);
    expect(ids.filter((id) => id === failed)).toHaveLength(1);
    expect(ids).toContain(list.messenger[0]?.id);
    expect((await readJob(jobId)).totalContacts).toBe(ids.length);
  });
});
