import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  type CatchProps,
  Fail,
  type IChainable,
  JsonPath,
  Pass,
  Result,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { EXECUTION_STOPPED_BY_CHECK } from '#shared/sync/workflow-state-names.ts';
import { JOB_IDS } from './job-checks.ts';
import { LAMBDA_CONFLICT_RETRY } from './retries.ts';

/** A state that can route its errors to a handler (a task, a Parallel, a custom task). */
export interface Catching {
  addCatch(handler: IChainable, props?: CatchProps): unknown;
}

/**
 * How an execution ends: the sync finalized, failed, stopped (the job no longer running), or its
 * job record deleted mid-run. Finalize and Mark sync failed are conditional: the finalize
 * function only moves a job that is still running.
 */
export class SyncOutcomes {
  /** Finalize sync (COMPLETED) -> Sync finished: the list is read and every chunk processed. */
  readonly finalize: IChainable;
  /** Cancelled or paused: whoever stopped the job wrote its status. */
  readonly stopped: Succeed;
  /** The job record was deleted mid-run (an edge case the product must survive): stop, and free the page. */
  readonly jobRecordGone: IChainable;
  /** Mark sync failed -> Sync failed, where every error ends. */
  private readonly markFailed: IChainable;

  constructor(scope: Construct, finalizeFn: IFunction) {
    this.markFailed = new LambdaInvoke(scope, 'Mark sync failed', {
      lambdaFunction: finalizeFn,
      payload: TaskInput.fromObject({ ...JOB_IDS, outcome: 'FAILED', error: JsonPath.objectAt('$.error') }),
      resultPath: JsonPath.DISCARD,
    })
      .addRetry(LAMBDA_CONFLICT_RETRY)
      .next(
        new Fail(scope, 'Sync failed', { error: 'SyncFailed', cause: 'See the job record for the reason' }),
      );

    this.jobRecordGone = new Pass(scope, 'Job record is gone', {
      result: Result.fromObject({
        Error: 'JobDeleted',
        Cause: 'The job record was deleted while the sync ran',
      }),
      resultPath: '$.error',
    }).next(this.markFailed);

    this.stopped = new Succeed(scope, EXECUTION_STOPPED_BY_CHECK, {
      comment:
        'Cancelled or paused: the cancel or pause Lambda already wrote the status (a cancel also released the lock).',
    });

    const finalize = this.onError(
      new LambdaInvoke(scope, 'Finalize sync', {
        lambdaFunction: finalizeFn,
        payload: TaskInput.fromObject({ ...JOB_IDS, outcome: 'COMPLETED' }),
        resultPath: JsonPath.DISCARD,
      }).addRetry(LAMBDA_CONFLICT_RETRY),
    );
    finalize.next(new Succeed(scope, 'Sync finished'));
    this.finalize = finalize;
  }

  /** Routes any error of `state` to Mark sync failed, the error kept under $.error. */
  onError<T extends Catching>(state: T): T {
    state.addCatch(this.markFailed, { errors: ['States.ALL'], resultPath: '$.error' });
    return state;
  }
}
