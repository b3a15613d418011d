import { parseArgs } from 'node:util';
import { runCancelRace } from './cancel-race.ts';
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
 */
const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '500' },
    inputs: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '20000' },
    'fault-trials': { type: 'string', default: '5' },
    seed: { type: 'string', default: '20261128' },
  },
});
const seed = Number(values.seed);
const started = Date.now();
const h = await startHarness({ pages: 24, dynamoDbFaults: true });
const results: SectionResult[] = [];
try {
  results.push(await runCancelRace(h, { trials: Number(values.trials), concurrency: 6, seed }));
  console.log(`cancel races done (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  const hostile = await runHostileInput(h, { inputs: Number(values.inputs), seed });
  results.push(hostile);
  console.log(
    `hostile input done (${((Date.now() - started) / 1000).toFixed(0)} s): by route ${JSON.stringify(hostile.byRoute)}; ` +
      `by status ${JSON.stringify(hostile.byStatus)}`,
  );
  const load = await runLoad(h, { requests: Number(values.requests), pages: 20 });
  results.push(load);
  console.log(`load done: p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms`);
  const faults = await runFaults(h, { trialsPerKind: Number(values['fault-trials']), seed });
  results.push(faults);
  console.log(
    `faults done (${((Date.now() - started) / 1000).toFixed(0)} s)\n${describeFaults(faults.outcomes)}`,
  );
  const secrets = await h.secrets.finish(h);
  results.push(secrets);
  console.log(`secret scan done: ${secrets.summary}`);
} finally {
  await h.stack.stop();
}

console.log(`\n${summaryTable(results)}\n`);
const violations = results.flatMap((r) => r.violations.map((v) => `${r.section}: ${v}`));
for (const v of violations.slice(0, 50)) console.log(`VIOLATION ${v}`);
console.log(
  `${violations.length === 0 ? 'OK' : 'FAILED'}: ${violations.length} violations in ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
process.exit(violations.length === 0 ? 0 : 1);
