import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CANCEL_POINT_LABELS, runCancelRace } from './cancel-race.ts';
import { describeFaults, runFaults } from './faults.ts';
import { type SectionResult, startHarness, summaryTable } from './harness.ts';
import { runHostileInput } from './hostile-input.ts';
import { runLoad } from './load.ts';

/**
 * `npm run test:reliability`: the full harness on one embedded stack, one section after the
 * other (each section's invariants assume it is alone). Prints one summary table and exits 1 on
 * any violation. Sizes can be lowered for a quick look:
 * `-- --trials 50 --inputs 1000 --requests 2000 --fault-trials 1`. The secret scan comes last: it
 * looks at everything the run produced.
 *
 * The summary (sizes, sections, violations and the figures the docs quote) is written to
 * `test/reliability/results.json` (`--no-write` skips it); `bench/render-docs.ts` renders
 * docs/reliability.md's tables from it. The file's `baselines` section (earlier runs, kept for
 * comparison) is carried over unchanged.
 */
const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '500' },
    inputs: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '20000' },
    'fault-trials': { type: 'string', default: '5' },
    seed: { type: 'string', default: '20261128' },
    'no-write': { type: 'boolean', default: false },
  },
});
const seed = Number(values.seed);
const started = Date.now();
const h = await startHarness({ pages: 24, dynamoDbFaults: true });
const results: SectionResult[] = [];
const figures: Record<string, unknown> = {};
try {
  const races = await runCancelRace(h, { trials: Number(values.trials), concurrency: 6, seed });
  results.push(races);
  figures.cancelRaces = Object.fromEntries(
    Object.entries(CANCEL_POINT_LABELS).map(([point, label]) => {
      const mine = races.outcomes.filter((o) => o.plan.point === point);
      const first = (word: string) => mine.filter((o) => o.landed.startsWith(word)).length;
      return [
        point,
        { label, trials: mine.length, cancelled: first('CANCELLED'), completedFirst: first('COMPLETED') },
      ];
    }),
  );
  console.log(`cancel races done (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  const hostile = await runHostileInput(h, { inputs: Number(values.inputs), seed });
  results.push(hostile);
  figures.hostileInputByRoute = hostile.byRoute;
  figures.hostileInputByStatus = hostile.byStatus;
  console.log(
    `hostile input done (${((Date.now() - started) / 1000).toFixed(0)} s): by route ${JSON.stringify(hostile.byRoute)}; ` +
      `by status ${JSON.stringify(hostile.byStatus)}`,
  );
  const load = await runLoad(h, { requests: Number(values.requests), pages: 20 });
  results.push(load);
  figures.loadPollLatencyMs = load.latency;
  console.log(`load done: p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms`);
  const faults = await runFaults(h, { trialsPerKind: Number(values['fault-trials']), seed });
  results.push(faults);
  figures.faults = Object.fromEntries(
    [...new Set(faults.outcomes.map((o) => o.kind))].map((kind) => {
      const mine = faults.outcomes.filter((o) => o.kind === kind);
      const statuses = [...new Set(mine.map((o) => o.finalStatus ?? 'never ended'))];
      return [
        kind,
        { trials: mine.length, injected: mine.reduce((s, o) => s + o.injected, 0), finalStatus: statuses },
      ];
    }),
  );
  console.log(
    `faults done (${((Date.now() - started) / 1000).toFixed(0)} s)\n${describeFaults(faults.outcomes)}`,
  );
  const secrets = await h.secrets.finish(h);
  results.push(secrets);
  figures.secretScan = secrets.summary;
  console.log(`secret scan done: ${secrets.summary}`);
} finally {
  await h.stack.stop();
}

console.log(`\n${summaryTable(results)}\n`);
const violations = results.flatMap((r) => r.violations.map((v) => `${r.section}: ${v}`));
for (const v of violations.slice(0, 50)) console.log(`VIOLATION ${v}`);
const seconds = Math.round((Date.now() - started) / 1000);
console.log(`${violations.length === 0 ? 'OK' : 'FAILED'}: ${violations.length} violations in ${seconds} s`);

if (!values['no-write']) {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results.json');
  let baselines: unknown = {};
  try {
    baselines = (JSON.parse(readFileSync(file, 'utf8')) as { baselines?: unknown }).baselines ?? {};
  } catch {
    // no results yet: no baselines to keep
  }
  const summary = {
    description:
      'The last run of `npm run test:reliability`: its sizes, one row per section, and the figures the docs quote. ' +
      'Written by test/reliability/run.ts; docs/reliability.md is rendered from it by bench/render-docs.ts.',
    date: new Date().toISOString(),
    seed,
    sizes: {
      trials: Number(values.trials),
      inputs: Number(values.inputs),
      requests: Number(values.requests),
      faultTrials: Number(values['fault-trials']),
    },
    seconds,
    machine: { cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}`, node: process.version },
    sections: results.map((r) => ({
      section: r.section,
      trials: r.trials,
      faults: r.faults,
      inputs: r.inputs,
      requests: r.requests,
      violations: r.violations.length,
    })),
    violations: violations.slice(0, 50),
    figures,
    baselines,
  };
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
}
process.exit(violations.length === 0 ? 0 : 1);
