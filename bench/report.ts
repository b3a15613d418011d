import type { BenchResults, ConflictFigures } from './run.ts';

/** The benchmark's table: each figure, what was measured, its target and whether it is met. */
export function reportRows(
  results: BenchResults,
  conflicts: ConflictFigures,
): [string, string, string, string][] {
  return [
    [
      'conflicts / retries per 1,000 (hold 25 ms)',
      `${results.transactionConflictsPer1000} / ${conflicts.conflictRetriesPer1000} (given up ${conflicts.conflictsGivenUp})`,
      '<= 10',
      results.transactionConflictsPer1000 <= 10 ? 'met' : 'MISSED',
    ],
    ['chunk failures', String(results.chunkFailures), '0', results.chunkFailures === 0 ? 'met' : 'MISSED'],
    [
      'job-item writes per 1,000',
      String(results.jobItemWritesPer1000),
      '<= 100',
      results.jobItemWritesPer1000 <= 100 ? 'met' : 'MISSED',
    ],
    [
      'write units per 1,000 (Bedrock-sized)',
      `${results.dynamoWriteUnitsPer1000} (${results.conflicts.bedrockSizedAiContext.dynamoWriteUnitsPer1000})`,
      '<= 4,000',
      results.dynamoWriteUnitsPer1000 <= 4000 ? 'met' : 'MISSED',
    ],
    [
      'conflicts per 1,000 at 10 / 25 / 50 ms',
      [10, 25, 50]
        .map((ms) => results.conflicts.byTxHoldMs[ms]?.transactionConflictsPer1000 ?? '-')
        .join(' / '),
      'report',
      '-',
    ],
    [
      'scale conflicts / retries / chunk failures',
      `${results.conflicts.scale.transactionConflictsPer1000} / ${results.conflicts.scale.conflictRetriesPer1000} per 1,000 / ${results.conflicts.scale.chunkFailures}`,
      'report',
      '-',
    ],
    [
      'throughput vs sequential design',
      `${results.throughputRatio}x (${results.productWallSeconds} s vs ${results.baselineWallSeconds} s)`,
      '>= 25x, 0 rate-limit violations',
      `${(results.throughputRatio ?? 0) >= 25 && results.rateLimitRejections === 0 ? 'met' : 'MISSED'}`,
    ],
    [
      'rate-limit rejections / peak calls/s',
      `${results.rateLimitRejections} / ${results.peakGraphCallsPerSecondPerPage}`,
      '0 / <= 2',
      results.rateLimitRejections === 0 && results.peakGraphCallsPerSecondPerPage <= 2 ? 'met' : 'MISSED',
    ],
    [
      'Graph calls per 100 conversations',
      `${results.graphCallsPer100} (sequential design ${results.baselineGraphCallsPer100})`,
      '<= 2.2',
      results.graphCallsPer100 <= 2.2 ? 'met' : 'MISSED',
    ],
    [
      'cancel ack p50 / p99 (in the handler)',
      `${results.cancelAckP50Ms} / ${results.cancelAckP99Ms} ms (${results.cancelHandlerP50Ms} / ${results.cancelHandlerP99Ms}; ${results.cancels} cancels)`,
      'p50 <= 10, p99 < 50 ms',
      results.cancelAckP50Ms <= 10 && results.cancelAckP99Ms < 50 ? 'met' : 'MISSED',
    ],
    [
      'pause ack p50 / p99 (in the handler)',
      `${results.pauseAckP50Ms} / ${results.pauseAckP99Ms} ms (${results.pauseHandlerP50Ms} / ${results.pauseHandlerP99Ms}; ${results.pauses} pauses)`,
      'p99 < 50 ms',
      results.pauseAckP99Ms < 50 ? 'met' : 'MISSED',
    ],
    [
      'writes after ack (cancel / pause)',
      `${results.writesAfterAck} / ${results.writesAfterPauseAck}`,
      '0',
      results.writesAfterAck === 0 && results.writesAfterPauseAck === 0 ? 'met' : 'MISSED',
    ],
    [
      'ack to last activity p50 / max',
      `${results.ackToLastActivityP50Ms} / ${results.ackToLastActivityMaxMs} ms (chunk ${results.chunkProcessingMs} ms)`,
      '< 1 chunk',
      results.ackToLastActivityMaxMs < results.chunkProcessingMs ? 'met' : 'MISSED',
    ],
    [
      'cancel-check overhead',
      `${results.checkOverheadPct} % in the checks (${results.checkMsPerSync} ms); A/B ${results.checkOverheadAbPct} %`,
      '< 1 %',
      results.checkOverheadPct < 1 ? 'met' : 'MISSED',
    ],
    [
      'history events / transitions per 1,000',
      `${results.eventsPer1000} / ${results.transitionsPer1000}`,
      'report',
      '-',
    ],
    [
      'max events per execution',
      `${results.maxEventsPerExecution} (${results.scaleExecutions} executions)`,
      '< 25,000',
      results.maxEventsPerExecution < 25_000 ? 'met' : 'MISSED',
    ],
    ['largest sync in one execution', `${results.largestSyncConversations} conversations`, 'report', '-'],
    [
      'scale run',
      `${results.scaleSynced}/${results.scaleConversations} synced, ${results.scaleContactsStored} stored, ${results.scaleWallSeconds} s`,
      'exact counts',
      results.scaleSynced === results.scaleConversations &&
      results.scaleContactsStored === results.scaleConversations
        ? 'met'
        : 'MISSED',
    ],
    [
      'peak memory worker / DynamoDB Local',
      `${results.peakMemoryMb.workerProcess} / ${results.peakMemoryMb.dynamoDbLocal} MB`,
      'report',
      '-',
    ],
    [
      'first contact on the demo page',
      `${results.firstContactSeconds} s after the 202`,
      '<= 2 s',
      results.firstContactSeconds !== null && results.firstContactSeconds <= 2 ? 'met' : 'MISSED',
    ],
    [
      'wall time / floor (bench page)',
      `${results.floorRatio} (${results.productWallSeconds} s; floor: Graph ${results.floorSeconds.graph} s, analyzer ${results.floorSeconds.analyzer} s)`,
      '<= 1.5',
      results.floorRatio <= 1.5 ? 'met' : 'MISSED',
    ],
    [
      're-sync speedup, unchanged page',
      `${results.resyncSpeedup}x (${results.resyncFullWallSeconds} s full vs ${results.resyncWallSeconds} s; ${results.resyncConversations} conversations, ${results.resyncGraphCalls} Graph calls, ${results.resyncUnchangedSynced} written)`,
      '>= 20x',
      results.resyncSpeedup >= 20 ? 'met' : 'MISSED',
    ],
    [
      're-sync analyzer calls, unchanged page',
      String(results.resyncAnalyzerCalls),
      '0',
      results.resyncAnalyzerCalls === 0 ? 'met' : 'MISSED',
    ],
    [
      're-sync Graph calls, 5 % changed',
      `${results.resyncChangedGraphCalls} (${results.resyncChangedSynced}/${results.resyncChangedConversations} changed synced, ${results.resyncChangedWallSeconds} s)`,
      `<= ${results.resyncChangedGraphCallsTarget}`,
      results.resyncChangedGraphCalls <= results.resyncChangedGraphCallsTarget &&
      results.resyncChangedSynced === results.resyncChangedConversations
        ? 'met'
        : 'MISSED',
    ],
    [
      'cost per 1,000 conversations',
      `$${results.costPer1000ConversationsUsd} (+ Bedrock $${results.costPer1000.bedrockUsd})`,
      'report',
      '-',
    ],
  ];
}
