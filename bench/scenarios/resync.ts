import { generatePage } from '../../local/graph-sim/demo-data.ts';
import { api, settledExecutions, startBenchStack } from '../harness.ts';
import { measureSync, type SyncRun, tableReader } from '../measure.ts';

/**
 * The incremental re-sync on a page of `messenger + instagram` conversations (Graph at its real
 * 2 calls/s per Page): a first, full sync; an incremental re-sync of the unchanged page; then new
 * messages in `changedShare` of the conversations (the simulator moves them to the top, as Graph
 * does) and another incremental re-sync.
 */
export interface ResyncScenarioOptions {
  messenger: number;
  instagram: number;
  graphLatencyMs: number;
  analyzerLatencyMs: number;
  /** Share of each platform's conversations given a new message before the last re-sync. */
  changedShare: number;
}

export interface ResyncScenarioResult {
  options: ResyncScenarioOptions;
  full: SyncRun;
  unchanged: SyncRun;
  changed: SyncRun & { changedConversations: number; changedListPages: number };
}

export async function runResyncScenario(o: ResyncScenarioOptions): Promise<ResyncScenarioResult> {
  process.env.ANALYZER_LATENCY_MS = String(o.analyzerLatencyMs);
  const page = generatePage({
    id: '770000000020000',
    name: 'Re-sync bench page',
    accessToken: 'bench_resync_token_secret',
    messenger: o.messenger,
    instagram: o.instagram,
  });
  const b = await startBenchStack({ pages: [page], graphSimLatencyMs: o.graphLatencyMs });
  const reader = tableReader(b);
  const http = api(b);
  const sync = async (label: string) => {
    const run = await measureSync(b, reader, b.stack.graph, () => http.start(page.id));
    await settledExecutions(b, run.jobId);
    console.error(
      `[resync] ${label}: ${run.status} ${run.synced}/${run.conversations} in ${(run.wallMs / 1000).toFixed(2)} s, ` +
        `${run.graphCalls} Graph calls, ${run.analysed} analysed`,
    );
    return run;
  };
  try {
    const full = await sync('first (full) sync');
    const unchanged = await sync('incremental re-sync, unchanged');
    let changedConversations = 0;
    let changedListPages = 0;
    for (const [platform, total] of [
      ['messenger', o.messenger],
      ['instagram', o.instagram],
    ] as const) {
      const count = Math.round(total * o.changedShare);
      if (count === 0) continue;
      b.stack.graph?.addMessages({ pageId: page.id, platform, count });
      changedConversations += count;
      changedListPages += Math.ceil(count / 50);
    }
    const changed = await sync(`incremental re-sync, ${changedConversations} changed`);
    return { options: o, full, unchanged, changed: { ...changed, changedConversations, changedListPages } };
  } finally {
    reader.destroy();
    b.sfn.destroy();
    await b.stack.stop();
  }
}
