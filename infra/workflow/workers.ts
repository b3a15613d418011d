import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  Choice,
  Condition,
  type IChainable,
  JsonPath,
  Map as MapState,
  Pass,
  Result,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { PROCESS_CHUNK, WORKER_STOPPED_BY_CHECK } from '#shared/sync/workflow-state-names.ts';
import { type CancelCheck, IS_RUNNING, JOB_IDS } from './job-checks.ts';
import { TRANSIENT_RETRY } from './retries.ts';

export interface WorkersProps {
  processChunk: IFunction;
  /** Worker slots, and so chunks processed at once. */
  slots: number;
  /**
   * The check each turn makes before its chunk (the cancellation protocol, docs/architecture.md).
   * Without it (only the benchmark, to measure what the checks cost) a turn goes straight to work.
   */
  cancelCheck?: CancelCheck;
}

/**
 * The workers of a segment, as a Parallel branch beside the reader: W slots (a Map), each taking
 * every Wth chunk as it is staged (slot s processes chunks s, s+W, s+2W...; the function says
 * which one comes next), checking the cancel flag before each one.
 */
export function workers(scope: Construct, props: WorkersProps): IChainable {
  const { slots } = props;
  const processChunk = new LambdaInvoke(scope, PROCESS_CHUNK, {
    lambdaFunction: props.processChunk,
    payload: TaskInput.fromObject({
      ...JOB_IDS,
      segment: JsonPath.numberAt('$.segment'),
      index: JsonPath.numberAt('$.index'),
      slot: JsonPath.numberAt('$.slot'),
      slots,
    }),
    resultSelector: { 'next.$': '$.Payload.next' },
    resultPath: '$.turn',
  });
  processChunk.addRetry(TRANSIENT_RETRY);
  const nextChunk = new Pass(scope, 'Take the next chunk', {
    parameters: {
      ...JOB_IDS,
      segment: JsonPath.numberAt('$.segment'),
      slot: JsonPath.numberAt('$.slot'),
      index: JsonPath.numberAt('$.turn.next'),
    },
  });
  const turn: IChainable = props.cancelCheck
    ? props
        .cancelCheck('Check if cancelled before the chunk')
        .next(
          new Choice(scope, 'Is job still running? (chunk)')
            .when(IS_RUNNING, processChunk)
            .otherwise(new Succeed(scope, WORKER_STOPPED_BY_CHECK)),
        )
    : processChunk;
  processChunk.next(
    new Choice(scope, 'More chunks for this worker?')
      .when(Condition.isNull('$.turn.next'), new Succeed(scope, 'Worker done'))
      .otherwise(nextChunk),
  );
  nextChunk.next(turn);

  const map = new MapState(scope, 'Workers', {
    itemsPath: '$.slots',
    maxConcurrency: slots,
    itemSelector: {
      ...JOB_IDS,
      segment: JsonPath.numberAt('$.position.segment'),
      slot: JsonPath.numberAt('$$.Map.Item.Value'),
      index: JsonPath.numberAt('$$.Map.Item.Value'),
    },
    resultPath: JsonPath.DISCARD,
  });
  map.itemProcessor(turn);
  return new Pass(scope, 'Worker slots', {
    result: Result.fromArray(Array.from({ length: slots }, (_, i) => i)),
    resultPath: '$.slots',
  }).next(map);
}
