import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchFile, markdownTable, reportRows } from './report.ts';
import type { CancelScenarioResult } from './scenarios/cancel.ts';
import type { ResyncScenarioResult } from './scenarios/resync.ts';
import type { ScaleScenarioResult } from './scenarios/scale.ts';
import type { SyncScenarioResult } from './scenarios/sync.ts';
import { conversationsPerExecution, costPer1000, median, percentile, round } from './stats.ts';

/**
 * `npm run bench`: the product against the sequential design it replaced (bench/baseline.ts), on the embedded stack.
 * `-- --quick` runs every scenario at small sizes (for development; results.json is then not
 * overwritten unless `--write` is given). Each scenario runs in a fresh child process.
 * results.json keeps its `baselines` (earlier runs, for comparison) across runs; the tables in
 * docs/performance.md are rendered from it by bench/render-docs.ts.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const write = !quick || process.argv.includes('--write');

const SIZES = quick
  ? {
      sync: { runs: 1, messenger: 30, instagram: 10 },
      cancel: { cancels: 20, pauses: 10, lanes: 4, messenger: 60, instagram: 20 },
      scale: { messenger: 3500, instagram: 1500 },
      resync: { messenger: 300, instagram: 100 },
    }
  : {
      sync: { runs: 3, messenger: 150, instagram: 50 },
      cancel: { cancels: 200, pauses: 100, lanes: 4, messenger: 100, instagram: 30 },
      scale: { messenger: 70_000, instagram: 30_000 },
      resync: { messenger: 1500, instagram: 500 },
    };
const LATENCY = { graphLatencyMs: 80, analyzerLatencyMs: 500 };
/** Analyses at once in the product's defaults: mapConcurrency chunks x CONVERSATION_CONCURRENCY each. */
const ANALYSES_AT_ONCE = 4 * 10;
/** Graph's limit per Page, and the most conversations a list call with messages expanded returns. */
const GRAPH_CALLS_PER_SECOND = 2;
const CONVERSATIONS_PER_LIST_CALL = 50;
/** The conflict model's transaction hold of the main run, and the others reported beside it. */
const TX_HOLD_MS = 25;
const OTHER_TX_HOLDS_MS = [10, 50];
/** A summary the size a Bedrock model writes (the local analyzer's is about 100 characters). */
const BEDROCK_SUMMARY_CHARS = 900;

async function child<T>(scenario: string, options: object, env: Record<string, string> = {}): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'contact-sync-bench-'));
  const out = path.join(dir, 'result.json');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const p = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(here, 'child.ts'), scenario, JSON.stringify(options), out],
        {
          stdio: ['ignore', 'inherit', 'inherit'],
          env: { ...process.env, DYNAMODB_TX_HOLD_MS: String(TX_HOLD_MS), ...env },
        },
      );
      p.once('error', reject);
      p.once('exit', resolve);
    });
    if (code !== 0) throw new Error(`scenario ${scenario} exited with ${code}`);
    return JSON.parse(readFileSync(out, 'utf8')) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const t0 = performance.now();
