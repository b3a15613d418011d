import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  Choice,
  Condition,
  type IChainable,
  JsonPath,
  Parallel,
  Pass,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { type CancelCheck, IS_RUNNING, JOB_GONE, JOB_IDS } from './job-checks.ts';
import type { SyncOutcomes } from './outcomes.ts';
import { LAMBDA_CONFLICT_RETRY, TRANSIENT_RETRY } from './retries.ts';

export interface SegmentProps {
  /** Reads the conversation list once from $.position, staging each page as a chunk. */
  read: IFunction;
  /** The Parallel branch that processes the staged chunks (./workers.ts). */
  workers: IChainable;
  cancelCheck: CancelCheck;
  outcomes: SyncOutcomes;
  /** Where a segment that ended before the end of the list goes, the next one at $.next. */
  continueAsNew: IChainable;
}

/**
 * One execution segment, from $.position: a cancel check, then the reader and the worker slots
 * side by side (a Parallel state). Then: stop if the reader found the job no longer running,
 * continue as a new execution if the list goes on, else finalize.
 */
export function segment(scope: Construct, props: SegmentProps): IChainable {
  const { cancelCheck, outcomes } = props;
  const read = new LambdaInvoke(scope, 'Read conversations', {
    lambdaFunction: props.read,
    payload: TaskInput.fromObject({ ...JOB_IDS, position: JsonPath.objectAt('$.position') }),
    resultSelector: { 'next.$': '$.Payload.next', 'stopped.$': '$.Payload.stopped' },
    resultPath: '$.read',
  })
    .addRetry(LAMBDA_CONFLICT_RETRY)
    // A rerun continues after the chunks already staged: no page is read or counted twice.
    .addRetry(TRANSIENT_RETRY);

  const readAndProcess = outcomes.onError(
    new Parallel(scope, 'Read and process the list', {
      resultSelector: { 'next.$': '$[0].read.next', 'stopped.$': '$[0].read.stopped' },
      resultPath: '$.read',
    }),
  );
  readAndProcess.branch(read);
  readAndProcess.branch(props.workers);

  const nextSegment = new Pass(scope, 'Next segment', {
    inputPath: '$.read.next',
    resultPath: '$.next',
  }).next(props.continueAsNew);
  readAndProcess.next(
    new Choice(scope, 'More conversations?')
      // The reader found the job no longer running: paused or cancelled (whoever stopped it owns
      // its status), or its record deleted (this workflow then frees the page itself).
      .when(
        Condition.booleanEquals('$.read.stopped', true),
        outcomes
          .onError(cancelCheck('Check why the reader stopped'))
          .next(
            new Choice(scope, 'Is the job record gone?')
              .when(JOB_GONE, outcomes.jobRecordGone)
              .otherwise(outcomes.stopped),
          ),
      )
      .when(Condition.isNull('$.read.next'), outcomes.finalize)
      .otherwise(nextSegment),
  );

  return outcomes
    .onError(cancelCheck('Check if cancelled before the segment'))
    .next(
      new Choice(scope, 'Is job still running?')
        .when(IS_RUNNING, readAndProcess)
        .when(JOB_GONE, outcomes.jobRecordGone)
        .otherwise(outcomes.stopped),
    );
}
