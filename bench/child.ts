import { writeFileSync } from 'node:fs';
import { runCancelScenario } from './scenarios/cancel.ts';
import { runResyncScenario } from './scenarios/resync.ts';
import { runScaleScenario } from './scenarios/scale.ts';
import { runSyncScenario } from './scenarios/sync.ts';

/**
 * One scenario in a process of its own (`node --import tsx bench/child.ts <scenario> <options> <out>`):
 * the embedded stack binds the handlers' SDK clients to its endpoints once per process, and a
 * fresh process gives each scenario its own peak-memory figure.
 */
const [scenario, rawOptions, out] = process.argv.slice(2);
if (!scenario || !rawOptions || !out) throw new Error('usage: child.ts <scenario> <options-json> <out-file>');
const options = JSON.parse(rawOptions);
const run = {
  sync: runSyncScenario,
  cancel: runCancelScenario,
  scale: runScaleScenario,
  resync: runResyncScenario,
}[scenario];
if (!run) throw new Error(`unknown scenario ${scenario}`);
const result = await run(options);
writeFileSync(out, JSON.stringify(result));
process.exit(0);
