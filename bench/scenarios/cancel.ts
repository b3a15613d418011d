import { generatePage, mulberry32 } from '../../local/graph-sim/demo-data.ts';
import { api, counters, settledExecutions, sleep, startBenchStack } from '../harness.ts';
import { tableReader } from '../measure.ts';

/**
 * Cancel and pause: `cancels` syncs cancelled while they run, `lanes` at a time, each on a fresh page
 * (so every sync really analyses and writes), at a seeded random moment `minDelayMs..maxDelayMs`
 * after the 202. Per cancel: the acknowledgement's round trip over HTTP, the writes that happened
 * after it (contacts carrying the job beyond the acknowledged count, and any counter change), and
 * the time from the acknowledgement to the end of the job's last Lambda invocation.
 */
export interface CancelScenarioOptions {
  cancels: number;
  /** Syncs paused (then cancelled, unmeasured) instead, after the cancels. @default 0 */
  pauses?: number;
  lanes: number;
  messenger: number;
  instagram: number;
  graphLatencyMs: number;
  analyzerLatencyMs: number;
  minDelayMs: number;
  maxDelayMs: number;
  seed: number;
}

export interface CancelTrial {
  /** The stop sent: a cancel, or a pause. */
  kind: 'cancel' | 'pause';
  statusAtCancel: string;
  httpStatus: number;
  ackMs: number;
  /** The stop's handler alone (its Lambda invocation), inside ackMs: the rest is HTTP and queueing. */
  handlerMs: number;
  ackSynced: number;
  writesAfterAck: number;
  /** From the acknowledgement to the end of the job's last task activity (0 when none ran after). */
  ackToLastActivityMs: number;
}

export interface CancelScenarioResult {
  options: CancelScenarioOptions;
  trials: CancelTrial[];
  wallMs: number;
}

export async function runCancelScenario(o: CancelScenarioOptions): Promise<CancelScenarioResult> {
  process.env.ANALYZER_LATENCY_MS = String(o.analyzerLatencyMs);
  const pages = Array.from({ length: o.cancels + (o.pauses ?? 0) }, (_, i) =>
    generatePage({
      id: `78000000000${String(i + 1).padStart(4, '0')}`,
      name: `Cancel page ${i + 1}`,
      accessToken: `bench_cancel_token_${i + 1}_secret`,
      messenger: o.messenger,
      instagram: o.instagram,
    }),
  );
  const warmup = generatePage({
    id: '780000000009999',
    name: 'Cancel warm-up',
    accessToken: 'bench_cancel_warmup_secret',
    messenger: 20,
    instagram: 5,
  });
  const b = await startBenchStack({ pages: [...pages, warmup], graphSimLatencyMs: o.graphLatencyMs });
  const reader = tableReader(b);
  const http = api(b);
  const random = mulberry32(o.seed);
  const delays = pages.map(() => o.minDelayMs + random() * (o.maxDelayMs - o.minDelayMs));
  const trials: CancelTrial[] = [];
  try {
    // Warm-up, not measured: load every module the trials run once (the start, the workers up to a
    // batch commit, pause, cancel, the execution mirror). All the functions share this process, so a
    // first import, compiled on the spot, would stall the stops of the first trials: on AWS a
    // function's cold start happens in its own container and never delays another function.
    const warm = await http.start(warmup.id);
    for (let k = 0; ((await reader.job(warm))?.syncedContacts ?? 0) === 0 && k < 200; k++) await sleep(50);
    await http.pause(warm);
    await http.cancel(warm);
    await settledExecutions(b, warm);
    const t0 = performance.now();
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < pages.length; i = next++) {
        const page = pages[i];
        if (!page) break;
        const jobId = await http.start(page.id);
        await sleep(delays[i] ?? 0);
        const before = await reader.job(jobId);
        const kind = i < o.cancels ? 'cancel' : 'pause';
        const ack = kind === 'cancel' ? await http.cancel(jobId) : await http.pause(jobId);
        const ackAt = performance.now();
        await settledExecutions(b, jobId);
        for (let k = 0; (counters.inFlight.get(jobId) ?? 0) > 0 && k < 400; k++) await sleep(25);
        // Anything still trying to write would show up here: wait a little past the last activity.
        await sleep(200);
        const job = await reader.job(jobId);
        const ackSynced = ack.body.job?.syncedContacts ?? 0;
        const ackFailed = ack.body.job?.failedContacts ?? 0;
        const carrying = await reader.countContacts(page.id, jobId);
        // The workflow's own work; the stop's and the clean-up cancel's handlers are not activity.
        const last = Math.max(
          0,
          ...counters.invocations
            .filter(
              (inv) =>
                inv.jobId === jobId && /^(DiscoverConversations|ProcessChunk|FinalizeSync)/.test(inv.fn),
            )
            .map((inv) => inv.end),
        );
        const handler = counters.invocations.find(
          (inv) => inv.jobId === jobId && /^(CancelSync|PauseSync)/.test(inv.fn),
        );
        trials.push({
          kind,
          statusAtCancel: before?.status ?? 'missing',
          httpStatus: ack.status,
          ackMs: ack.ms,
          handlerMs: handler ? handler.end - handler.start : Number.NaN,
          ackSynced,
          writesAfterAck:
            ack.status === 200
              ? Math.max(0, carrying - ackSynced) +
                Math.abs((job?.syncedContacts ?? 0) - ackSynced) +
                Math.abs((job?.failedContacts ?? 0) - ackFailed)
              : 0,
          ackToLastActivityMs: Math.max(0, last - ackAt),
        });
        // A paused job keeps its page locked and its workflow parked: cancel it, unmeasured.
        if (kind === 'pause' && ack.status === 200) await http.cancel(jobId);
        if (trials.length % 25 === 0) console.error(`[cancel] ${trials.length}/${pages.length}`);
      }
    };
    await Promise.all(Array.from({ length: o.lanes }, lane));
    return { options: o, trials, wallMs: performance.now() - t0 };
  } finally {
    reader.destroy();
    b.sfn.destroy();
    await b.stack.stop();
  }
}
