import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tables, transactionReasons } from './db.ts';
import { CONTACTS_BY_CREATING_JOB, jobKey } from './table-keys.ts';

/** A contact a job created, as the byCreatingJob index shows it. */
export interface CreatedContactRef {
  pageId: string;
  contactKey: string;
  lastSyncJobId: string;
}

/** One page of the contacts `jobId` created (byCreatingJob index), oldest key first. */
export async function contactsCreatedBy(
  jobId: string,
  limit: number,
  startKey?: Record<string, unknown>,
): Promise<{ items: CreatedContactRef[]; nextKey?: Record<string, unknown> }> {
  const out = await ddb.send(
    new QueryCommand({
      TableName: tables.contacts,
      IndexName: CONTACTS_BY_CREATING_JOB.indexName,
      KeyConditionExpression: `${CONTACTS_BY_CREATING_JOB.partitionKey} = :j`,
      ExpressionAttributeValues: { ':j': jobId },
      Limit: limit,
      ExclusiveStartKey: startKey,
    }),
  );
  return { items: (out.Items ?? []) as CreatedContactRef[], nextKey: out.LastEvaluatedKey };
}

/**
 * Deletes a contact that job `jobId` created, in one transaction with the job's `cleanupDeleted`
 * increment (so the count is exact across retries and concurrent cleanups) and the page's
 * `contactCount` decrement. The delete is conditional on the contact still being this job's:
 * created by it and last written by it. A contact another sync has written since is `kept`.
 */
export async function deleteCreatedContact(
  jobId: string,
  organizationId: string,
  ref: Pick<CreatedContactRef, 'pageId' | 'contactKey'>,
): Promise<'deleted' | 'kept' | 'gone'> {
  // Transaction conflicts on the job or page item are retried by the client (conflict-retry.ts).
  let countOnPage = true;
  for (;;) {
    try {
      await ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: tables.contacts,
                Key: { pageId: ref.pageId, contactKey: ref.contactKey },
                ConditionExpression: 'createdByJobId = :j AND lastSyncJobId = :j',
                ExpressionAttributeValues: { ':j': jobId },
              },
            },
            {
              Update: {
                TableName: tables.jobs,
                Key: jobKey(jobId),
                UpdateExpression: 'ADD cleanupDeleted :one',
                ConditionExpression: '#status = :cancelled',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':one': 1, ':cancelled': 'CANCELLED' },
              },
            },
            ...(countOnPage
              ? [
                  {
                    Update: {
                      TableName: tables.pages,
                      Key: { pageId: ref.pageId },
                      UpdateExpression: 'ADD contactCount :minus',
                      ConditionExpression: 'organizationId = :o',
                      ExpressionAttributeValues: { ':minus': -1, ':o': organizationId },
                    },
                  },
                ]
              : []),
          ],
        }),
      );
      return 'deleted';
    } catch (error) {
      const reasons = transactionReasons(error);
      if (reasons?.[0] === 'ConditionalCheckFailed') return (await stillThere(ref)) ? 'kept' : 'gone';
      if (reasons?.[1] === 'ConditionalCheckFailed') throw new Error(`Job ${jobId} is not CANCELLED`);
      // The page was disconnected (or changed hands): it has no count of these contacts to keep.
      if (reasons?.[2] === 'ConditionalCheckFailed') {
        countOnPage = false;
        continue;
      }
      throw error;
    }
  }
}

async function stillThere(ref: Pick<CreatedContactRef, 'pageId' | 'contactKey'>): Promise<boolean> {
  const out = await ddb.send(
    new GetCommand({
      TableName: tables.contacts,
      Key: { pageId: ref.pageId, contactKey: ref.contactKey },
      ProjectionExpression: 'pageId',
      ConsistentRead: true,
    }),
  );
  return out.Item !== undefined;
}
