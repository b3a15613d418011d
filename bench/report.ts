import type { BenchResults } from './run.ts';

/**
 * Everything the benchmark's figures are shown as: the table `npm run bench` prints, and the
 * tables bench/render-docs.ts renders into docs/performance.md from bench/results.json. Both go
 * through these functions, so the console and the docs cannot disagree.
 */

type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> | null } : T;

/** An earlier run kept for comparison: what was measured, and the figures that were recorded. */
export interface Baseline {
  /** What differed from the product measured today, and how the figures were taken. */
  description: string;
  /** When it ran (ISO 8601, or a day). */
  date: string;
  /** The figures, in the shape of a run's results; a figure that was not recorded is absent or null. */
  results: DeepPartial<BenchResults>;
}

/** bench/results.json: the last full run, and the earlier runs it is compared with. */
export type BenchFile = BenchResults & { baselines: Record<string, Baseline> };

/** The benchmark's table: each figure, what was measured, its target and whether it is met. */
export function reportRows(results: BenchResults): [string, string, string, string][] {
  const conflicts = results.conflicts.benchPage;
  return [
    [
      `conflicts / retries per 1,000 (hold ${results.txHoldMs} ms)`,
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

/** The figures behind the main table's: each run, the baseline's own counts, the cost's parts. */
export function detailRows(results: BenchResults): [string, string][] {
  const m = results.costPer1000.measuredPer1000;
  const s = (values: number[]) => `${values.join(', ')} s`;
  return [
    ['bench page syncs (the median is reported)', s(results.productWallSecondsRuns)],
    ['the same syncs without the per-chunk cancel checks', s(results.noChecksWallSecondsRuns)],
    ['transitions the checks add per sync', String(results.checkTransitionsPerSync)],
    [
      'sequential design: wall time, Graph calls per 100, status reads',
      `${results.baselineWallSeconds} s, ${results.baselineGraphCallsPer100}, ${results.baselineStatusReads}`,
    ],
    [
      'cancel ack max; ack to last activity p99',
      `${results.cancelAckMaxMs} ms; ${results.ackToLastActivityP99Ms} ms`,
    ],
    [
      'history events / transitions per 1,000 on the bench page',
      `${results.eventsPer1000SmallPage} / ${results.transitionsPer1000SmallPage}`,
    ],
    [
      'scale run: worker heap, stack total memory',
      `${results.peakMemoryMb.workerHeap} MB, ${results.peakMemoryMb.stackTotal} MB`,
    ],
    [
      'cost per 1,000: Step Functions / Lambda / DynamoDB',
      `$${results.costPer1000.stepFunctionsUsd} / $${results.costPer1000.lambdaUsd} / $${results.costPer1000.dynamoDbUsd}`,
    ],
    [
      'measured per 1,000: transitions, Lambda GB-s, read / write units',
      `${m.transitions}, ${m.lambdaGbSeconds}, ${m.readUnits} / ${m.writeUnits}`,
    ],
    [
      'Bedrock tokens per 1,000 (estimated): input / output',
      `${m.bedrockInputTokens} / ${m.bedrockOutputTokens}`,
    ],
  ];
}

/** A figure compared across runs: its label, and how a run's results show it (null: not recorded). */
type Figure = [string, (r: DeepPartial<BenchResults>) => string | null];

const known = (...values: unknown[]) => values.every((v) => v !== undefined && v !== null);
const join = (values: unknown[], sep = ' / ') =>
  values.every((v) => v === undefined || v === null)
    ? null
    : values.map((v) => (v === undefined || v === null ? 'not counted' : String(v))).join(sep);
const seconds = (v: unknown) => (known(v) ? `${v} s` : null);

/** The write path's figures: what batch commits changed. */
export const WRITE_PATH_FIGURES: Figure[] = [
  [
    'transaction conflicts per 1,000 (hold 10 / 25 / 50 ms)',
    (r) => join([10, 25, 50].map((ms) => r.conflicts?.byTxHoldMs?.[ms]?.transactionConflictsPer1000)),
  ],
  [
    'conflict retries per 1,000 / given up',
    (r) => join([r.conflicts?.benchPage?.conflictRetriesPer1000, r.conflicts?.benchPage?.conflictsGivenUp]),
  ],
  ['chunk failures (attempts the workflow retried)', (r) => join([r.chunkFailures])],
  ['job-item writes per 1,000', (r) => join([r.jobItemWritesPer1000])],
  ['write units per 1,000 (local analyzer)', (r) => join([r.dynamoWriteUnitsPer1000])],
  [
    'write units per 1,000 (Bedrock-sized summary)',
    (r) => join([r.conflicts?.bedrockSizedAiContext?.dynamoWriteUnitsPer1000]),
  ],
  ['sync wall time, bench page (median)', (r) => seconds(r.productWallSeconds)],
  ['throughput vs the sequential design', (r) => (known(r.throughputRatio) ? `${r.throughputRatio}x` : null)],
  [
    'scale run',
    (r) =>
      known(r.scaleStatus)
        ? `${r.scaleStatus}, ${r.scaleSynced ?? '?'} synced, ${r.scaleContactsStored ?? '?'} stored, ${r.scaleWallSeconds} s`
        : null,
  ],
  [
    'scale run: conflicts / retries per 1,000, given up, chunk failures',
    (r) =>
      join([
        r.conflicts?.scale?.transactionConflictsPer1000,
        r.conflicts?.scale?.conflictRetriesPer1000,
        r.conflicts?.scale?.conflictsGivenUp,
        r.conflicts?.scale?.chunkFailures,
      ]),
  ],
  [
    'cancel ack p50 / p99',
    (r) =>
      known(r.cancelAckP50Ms, r.cancelAckP99Ms) ? `${r.cancelAckP50Ms} / ${r.cancelAckP99Ms} ms` : null,
  ],
  ['writes after ack', (r) => join([r.writesAfterAck])],
];

/** The reader's figures: what reading each list page once changed. */
export const READER_FIGURES: Figure[] = [
  ['Graph calls per 100 conversations', (r) => join([r.graphCallsPer100])],
  ['sync wall time, bench page (median)', (r) => seconds(r.productWallSeconds)],
  ['throughput vs the sequential design', (r) => (known(r.throughputRatio) ? `${r.throughputRatio}x` : null)],
  ['first contact on the demo page', (r) => seconds(r.firstContactSeconds)],
  [
    'time in the per-chunk cancel checks per sync',
    (r) => (known(r.checkMsPerSync) ? `${r.checkMsPerSync} ms` : null),
  ],
  [
    'transaction conflicts per 1,000 (hold 10 / 25 / 50 ms)',
    (r) => join([10, 25, 50].map((ms) => r.conflicts?.byTxHoldMs?.[ms]?.transactionConflictsPer1000)),
  ],
  ['write units per 1,000 (local analyzer)', (r) => join([r.dynamoWriteUnitsPer1000])],
  [
    'scale run',
    (r) =>
      known(r.scaleStatus)
        ? `${r.scaleStatus}, ${r.scaleSynced ?? '?'} synced, ${r.scaleWallSeconds} s, ${r.scaleExecutions ?? '?'} executions`
        : null,
  ],
  ['scale run: history events per 1,000', (r) => join([r.eventsPer1000])],
  ['scale run: conflicts per 1,000', (r) => join([r.conflicts?.scale?.transactionConflictsPer1000])],
];

/** One row per figure, one column per run; a figure no run recorded is left out. */
export function comparisonRows(figures: Figure[], runs: DeepPartial<BenchResults>[]): string[][] {
  return figures
    .map(([label, show]) => [label, ...runs.map((r) => show(r) ?? '-')])
    .filter((row) => row.slice(1).some((cell) => cell !== '-'));
}

/** A Markdown table with its columns padded, so that it reads as well in a terminal. */
export function markdownTable(header: string[], rows: string[][]): string {
  const escapePipes = (cell: string) => cell.replaceAll('|', '\\|');
  const all = [header, ...rows].map((r) => r.map(escapePipes));
  const widths = header.map((_, i) => Math.max(3, ...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${widths.map((w, i) => (r[i] ?? '').padEnd(w)).join(' | ')} |`;
  return [line(all[0] ?? []), line(widths.map((w) => '-'.repeat(w))), ...all.slice(1).map(line)].join('\n');
}
