import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type BenchFile,
  comparisonRows,
  detailRows,
  markdownTable,
  READER_FIGURES,
  reportRows,
  WRITE_PATH_FIGURES,
} from './report.ts';

/**
 * Renders the docs' figures from the results files, so that a figure in a doc is always the one
 * a run recorded: `npx tsx bench/render-docs.ts` after `npm run bench` or `npm run
 * test:reliability`. A generated region sits between `<!-- generated:NAME ... -->` and
 * `<!-- /generated:NAME -->`; everything outside the regions is written by hand and left alone.
 * test/docs/generated-tables.test.ts fails when a committed doc differs from its rendering.
 *
 * - bench/results.json (written by bench/run.ts): the last full benchmark, and its `baselines`
 *   (earlier runs kept for comparison) -> docs/performance.md, docs/contact-commits.md;
 * - test/reliability/results.json (written by test/reliability/run.ts) -> docs/reliability.md.
 */

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The reliability harness's results file (test/reliability/run.ts writes it). */
export interface ReliabilitySection {
  section: string;
  trials: number;
  faults: number;
  inputs: number;
  requests: number;
  violations: number;
}
export interface ReliabilityRun {
  description: string;
  date?: string;
  seed?: number;
  sizes: { trials: number; inputs: number; requests: number; faultTrials: number };
  seconds: number;
  machine?: { cpus: string; node: string };
  sections: ReliabilitySection[];
  violations: string[];
  figures?: {
    cancelRaces?: Record<
      string,
      { label: string; trials: number; cancelled: number; completedFirst: number }
    >;
    hostileInputByRoute?: Record<string, number>;
    loadPollLatencyMs?: { p50: number; p99: number };
    load?: string;
    faults?: Record<string, { trials: number; injected: number; finalStatus: string[] }>;
    secretScan?: string;
  };
}
export type ReliabilityFile = ReliabilityRun & { baselines: Record<string, ReliabilityRun> };

/** The harness's sizes when run without options (test/reliability/run.ts). */
const FULL_SIZES = { trials: 500, inputs: 10_000, requests: 20_000, faultTrials: 5 };

const FAULT_LABELS: Record<string, string> = {
  'graph-errors': 'Graph errors 1/2/4/17/32/613/80006/500 at 10 %',
  'token-revoked': 'token revoked (190) mid-sync',
  'worker-crash': 'worker crash mid-chunk',
  'dynamodb-throttling': 'DynamoDB throttling',
  'transaction-conflicts': 'transaction conflicts on the job item',
  'ambiguous-commits': 'commits applied, answer lost',
  'stop-execution-fails': 'StopExecution failing',
  'start-execution-fails': 'StartExecution failing',
};

const day = (iso: string | undefined) => (iso ? iso.slice(0, 10) : 'date not recorded');

// --- performance ---------------------------------------------------------------------------------

function performanceTable(r: BenchFile): string {
  return [
    markdownTable(['figure', 'measured', 'target', ''], reportRows(r)),
    '',
    `Measured ${day(r.date)} by \`npm run bench${r.setup.quick ? ' -- --quick --write' : ''}\` (${r.benchSeconds} s) on ${r.machine.cpus}, ` +
      `${r.machine.memoryGb} GB, Node.js ${r.machine.node.replace(/^v/, '')}; transactions held ` +
      `${r.txHoldMs} ms by the conflict model. Source: \`bench/results.json\`.`,
  ].join('\n');
}

function performanceDetails(r: BenchFile): string {
  return markdownTable(['figure', 'measured'], detailRows(r));
}

function baselineList(r: BenchFile, names: string[]): string {
  return names
    .map((name) => {
      const b = r.baselines[name];
      if (!b) throw new Error(`bench/results.json has no baseline "${name}"`);
      return `- *${name}* (${day(b.date)}): ${b.description}`;
    })
    .join('\n');
}

