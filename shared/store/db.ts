import { type AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { requiredEnv } from '../config.ts';
import { retryTransactionConflicts } from './conflict-retry.ts';

/**
 * One module-scope document client per Lambda container. The endpoint comes from the SDK's
 * standard configuration (AWS_ENDPOINT_URL_DYNAMODB locally), so there is no local code path.
 */
export const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
// Every request retries transaction conflicts (conflict-retry.ts): no writer fails on one.
retryTransactionConflicts(ddb);

/** Table names, read lazily so that modules can be imported by tests before env is set. */
export const tables = {
  get jobs() {
    return requiredEnv('JOBS_TABLE');
  },
  get pages() {
    return requiredEnv('PAGES_TABLE');
  },
  get contacts() {
    return requiredEnv('CONTACTS_TABLE');
  },
};

export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** The item as it was when a condition failed with ALL_OLD asked for (lib-dynamodb leaves it in AttributeValue form). */
export function conditionFailedItem(error: unknown): Record<string, unknown> | undefined {
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  return item ? unmarshall(item) : undefined;
}

/**
 * The reasons of a cancelled transaction, one per item in request order, with the item as it was
 * where a condition failed and ALL_OLD was asked for (lib-dynamodb leaves items inside errors in
 * AttributeValue form; they are unmarshalled here).
 */
export function cancellationReasons(
  error: unknown,
): { Code: string; Item?: Record<string, unknown> }[] | null {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return null;
  const reasons = (
    error as { CancellationReasons?: { Code?: string; Item?: Record<string, AttributeValue> }[] }
  ).CancellationReasons;
  return (reasons ?? []).map((r) => ({
    Code: r.Code ?? 'None',
    ...(r.Item ? { Item: unmarshall(r.Item) } : {}),
  }));
}

/** Reason codes of a cancelled transaction, one per item, in request order. */
export function transactionReasons(error: unknown): string[] | null {
  return cancellationReasons(error)?.map((r) => r.Code) ?? null;
}

/** `SET #p0 = :p0, ...` for a record of fields, with its name and value maps. */
export function setExpression(fields: Record<string, unknown>, prefix = 'f') {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const assignments = Object.entries(fields).map(([field, value], i) => {
    names[`#${prefix}${i}`] = field;
    values[`:${prefix}${i}`] = value;
    return `#${prefix}${i} = :${prefix}${i}`;
  });
  return { expression: `SET ${assignments.join(', ')}`, names, values };
}

/** Every item a query matches, following LastEvaluatedKey. */
export async function queryAll<T>(input: QueryCommandInput): Promise<T[]> {
  const items: T[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await ddb.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    items.push(...((out.Items ?? []) as T[]));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items;
}
