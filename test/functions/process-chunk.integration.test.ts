import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { putChunk } from '#shared/staging/staged-chunks.ts';
import { ddb } from '#shared/store/db.ts';
import { transitionJob } from '#shared/store/job-repository.ts';
import { getPage } from '#shared/store/page-repository.ts';
import { captureOutput, total } from '#test/shared/output.ts';
import { givenJob, readJob } from '#test/shared/store/fixtures.ts';
import { chunk, connect, listChunk, startChunkWorld } from '#test/shared/sync/chunk-world.ts';
import { handler } from '../../functions/process-chunk/handler.ts';
import { conversationMessages, generatePage } from '../../local/graph-sim/demo-data.ts';
import { startLocalS3 } from '../../local/s3.ts';
import { lambdaContext } from './event.ts';

const BUCKET = 'contact-sync-staging-handler-test';

/**
 * The chunk worker's handler as Lambda runs it, against DynamoDB Local and a local S3 holding the
 * chunk the reader staged (read from the Graph simulator): its metrics equal what it wrote, its log lines name the job and the page, and
 * nothing it writes to stdout/stderr carries the page token, its ciphertext or message text.
 */
await vi.hoisted(async () =>
  (await import('#test/shared/output.ts')).turnOutputOn({
    // One conversation at a time, each result committed as soon as it is ready (no batching
    // wait), so that a cancel after k commits lands in the middle of the chunk.
    CONVERSATION_CONCURRENCY: '1',
    COMMIT_MAX_AGE_MS: '0',
  }),
);

const output = captureOutput();
// A page id no other file uses: every test file shares one DynamoDB Local.
const page = generatePage({
  id: '320000000000001',
  name: 'Observed Page',
  accessToken: `EAAGobserved${randomUUID().replaceAll('-', '')}`,
  messenger: 12,
  instagram: 0,
});
const messageTexts = page.conversations.messenger
  .flatMap((c) => conversationMessages(c).map((m) => m.message))
  .filter((text) => text.length > 12);

let world: Awaited<ReturnType<typeof startChunkWorld>>;
let s3: Awaited<ReturnType<typeof startLocalS3>>;
beforeAll(async () => {
  world = await startChunkWorld([page]);
  s3 = await startLocalS3([BUCKET], undefined);
  process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  process.env.STAGING_BUCKET = BUCKET;
  await connect(page);
});
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_S3;
  delete process.env.STAGING_BUCKET;
  await s3?.close();
  await world?.close();
});

/** A job with the page's Messenger chunk staged for it, as the reader leaves it. */
async function jobWithStagedChunk(): Promise<string> {
  const jobId = await givenJob(page.id);
  const { ref, conversations } = await listChunk(world.graph, jobId, page);
  await putChunk(jobId, 0, 0, {
    platform: ref.platform,
    after: ref.after,
    conversations,
    resume: { platform: ref.platform, after: null, done: true },
  });
  return jobId;
}

/** Cancels `jobId` right after the chunk's k-th transaction, as a "Stop Sync" landing mid-chunk. */
function cancelAfterWrites(jobId: string, k: number): () => void {
  let writes = 0;
  const name = `cancel-after-${k}-${jobId}`;
  ddb.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'TransactWriteItemsCommand' && ++writes === k)
        await transitionJob(jobId, { from: ['IN_PROGRESS'], to: 'CANCELLED', phase: 'cancelled' });
      return result;
    },
    { step: 'initialize', name },
  );
  return () => ddb.middlewareStack.remove(name);
}

describe('process-chunk handler: metrics and logs', () => {
  it('emits ContactsSynced and ContactsFailed (Count) equal to what the chunk wrote, with no job or page dimension', async () => {
    const jobId = await jobWithStagedChunk();

    const result = await handler(chunk(jobId, page.id), lambdaContext);

    const job = await readJob(jobId);
    expect(result.stopped).toBe(false);
    expect(job.syncedContacts).toBeGreaterThan(0);
    const metrics = output.metrics();
    expect(metrics).toContainEqual({ name: 'ContactsSynced', unit: 'Count', values: [job.syncedContacts] });
    expect(metrics).toContainEqual({ name: 'ContactsFailed', unit: 'Count', values: [job.failedContacts] });
    for (const emf of output.emf()) {
      const dimensions = (emf._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] })
        .CloudWatchMetrics[0]?.Dimensions;
      expect(dimensions?.flat()).not.toContain('jobId');
      expect(dimensions?.flat()).not.toContain('pageId');
    }
  });

  it('does not count a write refused after the cancel: the metrics equal the job counters', async () => {
    const jobId = await jobWithStagedChunk();
    const restore = cancelAfterWrites(jobId, 3);
    try {
      const result = await handler(chunk(jobId, page.id), lambdaContext);
      expect(result.stopped, JSON.stringify(result)).toBe(true);
    } finally {
      restore();
    }

    const job = await readJob(jobId);
    // At least the three commits before the cancel, and not the whole chunk of 12.
    expect(job.syncedContacts + job.failedContacts).toBeGreaterThanOrEqual(3);
    expect(job.syncedContacts + job.failedContacts).toBeLessThan(12);
    expect(total(output.metrics(), 'ContactsSynced')).toBe(job.syncedContacts);
    expect(total(output.metrics(), 'ContactsFailed')).toBe(job.failedContacts);
  });

  it('puts the jobId and pageId on every log line of the invocation, and clears them for the next one', async () => {
    const jobId = await jobWithStagedChunk();

    await handler(chunk(jobId, page.id), lambdaContext);
    const ofChunk = output.logs();
    await expect(handler({ jobId: 'not-a-job' }, lambdaContext)).rejects.toThrow();
    const ofBadEvent = output.logs().slice(ofChunk.length);

    expect(ofChunk).toContainEqual(
      expect.objectContaining({ message: 'Chunk processed', conversations: 12 }),
    );
    for (const line of ofChunk) expect(line).toMatchObject({ jobId, pageId: page.id, function_name: 'test' });
    expect(ofBadEvent).toContainEqual(expect.objectContaining({ level: 'ERROR', message: 'Step failed' }));
    for (const line of ofBadEvent) {
      expect(line).not.toHaveProperty('jobId');
      expect(line).not.toHaveProperty('pageId');
    }
  });

  it('never writes the page token, its ciphertext or message text to stdout or stderr', async () => {
    const jobId = await jobWithStagedChunk();
    const { accessTokenCiphertext } = (await getPage(page.id)) ?? {};

    await handler(chunk(jobId, page.id), lambdaContext);

    expect(output.logs().length).toBeGreaterThan(0);
    expect(messageTexts.length).toBeGreaterThan(0);
    const written = output.text();
    expect(written).not.toContain(page.accessToken);
    expect(accessTokenCiphertext).toBeTruthy();
    expect(written).not.toContain(accessTokenCiphertext);
    for (const text of messageTexts) expect(written).not.toContain(text);
  });
});
