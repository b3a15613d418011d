import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  type IChainable,
  JitterType,
  JsonPath,
  Map as MapState,
  Pass,
  Result,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import {
  DynamoAttributeValue,
  DynamoGetItem,
  DynamoProjectionExpression,
  DynamoUpdateItem,
  LambdaInvoke,
} from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

export interface WorkflowProps {
  jobs: ITable;
  discover: IFunction;
  processChunk: IFunction;
  finalize: IFunction;
  /** Chunks processed at once per platform. The Graph rate limit (2 calls/s per Page) is the real cap. @default 4 */
  mapConcurrency?: number;
}

export const PLATFORMS = ['messenger', 'instagram'] as const;

/** Errors worth running a whole chunk again for: each conversation is counted once, so it is safe. */
const TRANSIENT_ERRORS = [
  'GraphApiError',
  'TransactionCanceledException',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'TimeoutError',
];

/**
 * One Standard execution per sync job. Execution input and every state payload carry ids and
 * cursors only: execution history is visible in the console and must hold no PII or tokens.
 *
 *   Mark job in progress -> for messenger, then instagram:
 *     Check if cancelled -> Discover conversations -> Map(chunks): Check if cancelled -> Process chunk
 *   -> Finalize sync (conditional).  Any error -> Mark sync failed (conditional) -> Sync failed.
 */
