import { Duration } from 'aws-cdk-lib';
import { JitterType, type RetryProps } from 'aws-cdk-lib/aws-stepfunctions';

/**
 * Errors worth running a whole task again for, including a worker that crashed or timed out
 * mid-chunk: each conversation is counted once (exactly-once writes), so a rerun is safe.
 */
export const TRANSIENT_RETRY: RetryProps = {
  errors: [
    'Sandbox.Timedout',
    'Runtime.ExitError',
    'GraphApiError',
    'TransactionCanceledException',
    'TransactionConflictException',
    'ThrottlingException',
    'ProvisionedThroughputExceededException',
    'TimeoutError',
  ],
  interval: Duration.seconds(2),
  maxAttempts: 3,
  backoffRate: 2,
  jitterStrategy: JitterType.FULL,
};

/**
 * A write that met a DynamoDB transaction on the same item (a chunk's commit, a cancel) was not
 * applied: try it again. The Lambdas' clients already retry these; the state machine's own
 * DynamoDB tasks get this Retry before their Catch, so a conflict never fails a sync.
 */
export const CONFLICT_RETRY: RetryProps = {
  errors: ['DynamoDB.TransactionConflictException'],
  interval: Duration.seconds(1),
  maxDelay: Duration.seconds(8),
  maxAttempts: 6,
  backoffRate: 2,
  jitterStrategy: JitterType.FULL,
};

/** The same for a Lambda task whose client gave up on a conflict (its error is the exception's name). */
export const LAMBDA_CONFLICT_RETRY: RetryProps = {
  ...CONFLICT_RETRY,
  errors: ['TransactionConflictException'],
};
