import { SYSTEM_PROMPT, toTranscript } from '#shared/analyzer/bedrock-analyzer.ts';
import { LocalAnalyzer } from '#shared/analyzer/local-analyzer.ts';
import { isRunning } from '#shared/job-status.ts';
import { DEMO_ORG } from '../../local/demo-org.ts';
import {
  conversationMessages,
  demoPage,
  generatePage,
  type SimPage,
} from '../../local/graph-sim/demo-data.ts';
import { type BaselineResult, runBaseline } from '../baseline.ts';
import {
  api,
  childrenPeakRssMb,
  processPeakRssMb,
  settledExecutions,
  sleep,
  startBenchStack,
} from '../harness.ts';
import { measureSync, type SyncRun, tableReader } from '../measure.ts';

/**
 * Throughput, Graph calls, cancel-check cost (one side), events per 1,000, re-sync and cost on one stack: a page of
 * 150 Messenger + 50 Instagram conversations, Graph at `graphLatencyMs` under the real 2 calls/s
 * per Page, the analyzer at `analyzerLatencyMs`. Every product run syncs a fresh page (same sizes,
 * its own data) so that nothing is skipped as unchanged; then the first page is synced again,
 * unchanged; then the sequential design runs on a page of its own.
 */
export interface SyncScenarioOptions {
  runs: number;
  messenger: number;
  instagram: number;
  graphLatencyMs: number;
  analyzerLatencyMs: number;
  baseline: boolean;
  cancelChecks: boolean;
  /** Sync the first page again, unchanged. @default true */
  resync?: boolean;
  /** Pad the local analyzer's summary to this many characters (a Bedrock-sized aiContext). */
  summaryChars?: number;
  /** Measure the time to the first contact on the demo page. @default false */
  firstContact?: boolean;
}

export interface SyncScenarioResult {
  options: SyncScenarioOptions;
  context: Record<string, unknown>;
  runs: SyncRun[];
  resync?: SyncRun;
  baseline?: BaselineResult;
  /** Bedrock tokens of the analysed conversations of one page, estimated from their transcripts. */
  bedrock: { conversations: number; inputTokens: number; outputTokens: number };
  peakRssMb: { process: number; dynamoDbLocal: number };
  /** From the 202 to the first contact's firstSyncedAt, on the demo page (347 + 150 conversations). */
  firstContactSeconds?: number | null;
}

/** Rough English-text rule: about 4 characters per token. */
const tokens = (chars: number) => Math.ceil(chars / 4);

async function bedrockTokens(page: SimPage) {
  const analyzer = new LocalAnalyzer(0);
  const ownIds = new Set([page.id, page.instagramAccountId]);
  let input = 0;
  let output = 0;
  let conversations = 0;
  for (const c of [...page.conversations.messenger, ...page.conversations.instagram]) {
    const messages = conversationMessages(c)
      .slice(0, 20)
      .map((m) => ({ fromCustomer: !ownIds.has(m.from.id), text: m.message, createdAt: m.created_time }));
    conversations++;
    input += tokens(SYSTEM_PROMPT.length + toTranscript(messages).length);
    output += tokens(JSON.stringify(await analyzer.analyze(messages)).length);
  }
  return { conversations, inputTokens: input, outputTokens: output };
}

