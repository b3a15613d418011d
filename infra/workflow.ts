import { ArnFormat, type CfnElement, Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  CustomState,
  DefinitionBody,
  Fail,
  type IChainable,
  JitterType,
  JsonPath,
  LogLevel,
  Map as MapState,
  Parallel,
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
import { acknowledge, wildcardResource } from './nag.ts';

export interface WorkflowProps {
  jobs: ITable;
  /** Reads the conversation list once, staging each page as a chunk. */
  read: IFunction;
  processChunk: IFunction;
  finalize: IFunction;
  /** Chunks processed at once per platform. The Graph rate limit (2 calls/s per Page) is the real cap. @default 4 */
  mapConcurrency?: number;
  /**
   * The cancel check at the start of each Map iteration (the cancellation protocol, docs/architecture.md). Only the
   * benchmark turns it off, to measure what the checks cost; never deploy without it.
   * @default true
   */
  cancelChecks?: boolean;
  /** How long the execution log keeps events. */
  logRetention: RetentionDays;
  logRemovalPolicy: RemovalPolicy;
}

export const PLATFORMS = ['messenger', 'instagram'] as const;

/**
 * Errors worth running a whole chunk again for, including a worker that crashed or timed out
 * mid-chunk: each conversation is counted once (exactly-once writes), so a rerun is safe.
 */
const TRANSIENT_ERRORS = [
  'Sandbox.Timedout',
  'Runtime.ExitError',
  'GraphApiError',
  'TransactionCanceledException',
  'TransactionConflictException',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'TimeoutError',
];

/**
 * A write that met a DynamoDB transaction on the same item (a chunk's commit, a cancel) was not
 * applied: try it again. The Lambdas' clients already retry these; the state machine's own
 * DynamoDB tasks get this Retry before their Catch, so a conflict never fails a sync.
 */
const CONFLICT_RETRY = {
  errors: ['DynamoDB.TransactionConflictException'],
  interval: Duration.seconds(1),
  maxDelay: Duration.seconds(8),
  maxAttempts: 6,
  backoffRate: 2,
  jitterStrategy: JitterType.FULL,
};
/** The same for a Lambda task whose client gave up on a conflict (its error is the exception's name). */
const LAMBDA_CONFLICT_RETRY = { ...CONFLICT_RETRY, errors: ['TransactionConflictException'] };

/**
 * One Standard execution per sync job (more for very large pages). Execution input and every
 * state payload carry ids and cursors only: execution history is visible in the console and must
 * hold no PII or tokens.
 *
 *   Mark job in progress -> Check if cancelled before the segment -> Parallel:
 *     Read conversations (one pass over the list, each page staged as a chunk)
 *     | Workers: W slots, each looping Check if cancelled before the chunk -> Process a staged chunk
 *   -> the reader stopped (paused or cancelled)? stop | more of the list? continue as a new execution
 *      from the reader's position (continue-as-new) | else Finalize sync (conditional).
 *   Any error -> Mark sync failed (conditional) -> Sync failed.
 *
 * A resumed job (pause, then resume) enters through the same continuation path: its execution
 * "<jobId>-resume<n>" gets `resume` = the job's checkpoint (the segment being synced) and `run` = n.
 *
 * A segment is at most MAX_CHUNKS_PER_SEGMENT chunks (see shared/sync/read-conversations.ts), so no
 * execution comes near the 25,000-event history limit or the 256 KB payload limit.
 */
export class Workflow extends Construct {
  readonly stateMachine: StateMachine;
  readonly logGroup: LogGroup;
  /** The name every execution ARN of this state machine carries. */
  private readonly stateMachineName: string;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // A fixed name gives the ARN the role needs to continue itself without a dependency cycle.
    const stateMachineName = `${stack.stackName}-contact-sync`;
    this.stateMachineName = stateMachineName;
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
    })
      .addRetry(LAMBDA_CONFLICT_RETRY)
      .next(
        new Fail(this, 'Sync failed', { error: 'SyncFailed', cause: 'See the job record for the reason' }),
      );
    const onError = <T extends { addCatch(h: IChainable, p: object): unknown }>(state: T): T => {
      state.addCatch(markFailed, { errors: ['States.ALL'], resultPath: '$.error' });
      return state;
    };

    // The job record was deleted mid-run (an edge case the product must survive): stop, and free the page.
    const jobRecordGone = new Pass(this, 'Job record is gone', {
      result: Result.fromObject({
        Error: 'JobDeleted',
        Cause: 'The job record was deleted while the sync ran',
      }),
      resultPath: '$.error',
    }).next(markFailed);

    const stopped = new Succeed(this, 'Stop: job is no longer running', {
      comment:
        'Cancelled or paused: the cancel or pause Lambda already wrote the status (a cancel also released the lock).',
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
    markInProgress.addRetry(CONFLICT_RETRY);
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
      }).addRetry(LAMBDA_CONFLICT_RETRY),
    );
    finalize.next(new Succeed(this, 'Sync finished'));

    // Continue-as-new: the next segment runs in a fresh execution of this state machine, named
    // "<jobId>-<platform><segment>", and the job records it so that a cancel stops that one. A
    // resumed run (input `run` = n, see shared/sync/pause-job.ts) names its continuations
    // "<jobId>-r<n>-<platform><segment>": the paused run may already have used the plain names.
    const startContinuation = (id: string, resumed: boolean) =>
      onError(
        new CustomState(this, id, {
          stateJson: {
            Type: 'Task',
            Resource: `arn:${stack.partition}:states:::states:startExecution`,
            Parameters: {
              'StateMachineArn.$': '$$.StateMachine.Id',
              'Name.$': resumed
                ? "States.Format('{}-r{}-{}{}', $.jobId, $.run, $.next.platform, $.next.segment)"
                : "States.Format('{}-{}{}', $.jobId, $.next.platform, $.next.segment)",
              Input: {
                'jobId.$': '$.jobId',
                'pageId.$': '$.pageId',
                'resume.$': '$.next',
                ...(resumed ? { 'run.$': '$.run' } : {}),
              },
            },
            ResultSelector: { 'executionArn.$': '$.ExecutionArn' },
            ResultPath: '$.continuation',
          },
        }),
      );
    const continueFirstRun = startContinuation('Continue in a new execution', false);
    const continueResumedRun = startContinuation('Continue the resumed run in a new execution', true);
    const continueAsNew = new Choice(this, 'Is this a resumed run?')
      .when(Condition.isPresent('$.run'), continueResumedRun)
      .otherwise(continueFirstRun);
    const recordContinuation = new DynamoUpdateItem(this, 'Record the new execution on the job', {
      table: props.jobs,
      key: jobKey,
      updateExpression: 'SET executionArn = :arn',
      conditionExpression: '#status = :running',
      expressionAttributeNames: { '#status': 'status' },
      expressionAttributeValues: {
        ':arn': DynamoAttributeValue.fromString(JsonPath.stringAt('$.continuation.executionArn')),
        ':running': DynamoAttributeValue.fromString('IN_PROGRESS'),
      },
      resultPath: JsonPath.DISCARD,
    });
    recordContinuation.addRetry(CONFLICT_RETRY);
    // Cancelled meanwhile: the new execution stops at its first cancel check.
    recordContinuation.addCatch(stopped, {
      errors: ['DynamoDB.ConditionalCheckFailedException'],
      resultPath: JsonPath.DISCARD,
    });
    onError(recordContinuation);
    continueFirstRun.next(recordContinuation).next(new Succeed(this, 'Continued in a new execution'));
    continueResumedRun.next(recordContinuation);

    const segment = this.segmentSteps(props, {
      ids,
      checkCancelled,
      isRunning,
      jobGone,
      jobRecordGone,
      onError,
      stopped,
      continueAsNew,
      next: finalize,
    });
    const resume = new Pass(this, 'Resume where the last execution stopped', {
      inputPath: '$.resume',
      resultPath: '$.position',
    }).next(segment);
    markInProgress.next(
      new Pass(this, 'Start from the top of the list', {
        result: Result.fromObject({ platform: 'messenger', cursor: null, segment: 0 }),
        resultPath: '$.position',
      }).next(segment),
    );
    const start = new Choice(this, 'New sync or continuation?')
      .when(Condition.isPresent('$.resume'), resume)
      .otherwise(markInProgress);

    // Every state transition is logged, but without its input and output: payloads are ids and
    // cursors by design, and this keeps it so even if a payload ever grew (PII, tokens).
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(start),
      timeout: Duration.hours(6),
      comment:
        'Contact sync: one execution per job (continued in new ones for large pages); named after the job id.',
    });
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [
          stack.formatArn({
            service: 'states',
            resource: 'stateMachine',
            resourceName: stateMachineName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    acknowledge(
      this.stateMachine,
      'X-Ray tracing and log delivery to CloudWatch Logs (logs:CreateLogDelivery and the like) support no resource-level permissions',
      wildcardResource('*'),
    );
    for (const fn of [props.read, props.processChunk, props.finalize]) {
      acknowledge(
        this.stateMachine,
        "Lambda invoke of this workflow's own function, any version or alias of it (the grant LambdaInvoke makes)",
        wildcardResource(`<${stack.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*`),
      );
    }
  }

  /**
   * Lets `fn` stop this state machine's executions, and only those. Executions are named at
   * run time (after their job), hence the wildcard after the state machine's name.
   */
  grantStopExecution(fn: IFunction): void {
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    fn.addToRolePolicy(new PolicyStatement({ actions: ['states:StopExecution'], resources: [executions] }));
    acknowledge(
      fn.role ?? fn,
      "StopExecution on this state machine's executions only: their names (the job ids) are known at run time",
      wildcardResource(
        `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${this.stateMachineName}:*`,
      ),
    );
  }

  /**
   * One execution segment: the reader and the worker slots run side by side (a Parallel state).
   * The reader stages each list page as a chunk; each slot takes every Wth chunk as it is staged,
   * checking the cancel flag before each one. Then: finalize, or continue as a new execution.
   */
  private segmentSteps(
    props: WorkflowProps,
    h: {
      ids: Record<string, string>;
      checkCancelled: (name: string) => DynamoGetItem;
      isRunning: Condition;
      jobGone: Condition;
      jobRecordGone: IChainable;
      onError: <T extends { addCatch(h: IChainable, p: object): unknown }>(state: T) => T;
      stopped: Succeed;
      continueAsNew: IChainable;
      next: IChainable;
    },
  ): IChainable {
    const slots = props.mapConcurrency ?? 4;
    const read = new LambdaInvoke(this, 'Read conversations', {
      lambdaFunction: props.read,
      payload: TaskInput.fromObject({ ...h.ids, position: JsonPath.objectAt('$.position') }),
      resultSelector: { 'next.$': '$.Payload.next', 'stopped.$': '$.Payload.stopped' },
      resultPath: '$.read',
    })
      .addRetry(LAMBDA_CONFLICT_RETRY)
      // A rerun continues after the chunks already staged: no page is read or counted twice.
      .addRetry({
        errors: TRANSIENT_ERRORS,
        interval: Duration.seconds(2),
        maxAttempts: 3,
        backoffRate: 2,
        jitterStrategy: JitterType.FULL,
      });

    const processChunk = new LambdaInvoke(this, 'Process a staged chunk', {
      lambdaFunction: props.processChunk,
      payload: TaskInput.fromObject({
        ...h.ids,
        segment: JsonPath.numberAt('$.segment'),
        index: JsonPath.numberAt('$.index'),
        slot: JsonPath.numberAt('$.slot'),
        slots,
      }),
      resultSelector: { 'next.$': '$.Payload.next' },
      resultPath: '$.turn',
    });
    processChunk.addRetry({
      errors: TRANSIENT_ERRORS,
      interval: Duration.seconds(2),
      maxAttempts: 3,
      backoffRate: 2,
      jitterStrategy: JitterType.FULL,
    });
    const nextChunk = new Pass(this, 'Take the next chunk', {
      parameters: {
        ...h.ids,
        segment: JsonPath.numberAt('$.segment'),
        slot: JsonPath.numberAt('$.slot'),
        index: JsonPath.numberAt('$.turn.next'),
      },
    });
    // Each turn checks the cancel flag before doing any work (the cancellation protocol, docs/architecture.md).
    const turn: IChainable =
      props.cancelChecks === false
        ? processChunk
        : h
            .checkCancelled('Check if cancelled before the chunk')
            .next(
              new Choice(this, 'Is job still running? (chunk)')
                .when(h.isRunning, processChunk)
                .otherwise(new Succeed(this, 'Stop this worker: job no longer running')),
            );
    processChunk.next(
      new Choice(this, 'More chunks for this worker?')
        .when(Condition.isNull('$.turn.next'), new Succeed(this, 'Worker done'))
        .otherwise(nextChunk),
    );
    nextChunk.next(turn);

    const workers = new MapState(this, 'Workers', {
      itemsPath: '$.slots',
      maxConcurrency: slots,
      itemSelector: {
        ...h.ids,
        segment: JsonPath.numberAt('$.position.segment'),
        slot: JsonPath.numberAt('$$.Map.Item.Value'),
        index: JsonPath.numberAt('$$.Map.Item.Value'),
      },
      resultPath: JsonPath.DISCARD,
    });
    workers.itemProcessor(turn);

    const readAndProcess = h.onError(
      new Parallel(this, 'Read and process the list', {
        resultSelector: { 'next.$': '$[0].read.next', 'stopped.$': '$[0].read.stopped' },
        resultPath: '$.read',
      }),
    );
    readAndProcess.branch(read);
    readAndProcess.branch(
      new Pass(this, 'Worker slots', {
        result: Result.fromArray(Array.from({ length: slots }, (_, i) => i)),
        resultPath: '$.slots',
      }).next(workers),
    );

    const nextSegment = new Pass(this, 'Next segment', {
      inputPath: '$.read.next',
      resultPath: '$.next',
    }).next(h.continueAsNew);
    readAndProcess.next(
      new Choice(this, 'More conversations?')
        // The reader found the job no longer running: paused or cancelled (whoever stopped it owns
        // its status), or its record deleted (this workflow then frees the page itself).
        .when(
          Condition.booleanEquals('$.read.stopped', true),
          h
            .onError(h.checkCancelled('Check why the reader stopped'))
            .next(
              new Choice(this, 'Is the job record gone?')
                .when(h.jobGone, h.jobRecordGone)
                .otherwise(h.stopped),
            ),
        )
        .when(Condition.isNull('$.read.next'), h.next)
        .otherwise(nextSegment),
    );

    return h
      .onError(h.checkCancelled('Check if cancelled before the segment'))
      .next(
        new Choice(this, 'Is job still running?')
          .when(h.isRunning, readAndProcess)
          .when(h.jobGone, h.jobRecordGone)
          .otherwise(h.stopped),
      );
  }
}
