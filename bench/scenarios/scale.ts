import { generatePage } from '../../local/graph-sim/demo-data.ts';
import { startGraphSimulator } from '../../local/graph-sim/server.ts';
import { api, childrenPeakRssMb, processPeakRssMb, startBenchStack } from '../harness.ts';
import { measureSync, type SyncRun, tableReader } from '../measure.ts';

/**
 * Scale: one very large page synced to completion at low latency with the product's defaults
 * (continue-as-new every maxChunksPerSegment chunks). At the real 2 calls/s per Page a
 * 100,000-conversation page needs at least (calls / 2) seconds of Graph time alone, more than the
 * whole benchmark's budget, so this run lifts the simulator's rate limit and lets the workers'
 * shared budget allow `callsPerSecond`; the point here is history size, exact counts and memory.
 */
export interface ScaleScenarioOptions {
  messenger: number;
  instagram: number;
  graphLatencyMs: number;
  analyzerLatencyMs: number;
  callsPerSecond: number;
}

export interface ScaleScenarioResult {
  options: ScaleScenarioOptions;
  context: Record<string, unknown>;
  run: SyncRun;
  contactsStored: number;
  peakRssMb: { process: number; dynamoDbLocal: number };
  peakHeapMb: number;
}

export async function runScaleScenario(o: ScaleScenarioOptions): Promise<ScaleScenarioResult> {
  process.env.ANALYZER_LATENCY_MS = String(o.analyzerLatencyMs);
  process.env.GRAPH_CALLS_PER_SECOND = String(o.callsPerSecond);
  const page = generatePage({
    id: '790000000000001',
    name: 'Bench scale page',
    accessToken: 'bench_scale_token_secret',
    messenger: o.messenger,
    instagram: o.instagram,
  });
  const graph = await startGraphSimulator({
    port: 0,
    latencyMs: o.graphLatencyMs,
    pages: [page],
    rateLimitPerSecond: null,
  });
  const context = {};
  const b = await startBenchStack({ pages: [page], context, graphApiUrl: graph.baseUrl });
  const reader = tableReader(b);
  let peakHeap = 0;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed / 1024 / 1024);
  }, 250);
  try {
    const http = api(b);
    const run = await measureSync(b, reader, graph, () => http.start(page.id), 500);
    console.error(
      `[scale] ${run.status} ${run.synced}/${run.conversations} in ${(run.wallMs / 1000).toFixed(1)} s, ` +
        `${run.executions} executions, max ${run.maxAwsEventsPerExecution} events per execution`,
    );
    return {
      options: o,
      context,
      run,
      contactsStored: await reader.countContacts(page.id, run.jobId),
      peakRssMb: { process: processPeakRssMb(), dynamoDbLocal: childrenPeakRssMb() },
      peakHeapMb: peakHeap,
    };
  } finally {
    clearInterval(sampler);
    reader.destroy();
    b.sfn.destroy();
    await b.stack.stop();
    await graph.close();
  }
}
