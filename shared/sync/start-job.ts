import { randomUUID } from 'node:crypto';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { conflict, forbidden, HttpError, notFound } from '../errors.ts';
import { sfn, stateMachineArn } from '../sfn.ts';
import { ddb, JOB_SK, tables, transactionReasons } from '../store/db.ts';
import { annotateJob, transitionJob } from '../store/job-repository.ts';
import { getPage, releasePageLock } from '../store/page-repository.ts';
import type { SyncJob } from './job.ts';

export interface StartRequest {
  pageId: string;
  organizationId: string;
  userId: string;
}

/**
 * Creates a PENDING job and takes the page lock in one transaction (so two concurrent starts give
 * one job and one 409), then starts the execution named after the job.
 */
export async function startSync(req: StartRequest): Promise<SyncJob> {
  const page = await getPage(req.pageId);
  if (!page) throw notFound('Page not connected');
  if (page.organizationId !== req.organizationId) throw forbidden('Page belongs to another organization');

  const now = new Date().toISOString();
  const job: SyncJob = {
    jobId: randomUUID(),
    organizationId: req.organizationId,
    pageId: req.pageId,
    status: 'PENDING',
    phase: 'queued',
    syncedContacts: 0,
    failedContacts: 0,
    totalContacts: 0,
    createdBy: req.userId,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: tables.pages,
              Key: { pageId: req.pageId },
              UpdateExpression: 'SET activeJobId = :j',
              ConditionExpression: 'attribute_exists(pageId) AND attribute_not_exists(activeJobId)',
              ExpressionAttributeValues: { ':j': job.jobId },
            },
          },
          {
            Put: {
              TableName: tables.jobs,
              Item: { ...job, sk: JOB_SK },
              ConditionExpression: 'attribute_not_exists(jobId)',
            },
          },
        ],
      }),
    );
  } catch (error) {
    if (transactionReasons(error)?.[0] === 'ConditionalCheckFailed') {
      const current = await getPage(req.pageId);
      throw conflict('A sync is already running for this page', {
        activeJobId: current?.activeJobId ?? null,
      });
    }
    throw error;
  }

  try {
    const out = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: stateMachineArn(),
        name: job.jobId,
        input: JSON.stringify({ jobId: job.jobId, pageId: job.pageId }),
      }),
    );
    if (out.executionArn) await annotateJob(job.jobId, { executionArn: out.executionArn });
    return { ...job, executionArn: out.executionArn };
  } catch (error) {
    // No job may stay PENDING forever: a start that could not launch ends FAILED and frees the page.
    console.error('StartExecution failed', { jobId: job.jobId, error: (error as Error).name });
    await transitionJob(job.jobId, {
      from: ['PENDING'],
      to: 'FAILED',
      phase: 'failed',
      set: { completedAt: new Date().toISOString(), error: 'The sync could not be started. Try again.' },
    });
    await releasePageLock(job.pageId, job.jobId);
    throw new HttpError(503, 'The sync could not be started. Try again.');
  }
}