function comparison(r: BenchFile, figures: typeof WRITE_PATH_FIGURES, names: string[]): string {
  const runs = names.map((name) => {
    const b = r.baselines[name];
    if (!b) throw new Error(`bench/results.json has no baseline "${name}"`);
    return b.results;
  });
  return [
    markdownTable(
      ['figure', ...names, `last full run (${day(r.date)})`],
      comparisonRows(figures, [...runs, r]),
    ),
    '',
    baselineList(r, names),
    '',
    '"-": not recorded for that run.',
  ].join('\n');
}

function writePathBefore(r: BenchFile): string {
  const b = r.baselines['before-batching'];
  if (!b) throw new Error('bench/results.json has no baseline "before-batching"');
  const x = b.results;
  return (
    `Measured under the local conflict model (hold ${x.txHoldMs} ms; \`bench/results.json\`, ` +
    `baseline *before-batching*), that write path met ${x.transactionConflictsPer1000} conflicts per ` +
    `1,000 conversations on the benchmark page, failed ${x.chunkFailures} chunk attempts, cost ` +
    `${x.dynamoWriteUnitsPer1000} write units per 1,000 conversations, and the ` +
    `${(x.setup?.scale?.messenger ?? 0) + (x.setup?.scale?.instagram ?? 0)}-conversation sync ended ` +
    `${x.scaleStatus} after ${x.scaleSynced} contacts ([performance.md](performance.md#what-batch-commits-changed)).`
  );
}

// --- reliability ---------------------------------------------------------------------------------

function sizesCommand(s: ReliabilityRun['sizes']): string {
  const full =
    s.trials === FULL_SIZES.trials &&
    s.inputs === FULL_SIZES.inputs &&
    s.requests === FULL_SIZES.requests &&
    s.faultTrials === FULL_SIZES.faultTrials;
  return full
    ? '`npm run test:reliability` (full size)'
    : `\`npm run test:reliability -- --trials ${s.trials} --inputs ${s.inputs} --requests ${s.requests} --fault-trials ${s.faultTrials}\` (reduced sizes)`;
}

function sectionsTable(run: ReliabilityRun): string {
  const columns = ['trials', 'faults', 'inputs', 'requests', 'violations'] as const;
  const rows = run.sections.map((s) => [s.section, ...columns.map((c) => String(s[c]))]);
  const total = ['total', ...columns.map((c) => String(run.sections.reduce((sum, s) => sum + s[c], 0)))];
  return markdownTable(['section', ...columns], [...rows, total]);
}

function runCaption(run: ReliabilityRun): string {
  const violations = run.sections.reduce((sum, s) => sum + s.violations, 0);
  const where = run.machine ? ` on ${run.machine.cpus}, Node.js ${run.machine.node.replace(/^v/, '')}` : '';
  const seed = run.seed === undefined ? '' : `, seed ${run.seed}`;
  return (
    `${sizesCommand(run.sizes)}${seed}, ${day(run.date)}: ${run.seconds} s${where}; ` +
    `${violations === 0 ? 'OK' : 'FAILED'}, ${violations} violations.`
  );
}