export async function runSyncScenario(o: SyncScenarioOptions): Promise<SyncScenarioResult> {
  process.env.ANALYZER_LATENCY_MS = String(o.analyzerLatencyMs);
  if (o.summaryChars) process.env.ANALYZER_SUMMARY_CHARS = String(o.summaryChars);
  const make = (n: number) =>
    generatePage({
      id: `77000000000${String(n).padStart(4, '0')}`,
      name: `Bench page ${n}`,
      accessToken: `bench_page_token_${n}_secret`,
      messenger: o.messenger,
      instagram: o.instagram,
    });
  const pages = Array.from({ length: o.runs }, (_, i) => make(i + 1));
  const baselinePage = make(9999);
  const warmup = generatePage({
    id: '770000000009998',
    name: 'Bench warm-up',
    accessToken: 'bench_warmup_token_secret',
    messenger: 10,
    instagram: 5,
  });
  // The product's defaults (cdk.json / infra/stack.ts), plus the switch under test.
  const context = { cancelChecks: o.cancelChecks };
  const demo = demoPage();
  const b = await startBenchStack({
    pages: [...pages, baselinePage, warmup, ...(o.firstContact ? [demo] : [])],
    context,
    graphSimLatencyMs: o.graphLatencyMs,
  });
  const reader = tableReader(b);
  const http = api(b);
  /** Starts a sync of `pageId`, waits for its first contact, cancels it: 202 -> first firstSyncedAt. */
  const timeToFirstContact = async (pageId: string): Promise<number | null> => {
    const jobId = await http.start(pageId);
    const accepted = Date.now();
    for (let i = 0; i < 600; i++) {
      const job = await reader.job(jobId);
      if ((job?.syncedContacts ?? 0) > 0 || (job && !isRunning(job))) break;
      await sleep(20);
    }
    await http.cancel(jobId);
    await settledExecutions(b, jobId);
    const first = await reader.firstContactAt(pageId, jobId);
    const seconds = first === null ? null : (first - accepted) / 1000;
    console.error(`[sync] first contact on the demo page ${seconds} s after the 202`);
    return seconds;
  };
  try {
    // Warm-up, not measured: the first invocation of each handler loads its module.
    await measureSync(b, reader, b.stack.graph, () => http.start(warmup.id));
    const runs: SyncRun[] = [];
    for (const page of pages) {
      runs.push(await measureSync(b, reader, b.stack.graph, () => http.start(page.id)));
      log(o, `product run ${runs.length}`, runs.at(-1));
    }
    let resync: SyncRun | undefined;
    const first = pages[0];
    if (o.cancelChecks && o.resync !== false && first) {
      resync = await measureSync(b, reader, b.stack.graph, () => http.start(first.id));
      log(o, 'resync', resync);
    }
    const firstContactSeconds = o.firstContact ? await timeToFirstContact(demo.id) : undefined;
    let baseline: BaselineResult | undefined;
    if (o.baseline) {
      b.stack.graph?.resetStats();
      baseline = await runBaseline({
        page: baselinePage,
        graphApiUrl: b.stack.graphApiUrl,
        analyzer: new LocalAnalyzer(o.analyzerLatencyMs),
        organizationId: DEMO_ORG,
      });
      const stats = b.stack.graph?.stats();
      console.error(
        `[sync] baseline ${(baseline.wallMs / 1000).toFixed(1)} s, ${baseline.graphCalls} Graph calls, ` +
          `${stats?.rateLimitRejections} rejections, synced ${baseline.synced}`,
      );
    }
    return {
      options: o,
      context,
      runs,
      ...(firstContactSeconds === undefined ? {} : { firstContactSeconds }),
      ...(resync ? { resync } : {}),
      ...(baseline ? { baseline } : {}),
      bedrock: first ? await bedrockTokens(first) : { conversations: 0, inputTokens: 0, outputTokens: 0 },
      peakRssMb: { process: processPeakRssMb(), dynamoDbLocal: childrenPeakRssMb() },
    };
  } finally {
    reader.destroy();
    b.sfn.destroy();
    await b.stack.stop();
  }
}

function log(o: SyncScenarioOptions, what: string, run: SyncRun | undefined) {
  if (!run) return;
  console.error(
    `[sync checks=${o.cancelChecks}] ${what}: ${run.status} ${run.synced}/${run.conversations} in ` +
      `${(run.wallMs / 1000).toFixed(2)} s, ${run.graphCalls} Graph calls, ${run.rateLimitRejections} rejections, ` +
      `${run.transitions} transitions, ${run.analysed} analysed`,
  );
}
