import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { JobStatus } from '#shared/job-status.ts';
import type { Contact, ContactInput } from '#shared/store/contact-repository.ts';
import { ddb, queryAll, tables } from '#shared/store/db.ts';
import { JOB_SK } from '#shared/store/table-keys.ts';
import type { SyncJob } from '#shared/sync/job.ts';

/** Fresh ids per test, so tests share one DynamoDB Local without seeing each other's data. */
export async function givenPage(organizationId = 'org-test', extra: Record<string, unknown> = {}) {
  const pageId = `page-${randomUUID()}`;
  await ddb.send(
    new PutCommand({
      TableName: tables.pages,
      Item: {
        pageId,
        organizationId,
        pageName: 'Test Page',
        accessTokenCiphertext: 'not-decrypted-in-these-tests',
        contactCount: 0,
        connectedAt: new Date().toISOString(),
        ...extra,
      },
    }),
  );
  return pageId;
}

export async function givenJob(
  pageId: string,
  status: JobStatus = 'IN_PROGRESS',
  organizationId = 'org-test',
) {
  const now = new Date().toISOString();
  const job: SyncJob = {
    jobId: randomUUID(),
    organizationId,
    pageId,
    status,
    phase: 'syncing:messenger',
    syncedContacts: 0,
    failedContacts: 0,
    totalContacts: 10,
    createdBy: 'tester',
    createdAt: now,
    updatedAt: now,
  };
  await ddb.send(new PutCommand({ TableName: tables.jobs, Item: { ...job, sk: JOB_SK } }));
  return job.jobId;
}

export async function readJob(jobId: string) {
  const out = await ddb.send(
    new GetCommand({ TableName: tables.jobs, Key: { jobId, sk: JOB_SK }, ConsistentRead: true }),
  );
  return out.Item as SyncJob;
}

export async function readPage(pageId: string) {
  const out = await ddb.send(
    new GetCommand({ TableName: tables.pages, Key: { pageId }, ConsistentRead: true }),
  );
  return out.Item as { contactCount: number; activeJobId?: string };
}

export function contactsOf(pageId: string) {
  return queryAll<Contact>({
    TableName: tables.contacts,
    KeyConditionExpression: 'pageId = :p',
    ExpressionAttributeValues: { ':p': pageId },
    ConsistentRead: true,
  });
}

export function contact(pageId: string, participantId: string): ContactInput {
  return {
    pageId,
    organizationId: 'org-test',
    platform: 'messenger',
    participantId,
    displayName: `Customer ${participantId}`,
    conversationId: `t_${participantId}`,
    lastMessageAt: '2026-10-01T10:00:00.000Z',
    messageCount: 3,
    aiContext: { summary: 's', intent: 'question', sentiment: 'neutral', leadScore: 40, tags: ['question'] },
  };
}
