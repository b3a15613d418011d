import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { CONTACTS_KEYS, FAILED_PREFIX, JOBS_KEYS } from '#shared/store/table-keys.ts';

/**
 * What the embedded stack's tables hold, read directly (consistent reads) by the tests that check
 * the API's answers against the stored items.
 */

/** Every item a query matches, following LastEvaluatedKey. */
export async function queryEvery<T = Record<string, unknown>>(
  doc: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey' | 'ConsistentRead'>,
): Promise<T[]> {
  const items: T[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new QueryCommand({ ...input, ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    items.push(...((out.Items ?? []) as T[]));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** Every stored contact of a page (of every organization), optionally only some attributes. */
export const storedContacts = <T = Record<string, unknown>>(
  doc: DynamoDBDocumentClient,
  table: string,
  pageId: string,
  projection?: string,
) =>
  queryEvery<T>(doc, {
    TableName: table,
    KeyConditionExpression: `${CONTACTS_KEYS.partitionKey} = :p`,
    ExpressionAttributeValues: { ':p': pageId },
    ...(projection ? { ProjectionExpression: projection } : {}),
  });

/** How many failed-conversation markers a job holds (one per conversation counted in failedContacts). */
export const failedMarkerCount = async (doc: DynamoDBDocumentClient, table: string, jobId: string) =>
  (
    await queryEvery(doc, {
      TableName: table,
      KeyConditionExpression: `${JOBS_KEYS.partitionKey} = :j AND begins_with(${JOBS_KEYS.sortKey}, :failed)`,
      ExpressionAttributeValues: { ':j': jobId, ':failed': FAILED_PREFIX },
      ProjectionExpression: JOBS_KEYS.sortKey,
    })
  ).length;