export class Workflow extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    const jobKey = {
      jobId: DynamoAttributeValue.fromString(JsonPath.stringAt('$.jobId')),
      sk: DynamoAttributeValue.fromString('JOB'),
    };
    const ids = { jobId: JsonPath.stringAt('$.jobId'), pageId: JsonPath.stringAt('$.pageId') };

    /**
     * A direct getItem of the status alone: costs no Lambda, and sees a cancel even when
     * StopExecution failed. The raw answer is kept ($.job.Item is absent when the job record is
     * gone) because a selector on a missing path is a States.Runtime error no Catch can handle.
     */
    const checkCancelled = (name: string) =>
      new DynamoGetItem(this, name, {
        table: props.jobs,
        key: jobKey,
        consistentRead: true,
        projectionExpression: [new DynamoProjectionExpression().withAttribute('#status')],
        expressionAttributeNames: { '#status': 'status' },
        resultPath: '$.job',
      });
    const isRunning = Condition.and(
      Condition.isPresent('$.job.Item.status.S'),
      Condition.stringEquals('$.job.Item.status.S', 'IN_PROGRESS'),
    );
    // Not(IsPresent) rather than IsPresent: false, which aws-local-stepfunctions evaluates wrongly.
    const jobGone = Condition.not(Condition.isPresent('$.job.Item'));

    const markFailed = new LambdaInvoke(this, 'Mark sync failed', {
      lambdaFunction: props.finalize,
      payload: TaskInput.fromObject({ ...ids, outcome: 'FAILED', error: JsonPath.objectAt('$.error') }),
      resultPath: JsonPath.DISCARD,
    }).next(
      new Fail(this, 'Sync failed', { error: 'SyncFailed', cause: 'See the job record for the reason' }),
    );
    const onError = <T extends { addCatch(h: IChainable, p: object): unknown }>(state: T): T => {
      state.addCatch(markFailed, { errors: ['States.ALL'], resultPath: '$.error' });
      return state;
    };

    // The job record was deleted mid-run (the seed's edge case 4): stop, and free the page.
    const jobRecordGone = new Pass(this, 'Job record is gone', {
      result: Result.fromObject({
        Error: 'JobDeleted',
        Cause: 'The job record was deleted while the sync ran',
      }),
      resultPath: '$.error',
    }).next(markFailed);

    const stopped = new Succeed(this, 'Stop: job is no longer running', {
      comment: 'Cancelled: the cancel Lambda already wrote the terminal status and released the lock.',
    });

    const markInProgress = onError(
      new DynamoUpdateItem(this, 'Mark job in progress', {
        table: props.jobs,
        key: jobKey,
        updateExpression: 'SET #status = :running, phase = :phase, startedAt = :now, updatedAt = :now',
        conditionExpression: '#status = :pending',
        expressionAttributeNames: { '#status': 'status' },
        expressionAttributeValues: {
          ':running': DynamoAttributeValue.fromString('IN_PROGRESS'),
          ':pending': DynamoAttributeValue.fromString('PENDING'),
          ':phase': DynamoAttributeValue.fromString('starting'),
          ':now': DynamoAttributeValue.fromString(JsonPath.stringAt('$$.Execution.StartTime')),
        },
        resultPath: JsonPath.DISCARD,
      }),
    );
    // Cancelled between StartExecution and here: nothing to do.
    markInProgress.addCatch(stopped, {
      errors: ['DynamoDB.ConditionalCheckFailedException'],
      resultPath: JsonPath.DISCARD,
    });

    const finalize = onError(
      new LambdaInvoke(this, 'Finalize sync', {
        lambdaFunction: props.finalize,
        payload: TaskInput.fromObject({ ...ids, outcome: 'COMPLETED' }),
        resultPath: JsonPath.DISCARD,
      }),
    );
    finalize.next(new Succeed(this, 'Sync finished'));

    let next: IChainable = finalize;
    for (const platform of [...PLATFORMS].reverse()) {
      next = this.platformSteps(platform, props, {
        ids,
        checkCancelled,
        isRunning,
        jobGone,
        jobRecordGone,
        onError,
        stopped,
        next,
      });
    }
    markInProgress.next(next);

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(markInProgress),
      timeout: Duration.hours(6),
      comment: 'Contact sync: one execution per job; the execution name is the job id.',
    });
  }

  private platformSteps(
    platform: (typeof PLATFORMS)[number],
    props: WorkflowProps,
    h: {
      ids: Record<string, string>;
      checkCancelled: (name: string) => DynamoGetItem;
      isRunning: Condition;
      jobGone: Condition;
      jobRecordGone: IChainable;
      onError: <T extends { addCatch(h: IChainable, p: object): unknown }>(state: T) => T;
      stopped: Succeed;
      next: IChainable;
    },
  ): IChainable {
    const discover = h.onError(
      new LambdaInvoke(this, `Discover ${platform} conversations`, {
        lambdaFunction: props.discover,
        payload: TaskInput.fromObject({ ...h.ids, platform }),
        resultSelector: {
          'chunks.$': '$.Payload.chunks',
          'limit.$': '$.Payload.limit',
          'count.$': '$.Payload.count',
        },
        resultPath: '$.discovery',
      }),
    );

    const processChunk = new LambdaInvoke(this, `Process ${platform} conversation chunk`, {
      lambdaFunction: props.processChunk,
      payload: TaskInput.fromObject({
        ...h.ids,
        platform,
        after: JsonPath.stringAt('$.after'),
        limit: JsonPath.numberAt('$.limit'),
      }),
      resultPath: JsonPath.DISCARD,
    });
    processChunk.addRetry({
      errors: TRANSIENT_ERRORS,
      interval: Duration.seconds(2),
      maxAttempts: 3,
      backoffRate: 2,
      jitterStrategy: JitterType.FULL,
    });

    const chunks = h.onError(
      new MapState(this, `Process ${platform} chunks`, {
        itemsPath: '$.discovery.chunks',
        maxConcurrency: props.mapConcurrency ?? 4,
        itemSelector: {
          ...h.ids,
          after: JsonPath.stringAt('$$.Map.Item.Value.after'),
          limit: JsonPath.numberAt('$.discovery.limit'),
        },
        resultPath: JsonPath.DISCARD,
      }),
    );
    // Each iteration checks the cancel flag before doing any work (DESIGN.md, protocol step 5).
    chunks.itemProcessor(
      h
        .checkCancelled(`Check if cancelled before ${platform} chunk`)
        .next(
          new Choice(this, `Is job still running? (${platform} chunk)`)
            .when(h.isRunning, processChunk)
            .otherwise(new Succeed(this, `Skip ${platform} chunk: job no longer running`)),
        ),
    );
    chunks.next(h.next);

    return h
      .onError(h.checkCancelled(`Check if cancelled before ${platform}`))
      .next(
        new Choice(this, `Is job still running? (${platform})`)
          .when(h.isRunning, discover.next(chunks))
          .when(h.jobGone, h.jobRecordGone)
          .otherwise(h.stopped),
      );
  }
}
