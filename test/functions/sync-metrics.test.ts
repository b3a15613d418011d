import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobStatus } from '#shared/job-status.ts';
import { captureOutput, total } from '#test/shared/output.ts';
import { handler as cancelHandler } from '../../functions/cancel-sync/handler.ts';
import { handler as cancelBulkHandler } from '../../functions/cancel-sync-bulk/handler.ts';
import { handler as disconnectHandler } from '../../functions/disconnect-page/handler.ts';
import { handler as finalizeHandler } from '../../functions/finalize-sync/handler.ts';
import { handler as pauseHandler } from '../../functions/pause-sync/handler.ts';
import { handler as retryHandler } from '../../functions/retry-sync/handler.ts';
import { handler as startHandler } from '../../functions/start-sync/handler.ts';
import { lambdaContext, routeCaller } from './event.ts';
import {
  CANCEL_COMMIT,
  cancelledJob,
  conditionFailed,
  ddbMock,
  givenActiveSync,
  givenEventBus,
  givenJob,
  givenPage,
  givenRefusedCommit,
  givenStartablePage,
  JOB_ID,
  PAGE_ID,
  pageLockConflict,
  resetAwsMocks,
  sfnMock,
  storedJob,
  storedPage,
} from './fixtures.ts';

/**
 * The sync metrics (EMF, namespace ContactSync) of the routes and the finalize step: each counts
 * only what really happened — a start whose execution runs, the call that won a transition —
 * never an idempotent repeat or a lost race. And the log lines of a request carry its job and
 * page, and only its own.
 */
await vi.hoisted(async () => (await import('#test/shared/output.ts')).turnOutputOn());

const output = captureOutput();
const start = routeCaller(startHandler, 'startSync');
const retry = routeCaller(retryHandler, 'retrySync');
const cancel = routeCaller(cancelHandler, 'cancelSync');
const cancelBulk = routeCaller(cancelBulkHandler, 'cancelSyncBulk');
const pause = routeCaller(pauseHandler, 'pauseSync');
const disconnect = routeCaller(disconnectHandler, 'disconnectPage');
const count = (name: string) => total(output.metrics(), name);

beforeEach(() => {
  resetAwsMocks();
  givenEventBus();
  // A completed job's failed conversations (none here), which finalize leaves on the page.
  ddbMock.on(QueryCommand).resolves({ Items: [] });
});

describe('SyncsStarted', () => {
  it('counts 1 (Count) for a start whose execution runs, with only the service dimension', async () => {
    givenStartablePage();

    const reply = await start({ pageId: PAGE_ID });

    expect(reply.statusCode).toBe(202);
    expect(output.metrics()).toContainEqual({ name: 'SyncsStarted', unit: 'Count', values: [1] });
    const [emf] = output.emf().filter((d) => 'SyncsStarted' in d);
    expect(emf).toMatchObject({ service: 'contact-sync' });
    expect(emf?._aws).toMatchObject({
      CloudWatchMetrics: [{ Namespace: 'ContactSync', Dimensions: [['service']] }],
    });
  });

  it('counts 1 for a retry of a FAILED job', async () => {
    givenJob(storedJob({ status: 'FAILED', completedAt: '2026-01-01T00:05:00.000Z' }));
    givenStartablePage();

    const reply = await retry({ jobId: JOB_ID });

    expect(reply.statusCode).toBe(202);
    expect(count('SyncsStarted')).toBe(1);
  });

  it('counts nothing when the page is locked by another sync (409)', async () => {
    givenPage(storedPage(), storedPage({ activeJobId: JOB_ID }));
    givenJob(storedJob());
    ddbMock.on(TransactWriteCommand).rejects(pageLockConflict());

    const reply = await start({ pageId: PAGE_ID });

    expect(reply.statusCode).toBe(409);
    expect(count('SyncsStarted')).toBe(0);
  });

  it('counts nothing when the execution cannot be started (503)', async () => {
    givenPage(storedPage());
    ddbMock.on(UpdateCommand, CANCEL_COMMIT).resolves({ Attributes: storedJob({ status: 'FAILED' }) });
    sfnMock.on(StartExecutionCommand).rejects(new Error('AccessDeniedException'));

    const reply = await start({ pageId: PAGE_ID });

    expect(reply.statusCode).toBe(503);
    expect(count('SyncsStarted')).toBe(0);
  });
});

