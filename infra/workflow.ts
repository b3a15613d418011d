import { ArnFormat, type CfnElement, Duration, type RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  DefinitionBody,
  type IChainable,
  LogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledge, wildcardResource } from './nag.ts';
import { continueAsNew } from './workflow/continue-as-new.ts';
import { executionEntry } from './workflow/execution-entry.ts';
import { cancelCheck } from './workflow/job-checks.ts';
import { SyncOutcomes } from './workflow/outcomes.ts';
import { segment } from './workflow/segment.ts';
import { workers } from './workflow/workers.ts';

export interface WorkflowProps {
  /** The state machine is `<namePrefix>-contact-sync`. @default the stack's name */
  namePrefix?: string;
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
 *
 * The states are built in infra/workflow/, each part from what it uses: start.ts (how an execution
 * enters), segment.ts (the reader beside the workers, and what follows), workers.ts (the slots),
 * job-status.ts (the cancel check), continue-as-new.ts, outcomes.ts (finalize, failure, stop) and
 * retries.ts.
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
    this.stateMachineName = `${props.namePrefix ?? stack.stackName}-contact-sync`;
    const definition = this.definition(props);

    // Every state transition is logged, but without its input and output: payloads are ids and
    // cursors by design, and this keeps it so even if a payload ever grew (PII, tokens).
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: this.stateMachineName,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(definition),
      timeout: Duration.hours(6),
      comment:
        'Contact sync: one execution per job (continued in new ones for large pages); named after the job id.',
    });
    // Continue-as-new: the state machine starts its own next execution.
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [
          stack.formatArn({
            service: 'states',
            resource: 'stateMachine',
            resourceName: this.stateMachineName,
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
    this.grantOnExecutions(fn, 'states:StopExecution');
  }

  /** Lets `fn` read the history of this state machine's executions, and only theirs. */
  grantReadHistory(fn: IFunction): void {
    this.grantOnExecutions(fn, 'states:GetExecutionHistory');
  }

  private grantOnExecutions(fn: IFunction, action: string): void {
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    fn.addToRolePolicy(new PolicyStatement({ actions: [action], resources: [executions] }));
    // cdk-nag names the ARN as it resolves: a stack with an explicit env has its account and region.
    const stack = Stack.of(this);
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    acknowledge(
      fn.role ?? fn,
      `${action.replace('states:', '')} on this state machine's executions only: their names (after the job ids) are known at run time`,
      wildcardResource(
        `arn:<AWS::Partition>:states:${region}:${account}:execution:${this.stateMachineName}:*`,
      ),
    );
  }

  /** The states, from the first: each piece is built from what it uses. */
  private definition(props: WorkflowProps): IChainable {
    const outcomes = new SyncOutcomes(this, props.finalize);
    const check = cancelCheck(this, props.jobs);
    const firstSegment = segment(this, {
      read: props.read,
      workers: workers(this, {
        processChunk: props.processChunk,
        slots: props.mapConcurrency ?? 4,
        ...(props.cancelChecks === false ? {} : { cancelCheck: check }),
      }),
      cancelCheck: check,
      outcomes,
      continueAsNew: continueAsNew(this, props.jobs, outcomes),
    });
    return executionEntry(this, props.jobs, outcomes, firstSegment);
  }
}
