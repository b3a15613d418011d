import { type CancellationReason, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { AiContext } from '#shared/schemas.ts';

/**
 * What the unit tests of a contact commit (shared/store/contact-commit.ts, shared/sync/process-chunk.ts)
 * build the same way: a contact's analysis, and DynamoDB's cancelled transaction.
 */

/** The analysis a contact carries. */
export const AI_CONTEXT: AiContext = {
  summary: 'test',
  intent: 'other',
  sentiment: 'neutral',
  leadScore: 10,
  tags: [],
};

/**
 * DynamoDB's answer to a transaction it cancelled: one reason per action, in request order (a failed
 * condition's with the item as it was: ALL_OLD, AttributeValue form), their codes in the message.
 */
export function transactionCancelled(
  CancellationReasons: CancellationReason[],
): TransactionCanceledException {
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${CancellationReasons.map((r) => r.Code).join(', ')}]`,
    $metadata: {},
    CancellationReasons,
  });
}
