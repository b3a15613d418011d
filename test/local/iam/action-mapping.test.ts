import { describe, expect, it } from 'vitest';
import { dynamoDbRequests } from '../../../local/iam/action-mapping.ts';
import { request } from './function-roles.ts';

const ARN = 'arn:aws:dynamodb:us-east-1:000000000000';

describe('what a DynamoDB call needs', () => {
  it('needs each transaction item’s own action on its own table', () => {
    const requests = dynamoDbRequests('TransactWriteItems', {
      TransactItems: [
        { Put: { TableName: 'Contacts', Item: {} } },
        { Update: { TableName: 'Jobs', Key: {} } },
        { ConditionCheck: { TableName: 'Pages', Key: {} } },
        { Delete: { TableName: `${ARN}:table/Contacts`, Key: {} } },
      ],
    });
    expect(requests).toEqual([
      request('dynamodb:PutItem', `${ARN}:table/Contacts`),
      request('dynamodb:UpdateItem', `${ARN}:table/Jobs`),
      request('dynamodb:ConditionCheckItem', `${ARN}:table/Pages`),
      request('dynamodb:DeleteItem', `${ARN}:table/Contacts`),
    ]);
    expect(
      dynamoDbRequests('TransactGetItems', {
        TransactItems: [{ Get: { TableName: 'Jobs' } }, { Get: { TableName: 'Pages' } }],
      }),
    ).toEqual([
      request('dynamodb:GetItem', `${ARN}:table/Jobs`),
      request('dynamodb:GetItem', `${ARN}:table/Pages`),
    ]);
  });

  it('needs the index’s ARN for a Query or Scan on an index, and the table’s otherwise', () => {
    expect(dynamoDbRequests('Query', { TableName: 'Jobs', IndexName: 'byPage' })).toEqual([
      request('dynamodb:Query', `${ARN}:table/Jobs/index/byPage`),
    ]);
    expect(dynamoDbRequests('Scan', { TableName: 'Jobs' })).toEqual([
      request('dynamodb:Scan', `${ARN}:table/Jobs`),
    ]);
  });

  it('needs the batch action on every table of a batch', () => {
    expect(dynamoDbRequests('BatchWriteItem', { RequestItems: { Jobs: [], Contacts: [] } })).toEqual([
      request('dynamodb:BatchWriteItem', `${ARN}:table/Jobs`),
      request('dynamodb:BatchWriteItem', `${ARN}:table/Contacts`),
    ]);
    expect(dynamoDbRequests('BatchGetItem', { RequestItems: { Pages: {} } })).toEqual([
      request('dynamodb:BatchGetItem', `${ARN}:table/Pages`),
    ]);
    expect(dynamoDbRequests('GetItem', { TableName: 'Pages' })).toEqual([
      request('dynamodb:GetItem', `${ARN}:table/Pages`),
    ]);
  });
});