function runFigures(run: ReliabilityRun): string {
  const f = run.figures ?? {};
  const out: string[] = [];
  if (f.cancelRaces)
    out.push(
      markdownTable(
        ['cancel point', 'trials', 'cancelled', 'completed first'],
        Object.values(f.cancelRaces).map((p) => [
          p.label,
          String(p.trials),
          String(p.cancelled),
          String(p.completedFirst),
        ]),
      ),
    );
  if (f.faults)
    out.push(
      markdownTable(
        ['fault', 'trials', 'faults injected', 'ended'],
        Object.entries(f.faults).map(([kind, o]) => [
          FAULT_LABELS[kind] ?? kind,
          String(o.trials),
          String(o.injected),
          o.finalStatus.join(', '),
        ]),
      ),
    );
  const lines: string[] = [];
  if (f.loadPollLatencyMs)
    lines.push(
      `- Load: status-poll latency p50 ${f.loadPollLatencyMs.p50} ms, p99 ${f.loadPollLatencyMs.p99} ms.`,
    );
  if (f.load) lines.push(`- Load: ${f.load}.`);
  if (f.hostileInputByRoute)
    lines.push(
      `- Hostile input by route: ${Object.entries(f.hostileInputByRoute)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([route, n]) => `${route} ${n}`)
        .join(', ')}.`,
    );
  if (f.secretScan) lines.push(`- Secret scan: ${f.secretScan}.`);
  if (run.violations.length)
    lines.push(
      `- Violations, for example: ${run.violations
        .slice(0, 3)
        .map((v) => `\`${v}\``)
        .join('; ')}.`,
    );
  if (lines.length) out.push(lines.join('\n'));
  return out.join('\n\n');
}

function reliabilityRun(run: ReliabilityRun): string {
  return [runCaption(run), '', sectionsTable(run), '', runFigures(run)].join('\n').trimEnd();
}

function reliabilityBaseline(file: ReliabilityFile, name: string): string {
  const b = file.baselines[name];
  if (!b) throw new Error(`test/reliability/results.json has no baseline "${name}"`);
  return [`*${name}*: ${b.description}`, '', reliabilityRun(b)].join('\n');
}

// --- the regions ---------------------------------------------------------------------------------

type Renderers = Record<string, Record<string, () => string>>;

function renderers(root: string): Renderers {
  const bench = JSON.parse(readFileSync(path.join(root, 'bench/results.json'), 'utf8')) as BenchFile;
  const reliability = JSON.parse(
    readFileSync(path.join(root, 'test/reliability/results.json'), 'utf8'),
  ) as ReliabilityFile;
  return {
    'docs/performance.md': {
      performance: () => performanceTable(bench),
      'performance-details': () => performanceDetails(bench),
      'performance-batching': () =>
        comparison(bench, WRITE_PATH_FIGURES, ['before-batching', 'batch-commits-first-run']),
      'performance-reader': () => comparison(bench, READER_FIGURES, ['two-pass-reader']),
    },
    'docs/contact-commits.md': {
      'write-path-before': () => writePathBefore(bench),
    },
    'docs/reliability.md': {
      reliability: () => reliabilityRun(reliability),
      'reliability-full-size': () => reliabilityBaseline(reliability, 'full-size-two-pass-reader'),
      'reliability-broken-guard': () => reliabilityBaseline(reliability, 'broken-guard'),
    },
  };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `text` with each named region's content replaced; a region named but missing is an error. */
export function renderRegions(text: string, regions: Record<string, () => string>, file = 'the doc'): string {
  let out = text;
  for (const [name, render] of Object.entries(regions)) {
    const re = new RegExp(
      `(<!-- generated:${escapeRegExp(name)}(?: [^>]*)? -->)\\n(?:[\\s\\S]*?\\n)?(<!-- /generated:${escapeRegExp(name)} -->)`,
    );
    if (!re.test(out)) throw new Error(`${file} has no region generated:${name}`);
    const content = render();
    out = out.replace(re, (_, open: string, close: string) => `${open}\n${content}\n${close}`);
  }
  return out;
}

/** Every rendered doc: its path (relative to the root) and its content as rendered. */
export function renderDocs(root = ROOT): Map<string, string> {
  const rendered = new Map<string, string>();
  for (const [file, regions] of Object.entries(renderers(root))) {
    const text = readFileSync(path.join(root, file), 'utf8');
    rendered.set(file, renderRegions(text, regions, file));
  }
  return rendered;
}

/** The relative links of a Markdown file whose target (without its #anchor) does not exist. */
export function missingLinks(root: string, file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  const missing: string[] = [];
  for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = match[1] ?? '';
    if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
    const file_ = decodeURIComponent(target.split('#')[0] ?? '');
    if (!existsSync(path.resolve(root, path.dirname(file), file_))) missing.push(target);
  }
  return missing;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  for (const [file, text] of renderDocs()) {
    const full = path.join(ROOT, file);
    if (readFileSync(full, 'utf8') === text) continue;
    writeFileSync(full, text);
    console.log(`rendered ${file}`);
  }
}