const stamp = (what: string) =>
  console.error(`[bench] ${what} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);

stamp('throughput, graph calls, re-sync and cost: the product (with cancel checks) and the baseline');
const withChecks = await child<SyncScenarioResult>('sync', {
  ...SIZES.sync,
  ...LATENCY,
  baseline: true,
  cancelChecks: true,
  firstContact: true,
  resync: false,
});
stamp('the same syncs without the per-chunk cancel checks');
const withoutChecks = await child<SyncScenarioResult>('sync', {
  ...SIZES.sync,
  ...LATENCY,
  baseline: false,
  cancelChecks: false,
  resync: false,
});
const holds: Record<string, SyncScenarioResult> = {};
for (const ms of OTHER_TX_HOLDS_MS) {
  stamp(`one sync with a transaction hold of ${ms} ms`);
  holds[ms] = await child<SyncScenarioResult>(
    'sync',
    { ...SIZES.sync, runs: 1, ...LATENCY, baseline: false, cancelChecks: true, resync: false },
    { DYNAMODB_TX_HOLD_MS: String(ms) },
  );
}
stamp('one sync with a Bedrock-sized aiContext');
const bedrockSized = await child<SyncScenarioResult>('sync', {
  ...SIZES.sync,
  runs: 1,
  ...LATENCY,
  baseline: false,
  cancelChecks: true,
  resync: false,
  summaryChars: BEDROCK_SUMMARY_CHARS,
});
stamp(`${SIZES.cancel.cancels} cancels`);
const cancel = await child<CancelScenarioResult>('cancel', {
  ...SIZES.cancel,
  ...LATENCY,
  minDelayMs: 300,
  maxDelayMs: 1500,
  seed: 42,
});
stamp(`scale: ${SIZES.scale.messenger + SIZES.scale.instagram} conversations`);
const scale = await child<ScaleScenarioResult>('scale', {
  ...SIZES.scale,
  graphLatencyMs: 10,
  analyzerLatencyMs: 0,
  callsPerSecond: 1000,
});
stamp(`incremental re-sync: ${SIZES.resync.messenger + SIZES.resync.instagram} conversations`);
const resyncs = await child<ResyncScenarioResult>('resync', {
  ...SIZES.resync,
  ...LATENCY,
  changedShare: 0.05,
});
const benchSeconds = (performance.now() - t0) / 1000;
stamp('done');

// --- figures ----------------------------------------------------------------------------------
const runs = withChecks.runs;
const baseline = withChecks.baseline;
const productMs = median(runs.map((r) => r.wallMs));
const noChecksMs = median(withoutChecks.runs.map((r) => r.wallMs));
const chunkMs = median(runs.flatMap((r) => r.chunkMs));
const acked = cancel.trials.filter((t) => t.kind === 'cancel' && t.httpStatus === 200);
const pausedAcks = cancel.trials.filter((t) => t.kind === 'pause' && t.httpStatus === 200);
const p50p99 = (values: number[]) => [50, 99].map((p) => round(percentile(values, p), 1)) as [number, number];
const [cancelHandlerP50Ms, cancelHandlerP99Ms] = p50p99(acked.map((t) => t.handlerMs));
const [pauseAckP50Ms, pauseAckP99Ms] = p50p99(pausedAcks.map((t) => t.ackMs));
const [pauseHandlerP50Ms, pauseHandlerP99Ms] = p50p99(pausedAcks.map((t) => t.handlerMs));
const lastActivity = acked.map((t) => t.ackToLastActivityMs);
/**
 * The floor of a sync of the bench page: the larger of Graph's (one list call per 50 conversations
 * of each platform, at 2 calls/s per Page) and the analyzer's (every conversation analysed, as
 * many at once as the product runs).
 */
const { messenger: floorM, instagram: floorI } = SIZES.sync;
const graphFloorMs =
  ((Math.ceil(floorM / CONVERSATIONS_PER_LIST_CALL) + Math.ceil(floorI / CONVERSATIONS_PER_LIST_CALL)) *
    1000) /
  GRAPH_CALLS_PER_SECOND;
const analyzerFloorMs = ((floorM + floorI) * LATENCY.analyzerLatencyMs) / ANALYSES_AT_ONCE;
const floorMs = Math.max(graphFloorMs, analyzerFloorMs);
const avg = (f: (r: (typeof runs)[number]) => number) => runs.reduce((s, r) => s + f(r), 0) / runs.length;
const conversations = avg((r) => r.conversations);
const bedrockShare = conversations / Math.max(1, withChecks.bedrock.conversations);
const cost = costPer1000({
  conversations,
  stateTransitions: avg((r) => r.transitions),
  lambdaInvocations: avg((r) => r.lambdaInvocations),
  lambdaGbSeconds: avg((r) => r.lambdaGbSeconds),
  readUnits: avg((r) => r.readUnits),
  writeUnits: avg((r) => r.writeUnits),
  bedrockInputTokens: withChecks.bedrock.inputTokens * bedrockShare,
  bedrockOutputTokens: withChecks.bedrock.outputTokens * bedrockShare,
});
const scaleRun = scale.run;
/** The conflict figures of a set of runs, per 1,000 conversations. */
const conflictFigures = (rs: (typeof runs)[number][]) => {
  const n = rs.reduce((sum, r) => sum + r.conversations, 0) / 1000;
  const per1000 = (f: (r: (typeof rs)[number]) => number) => round(rs.reduce((sum, r) => sum + f(r), 0) / n);
  return {
    transactionConflictsPer1000: per1000((r) => r.transactionConflicts),
    conflictRetriesPer1000: per1000((r) => r.conflictRetries),
    conflictsGivenUp: rs.reduce((sum, r) => sum + r.conflictsGivenUp, 0),
    dynamoWriteUnitsPer1000: per1000((r) => r.writeUnits),
    replayReadUnitsPer1000: per1000((r) => r.replayReadUnits),
    jobItemWritesPer1000: per1000((r) => r.jobItemWrites),
    chunkFailures: rs.reduce((sum, r) => sum + r.chunkFailures, 0),
    wallSeconds: round(median(rs.map((r) => r.wallMs)) / 1000),
    exact: rs.every((r) => r.status === 'COMPLETED' && r.synced + r.failed === r.conversations),
  };
};
const conflicts = conflictFigures(runs);
const eventsPerChunk = scaleRun.maxAwsEventsPerExecution / Math.max(1, scaleRun.maxChunkTurnsPerExecution);

export type BenchResults = typeof results;

const results = {
  conflictModel: true,
  txHoldMs: TX_HOLD_MS,
  transactionConflictsPer1000: conflicts.transactionConflictsPer1000,
  dynamoWriteUnitsPer1000: conflicts.dynamoWriteUnitsPer1000,
  jobItemWritesPer1000: conflicts.jobItemWritesPer1000,
  chunkFailures: conflicts.chunkFailures,
  conflicts: {
    benchPage: conflicts,
    byTxHoldMs: <Record<string, ReturnType<typeof conflictFigures>>>{
      ...Object.fromEntries(Object.entries(holds).map(([ms, r]) => [ms, conflictFigures(r.runs)])),
      [TX_HOLD_MS]: conflicts,
    },
    bedrockSizedAiContext: { summaryChars: BEDROCK_SUMMARY_CHARS, ...conflictFigures(bedrockSized.runs) },
    scale: conflictFigures([scaleRun]),
  },
  throughputRatio: baseline ? round(baseline.wallMs / productMs) : null,
  productWallSeconds: round(productMs / 1000),
  productWallSecondsRuns: runs.map((r) => round(r.wallMs / 1000)),
  baselineWallSeconds: baseline ? round(baseline.wallMs / 1000) : null,
  rateLimitRejections: runs.reduce((s, r) => s + r.rateLimitRejections, 0),
  baselineRateLimitRetries: baseline?.rateLimitRetries ?? null,
  peakGraphCallsPerSecondPerPage: Math.max(...runs.map((r) => r.peakCallsPerSecond)),
  graphCallsPer100: round(median(runs.map((r) => (100 * r.graphCalls) / r.conversations))),
  baselineGraphCallsPer100: baseline ? round((100 * baseline.graphCalls) / baseline.conversations) : null,
  baselineStatusReads: baseline?.statusReads ?? null,
  cancels: acked.length,
  cancelsRefused: cancel.trials.filter((t) => t.kind === 'cancel').length - acked.length,
  // The time inside the stop's handler, beside its round trip: the rest is HTTP and event-loop queueing.
  cancelHandlerP50Ms,
  cancelHandlerP99Ms,
  pauses: pausedAcks.length,
  pauseAckP50Ms,
  pauseAckP99Ms,
  pauseHandlerP50Ms,
  pauseHandlerP99Ms,
  writesAfterPauseAck: pausedAcks.reduce((s, t) => s + t.writesAfterAck, 0),
  cancelAckP50Ms: round(
    percentile(
      acked.map((t) => t.ackMs),
      50,
    ),
    1,
  ),
  cancelAckP99Ms: round(
    percentile(
      acked.map((t) => t.ackMs),
      99,
    ),
    1,
  ),
  cancelAckMaxMs: round(Math.max(...acked.map((t) => t.ackMs)), 1),
  writesAfterAck: acked.reduce((s, t) => s + t.writesAfterAck, 0),
  ackToLastActivityP50Ms: round(percentile(lastActivity, 50)),
  ackToLastActivityP99Ms: round(percentile(lastActivity, 99)),
  ackToLastActivityMaxMs: round(Math.max(...lastActivity)),
  chunkProcessingMs: round(chunkMs),
  // Time inside the per-chunk checks over the sync's wall time: an upper bound of what they add
  // to it (chunks run 4 at a time, so a check delays at most its own chunk).
  checkOverheadPct: round(median(runs.map((r) => (100 * r.checkMs) / r.wallMs)), 2),
  checkMsPerSync: round(median(runs.map((r) => r.checkMs))),
  // The same syncs with the checks removed, medians compared: the A/B, within the run's
  // noise (the spread of the runs themselves is in the two *WallSecondsRuns lists).
  checkOverheadAbPct: round((100 * (productMs - noChecksMs)) / noChecksMs),
  noChecksWallSecondsRuns: withoutChecks.runs.map((r) => round(r.wallMs / 1000)),
  checkTransitionsPerSync: round(
    avg((r) => r.transitions) - median(withoutChecks.runs.map((r) => r.transitions)),
  ),
  eventsPer1000: round((1000 * scaleRun.awsEvents) / scaleRun.conversations),
  transitionsPer1000: round((1000 * scaleRun.transitions) / scaleRun.conversations),
  eventsPer1000SmallPage: round(median(runs.map((r) => (1000 * r.awsEvents) / r.conversations))),
  transitionsPer1000SmallPage: round(median(runs.map((r) => (1000 * r.transitions) / r.conversations))),
  maxEventsPerExecution: scaleRun.maxAwsEventsPerExecution,
  largestSyncConversations: conversationsPerExecution({
    eventLimit: 25_000,
    fixedEvents: 0,
    eventsPerChunk,
    chunkSize: 50,
  }),
  scaleConversations: scaleRun.conversations,
  scaleSynced: scaleRun.synced,
  scaleContactsStored: scale.contactsStored,
  scaleStatus: scaleRun.status,
  scaleExecutions: scaleRun.executions,
  scaleWallSeconds: round(scaleRun.wallMs / 1000),
  peakMemoryMb: {
    workerProcess: round(scale.peakRssMb.process),
    workerHeap: round(scale.peakHeapMb),
    dynamoDbLocal: round(scale.peakRssMb.dynamoDbLocal),
    stackTotal: round(scale.peakRssMb.process + scale.peakRssMb.dynamoDbLocal),
  },
  // The demo page (347 + 150 conversations) at the same latencies: from the 202 to the first
  // contact's firstSyncedAt (the sync is cancelled once it is there).
  firstContactSeconds:
    withChecks.firstContactSeconds === undefined || withChecks.firstContactSeconds === null
      ? null
      : round(withChecks.firstContactSeconds, 2),
  floorRatio: round(productMs / floorMs),
  floorSeconds: { graph: round(graphFloorMs / 1000), analyzer: round(analyzerFloorMs / 1000) },
  // A page of 2,000 conversations: its first (full) sync against an incremental re-sync of it unchanged.
  resyncConversations: resyncs.full.conversations,
  resyncFullWallSeconds: round(resyncs.full.wallMs / 1000),
  resyncWallSeconds: round(resyncs.unchanged.wallMs / 1000),
  resyncSpeedup: round(resyncs.full.wallMs / resyncs.unchanged.wallMs),
  resyncAnalyzerCalls: resyncs.unchanged.analysed,
  resyncGraphCalls: resyncs.unchanged.graphCalls,
  resyncUnchangedSynced: resyncs.unchanged.synced,
  // 5 % of them changed: the list pages they fill, plus at most one per platform to see the end.
  resyncChangedConversations: resyncs.changed.changedConversations,
  resyncChangedSynced: resyncs.changed.synced,
  resyncChangedGraphCalls: resyncs.changed.graphCalls,
  resyncChangedGraphCallsTarget: resyncs.changed.changedListPages + 2,
  resyncChangedWallSeconds: round(resyncs.changed.wallMs / 1000),
  costPer1000ConversationsUsd: round(cost.totalUsd, 4),
  costPer1000: {
    stepFunctionsUsd: round(cost.stepFunctionsUsd, 4),
    lambdaUsd: round(cost.lambdaUsd, 4),
    dynamoDbUsd: round(cost.dynamoDbUsd, 4),
    bedrockUsd: round(cost.bedrockUsd, 4),
    measuredPer1000: {
      transitions: round((1000 * avg((r) => r.transitions)) / conversations),
      lambdaGbSeconds: round((1000 * avg((r) => r.lambdaGbSeconds)) / conversations),
      readUnits: round((1000 * avg((r) => r.readUnits)) / conversations),
      writeUnits: round((1000 * avg((r) => r.writeUnits)) / conversations),
      bedrockInputTokens: Math.round(
        (1000 * withChecks.bedrock.inputTokens) / withChecks.bedrock.conversations,
      ),
      bedrockOutputTokens: Math.round(
        (1000 * withChecks.bedrock.outputTokens) / withChecks.bedrock.conversations,
      ),
    },
  },
  setup: {
    quick,
    sync: {
      ...withChecks.options,
      context: 'product defaults (chunkSize 50, mapConcurrency 4, maxChunksPerSegment 200)',
    },
    cancel: cancel.options,
    scale: scale.options,
    resync: resyncs.options,
  },
  machine: {
    cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}`,
    memoryGb: round(os.totalmem() / 1024 ** 3, 1),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
  },
  date: new Date().toISOString(),
  benchSeconds: round(benchSeconds, 0),
};

console.log(markdownTable(['figure', 'measured', 'target', ''], reportRows(results)));
console.log(
  `\n${results.machine.cpus}, ${results.machine.memoryGb} GB, ${results.machine.node}; ${results.benchSeconds} s`,
);
if (write) {
  // The earlier runs the docs compare with (`baselines`) are not measured again: keep them.
  const file = path.join(here, 'results.json');
  let baselines: BenchFile['baselines'] = {};
  try {
    baselines = (JSON.parse(readFileSync(file, 'utf8')) as Partial<BenchFile>).baselines ?? {};
  } catch {
    // no results yet
  }
  const out: BenchFile = { ...results, baselines };
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log('wrote bench/results.json: render the docs from it with `npx tsx bench/render-docs.ts`');
}
