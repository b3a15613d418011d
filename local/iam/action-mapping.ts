import { localArn } from '../cloudformation.ts';
import type { IamRequest } from './policy-evaluation.ts';

/**
 * What a DynamoDB call needs in IAM terms. The other services say it themselves (their
 * `iamRequests`: Step Functions, KMS, EventBridge; s3.ts for S3); DynamoDB's is here because both
 * the DynamoDB proxy (dynamodb-faults.ts) and the state machine's DynamoDB tasks need it.
 */
type Json = Record<string, unknown>;

const tableArn = (nameOrArn: unknown) => {
  const name = String(nameOrArn ?? '');
  return name.startsWith('arn:') ? name : localArn.table(name);
};

/** Query and Scan on an index need the index's ARN. */
const indexed = (body: Json) =>
  body.IndexName ? `${tableArn(body.TableName)}/index/${body.IndexName}` : tableArn(body.TableName);

const TRANSACT_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Get: 'dynamodb:GetItem',
};

/**
 * What a DynamoDB API call (X-Amz-Target `DynamoDB_20120810.<operation>`) needs: batches need
 * their action on every table, transactions the action of each item on its table, Query and Scan
 * on an index the index's ARN. Other operations need `dynamodb:<operation>` on their table (or
 * `*` when they name none).
 */
export function dynamoDbRequests(operation: string, body: Json): IamRequest[] {
  switch (operation) {
    case 'Query':
    case 'Scan':
      return [{ action: `dynamodb:${operation}`, resource: indexed(body) }];
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((body.RequestItems as Json | undefined) ?? {}).map((table) => ({
        action: `dynamodb:${operation}`,
        resource: tableArn(table),
      }));
    case 'TransactWriteItems':
    case 'TransactGetItems':
      return ((body.TransactItems as Json[] | undefined) ?? []).flatMap((item) =>
        Object.entries(item)
          .filter(([kind]) => kind in TRANSACT_ACTIONS)
          .map(([kind, op]) => ({
            action: TRANSACT_ACTIONS[kind] as string,
            resource: tableArn((op as Json).TableName),
          })),
      );
    default:
      return [{ action: `dynamodb:${operation}`, resource: body.TableName ? tableArn(body.TableName) : '*' }];
  }
}