describe('SyncsCancelled and CancelLatency', () => {
  it('counts 1 and the latency to the commit (Milliseconds) for the cancel that committed', async () => {
    givenJob(storedJob());
    ddbMock.on(UpdateCommand, CANCEL_COMMIT).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 25));
      return { Attributes: cancelledJob() };
    });

    const reply = await cancel({ jobId: JOB_ID });

    expect(reply.statusCode).toBe(200);
    expect(output.metrics()).toContainEqual({ name: 'SyncsCancelled', unit: 'Count', values: [1] });
    const latency = output.metrics().find((m) => m.name === 'CancelLatency');
    expect(latency).toMatchObject({ unit: 'Milliseconds', values: [expect.any(Number)] });
    expect(latency?.values[0]).toBeGreaterThanOrEqual(20);
    expect(latency?.values[0]).toBeLessThan(5_000);
  });

  it.each<[string, () => void, number]>([
    ['the job is already CANCELLED (an idempotent repeat)', () => givenRefusedCommit(cancelledJob()), 200],
    [
      'another cancel committed first',
      () => givenRefusedCommit(cancelledJob({ cancelledBy: 'user-2' })),
      200,
    ],
    ['the completion committed first', () => givenRefusedCommit(storedJob({ status: 'COMPLETED' })), 400],
  ])('counts nothing when %s', async (_case, arrange, statusCode) => {
    arrange();

    const reply = await cancel({ jobId: JOB_ID });

    expect(reply.statusCode).toBe(statusCode);
    expect(count('SyncsCancelled')).toBe(0);
    expect(count('CancelLatency')).toBe(0);
    expect(output.metrics().filter((m) => m.name === 'CancelLatency')).toEqual([]);
  });

  it('counts a bulk cancel through the same path: once per sync it stopped', async () => {
    givenActiveSync();

    const reply = await cancelBulk({ pageIds: [PAGE_ID] });

    expect(reply.statusCode).toBe(200);
    expect(count('SyncsCancelled')).toBe(1);
    expect(output.metrics().filter((m) => m.name === 'CancelLatency')).toHaveLength(1);
  });

  it('counts nothing for a bulk cancel of a page whose sync is already stopped', async () => {
    givenPage(storedPage({ activeJobId: JOB_ID }));
    givenJob(cancelledJob());

    await cancelBulk({ pageIds: [PAGE_ID] });

    expect(count('SyncsCancelled')).toBe(0);
  });

  it('counts the cancel of the active sync when its page is disconnected', async () => {
    givenPage(storedPage({ activeJobId: JOB_ID }), storedPage());
    givenJob(storedJob());
    ddbMock.on(UpdateCommand, CANCEL_COMMIT).resolves({ Attributes: cancelledJob() });

    const reply = await disconnect(undefined, { pathParameters: { pageId: PAGE_ID } });

    expect(reply.statusCode).toBe(204);
    expect(count('SyncsCancelled')).toBe(1);
  });
});

describe('SyncsPaused', () => {
  it('counts 1 for the pause that committed, nothing for a repeat', async () => {
    const paused = storedJob({ status: 'PAUSED', phase: 'paused' });
    ddbMock
      .on(UpdateCommand, CANCEL_COMMIT)
      .resolvesOnce({ Attributes: paused })
      .rejects(conditionFailed(paused));
    await pause({ jobId: JOB_ID });
    expect(count('SyncsPaused')).toBe(1);

    await pause({ jobId: JOB_ID });
    expect(count('SyncsPaused')).toBe(1);
  });
});

describe('SyncsCompleted and SyncsFailed (the finalize step)', () => {
  const finalize = (outcome: 'COMPLETED' | 'FAILED') =>
    finalizeHandler({ jobId: JOB_ID, pageId: PAGE_ID, outcome }, lambdaContext);

  it.each<['COMPLETED' | 'FAILED', string]>([
    ['COMPLETED', 'SyncsCompleted'],
    ['FAILED', 'SyncsFailed'],
  ])('counts 1 when the transition to %s wins', async (outcome, metric) => {
    // FAILED is one conditional update; COMPLETED a transaction with the page, the job read around it.
    ddbMock.on(UpdateCommand, CANCEL_COMMIT).resolves({ Attributes: storedJob({ status: outcome }) });
    givenJob(storedJob({ status: 'IN_PROGRESS' }), storedJob({ status: outcome }));
    ddbMock.on(TransactWriteCommand).resolves({});

    await expect(finalize(outcome)).resolves.toEqual({ status: outcome, finalized: true });

    expect(output.metrics()).toContainEqual({ name: metric, unit: 'Count', values: [1] });
    expect(count(metric === 'SyncsCompleted' ? 'SyncsFailed' : 'SyncsCompleted')).toBe(0);
  });

  it.each<['COMPLETED' | 'FAILED', JobStatus]>([
    ['COMPLETED', 'CANCELLED'],
    ['FAILED', 'CANCELLED'],
    ['COMPLETED', 'COMPLETED'],
  ])('counts nothing when %s loses to a job already %s', async (outcome, status) => {
    ddbMock.on(UpdateCommand, CANCEL_COMMIT).rejects(conditionFailed());
    givenJob(storedJob({ status }));

    await expect(finalize(outcome)).resolves.toEqual({ status, finalized: false });

    expect(count('SyncsCompleted') + count('SyncsFailed')).toBe(0);
  });
});

describe('correlation of the log lines of a request', () => {
  it('puts the jobId and pageId on the lines after parsing and the domain call, and not on the next request', async () => {
    givenJob(storedJob());
    ddbMock.on(UpdateCommand, CANCEL_COMMIT).resolves({ Attributes: cancelledJob() });

    await cancel({ jobId: JOB_ID });
    const ofCancel = output.logs();
    await cancel({});
    const ofInvalid = output.logs().slice(ofCancel.length);

    expect(ofCancel).toContainEqual(expect.objectContaining({ level: 'INFO', message: 'Sync cancelled' }));
    for (const line of ofCancel) expect(line).toMatchObject({ jobId: JOB_ID, pageId: PAGE_ID });
    // At DEBUG even a request that logs nothing else has a line: the empty metrics flush.
    expect(ofInvalid.length).toBeGreaterThan(0);
    for (const line of ofInvalid) {
      expect(line).not.toHaveProperty('jobId');
      expect(line).not.toHaveProperty('pageId');
    }
  });
});
