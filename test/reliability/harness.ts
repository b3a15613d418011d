import { afterAll, beforeAll } from 'vitest';
import { HttpClient, simPages } from '#test/e2e/http-client.ts';
import { signLocalToken } from '../../local/auth.ts';
import type { SimPage } from '../../local/graph-sim/demo-data.ts';
import { DATA_DIR, type LocalStack, startLocalStack } from '../../local/local-stack.ts';
import { SecretScanner } from './secrets.ts';

/**
 * The reliability harness: one embedded stack, many small pages, and sections that each
 * report what they tried and every invariant violation they saw. `npm run test:reliability` runs
 * the full sizes (run.ts); `npm test` runs a bounded version (reliability.test.ts).
 */
export interface SectionResult {
  section: string;
  trials: number;
  faults: number;
  inputs: number;
  requests: number;
  /** Human-readable; must be empty. */
  violations: string[];
}

export interface Harness {
  stack: LocalStack;
  http: HttpClient;
  /** Pages of `demo-org`, each free for one section at a time. */
  pages: SimPage[];
  tokens: { demo: string; other: string };
  /** Looks for the pages' tokens in every answer and log line of the run (`secrets.finish`). */
  secrets: SecretScanner;
  /** Hands out a page no other trial is using; give it back with `release`. */
  acquirePage(): Promise<SimPage>;
  releasePage(page: SimPage): void;
}

export interface HarnessOptions {
  pages: number;
  messenger?: number;
  instagram?: number;
  /** Route the handlers' DynamoDB calls through the fault proxy (the faults section needs it). */
  dynamoDbFaults?: boolean;
}

/**
 * A test file's harness: started before its tests and stopped after them. Call the returned
 * function inside tests and hooks for it.
 */
export function harnessForFile(opts: HarnessOptions): () => Harness {
  let h: Harness | undefined;
  beforeAll(async () => {
    h = await startHarness(opts);
  }, 120_000);
  afterAll(async () => {
    await h?.stack.stop();
  }, 60_000);
  return () => {
    if (!h) throw new Error('the harness is not started: call it inside a test or a hook');
    return h;
  };
}

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const make = simPages('8800000000', 'Reliability');
  const pages = Array.from({ length: opts.pages }, (_, i) =>
    make(`page ${i + 1}`, opts.messenger ?? 12, opts.instagram ?? 6),
  );
  const secrets = new SecretScanner(pages);
  // The handlers' logger (shared/observability.ts) logs everything, so the scan sees every line
  // they would write in Lambda; the scan keeps it off screen. The logger reads this when its module
  // is first imported: `npm run test:reliability` sets it before anything loads.
  const logLevel = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  const untap = () => {
    secrets.stop();
    if (logLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = logLevel;
  };
  secrets.tapLogs();
  const stack = await startLocalStack({
    onApiResponse: secrets.observeResponse,
    port: 0,
    sfnPort: 0,
    graphSimPort: 0,
    pages,
    dynamoDbFaults: opts.dynamoDbFaults,
    // Small chunks and segments: every stage of a sync (discovery, chunks, continue-as-new,
    // the platform switch, finalize) happens within a few seconds, where a cancel can land.
    context: { chunkSize: 3, mapConcurrency: 2, maxChunksPerSegment: 3 },
  }).catch((error: unknown) => {
    untap();
    throw error;
  });
  const stop = stack.stop;
  stack.stop = async () => {
    try {
      await stop();
    } finally {
      untap();
    }
  };
  const free = [...pages];
  const waiting: ((page: SimPage) => void)[] = [];
  const h: Harness = {
    stack,
    secrets,
    http: new HttpClient(stack.apiUrl),
    pages,
    tokens: {
      demo: await signLocalToken(DATA_DIR, { org: 'demo-org', user: 'reliability' }),
      other: await signLocalToken(DATA_DIR, { org: 'other-org', user: 'intruder' }),
    },
    acquirePage: () =>
      new Promise((resolve) => {
        const page = free.shift();
        if (page) resolve(page);
        else waiting.push(resolve);
      }),
    releasePage: (page) => {
      const next = waiting.shift();
      if (next) next(page);
      else free.push(page);
    },
  };
  await secrets.addCiphertexts(h);
  return h;
}

/** One row per section, and the totals: what docs/reliability.md quotes. */
export function summaryTable(results: SectionResult[]): string {
  const rows = results.map((r) => [r.section, r.trials, r.faults, r.inputs, r.requests, r.violations.length]);
  const total = ['total', ...[1, 2, 3, 4, 5].map((i) => rows.reduce((sum, row) => sum + Number(row[i]), 0))];
  const all = [['section', 'trials', 'faults', 'inputs', 'requests', 'violations'], ...rows, total];
  const widths = all[0]?.map((_, i) => Math.max(...all.map((row) => String(row[i]).length))) ?? [];
  return all.map((row) => row.map((cell, i) => String(cell).padEnd(widths[i] ?? 0)).join('  ')).join('\n');
}
