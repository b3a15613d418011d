import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { SimPage } from './graph-sim/seed.ts';

export const DEMO_ORG = 'demo-org';

/** Connects a simulated page to an organization (idempotent: an existing page is left as it is). */
export async function connectPage(
  client: DynamoDBClient,
  pagesTable: string,
  organizationId: string,
  page: SimPage,
) {
  try {
    await client.send(
      new PutItemCommand({
        TableName: pagesTable,
        Item: marshall(
          {
            pageId: page.id,
            organizationId,
            pageName: page.name,
            instagramAccountId: page.instagramAccountId,
            accessToken: page.accessToken,
            contactCount: 0,
            connectedAt: new Date().toISOString(),
          },
          { removeUndefinedValues: true },
        ),
        ConditionExpression: 'attribute_not_exists(pageId)',
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
  }
}
