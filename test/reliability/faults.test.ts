import { describe, expect, it } from 'vitest';
import { describeFaults, FAULT_KINDS, type FaultsResult, runFaults } from './faults.ts';
import { harnessForFile } from './harness.ts';

/**
 * The faults section at its bounded size, then the secret scan over everything it produced. One
 * trial of every fault kind on the embedded stack (Graph errors, a revoked token, a worker crash
 * after k writes, DynamoDB throttling, transaction conflicts, StopExecution and StartExecution
 * failing): each ends in the status its fault calls for, with exact counters, and each fault was
 * really injected.
 */
const harness = harnessForFile({ pages: 2, dynamoDbFaults: true });

describe('reliability: faults', () => {
  it('every injected fault ends in the right terminal status with exact counts', async () => {
    const result: FaultsResult = await runFaults(harness(), { trialsPerKind: 1, seed: 7 });
    console.info(
      `[faults] ${result.faults} faults injected in ${result.durationMs} ms\n${describeFaults(result.outcomes)}`,
    );
    expect(result.violations).toEqual([]);
    expect(result.trials).toBe(FAULT_KINDS.length);
    const status = Object.fromEntries(result.outcomes.map((o) => [o.kind, o.finalStatus]));
    expect(status).toEqual({
      'graph-errors': 'COMPLETED',
      'token-revoked': 'FAILED',
      'worker-crash': 'COMPLETED',
      'dynamodb-throttling': 'COMPLETED',
      'transaction-conflicts': 'COMPLETED',
      'ambiguous-commits': 'COMPLETED',
      'stop-execution-fails': 'CANCELLED',
      'start-execution-fails': 'FAILED',
    });
    for (const o of result.outcomes) expect(o.injected, o.kind).toBeGreaterThan(0);
  }, 240_000);

  it('leaves no page token in any answer, log line, execution history or table item', async () => {
    const h = harness();
    const scan = await h.secrets.finish(h);
    console.info(`[secret scan] ${scan.summary}`);
    expect(scan.violations).toEqual([]);
    // It looked at real traffic: the faults above (a token revoked, StopExecution failing…).
    expect(h.secrets.scanned.responses).toBeGreaterThan(50);
    expect(h.secrets.scanned.logWrites).toBeGreaterThan(0);
    // The handlers' own log lines, at DEBUG while the scan taps them, were among them.
    expect(h.secrets.scanned.handlerLogLines).toBeGreaterThan(100);
    expect(h.secrets.scanned.events).toBeGreaterThan(100);
    expect(h.secrets.scanned.items).toBeGreaterThan(20);
  }, 60_000);
});
