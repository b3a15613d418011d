import { describe, expect, it } from 'vitest';
import { EXECUTION_STOPPED_BY_CHECK } from '#shared/sync/workflow-state-names.ts';
import { endText } from '../../web/src/execution-text.ts';
import type { ExecutionSummary } from '../../web/src/types.ts';

const state = (name: string) => ({
  name,
  type: 'Succeed',
  entered: 1,
  exited: 1,
  firstEnteredAt: '2026-01-01T00:00:00.000Z',
  lastExitedAt: '2026-01-01T00:00:00.000Z',
  totalMs: 0,
  retries: 0,
  caught: 0,
  failed: 0,
  errors: [],
});
const summary = (
  end: ExecutionSummary['end'],
  states: ExecutionSummary['states'] = [],
): ExecutionSummary => ({
  complete: end !== null,
  readAt: '2026-01-01T00:00:09.000Z',
  eventCount: 10,
  states,
  map: null,
  end,
});
const at = '2026-01-01T00:00:05.000Z';

describe('how an execution ended, in words', () => {
  it.each<[string, ExecutionSummary, string]>([
    [
      'a run to the end',
      summary({ type: 'ExecutionSucceeded', at, error: null, cause: null }, [state('Sync finished')]),
      'Succeeded',
    ],
    [
      'a run its own check stopped',
      summary({ type: 'ExecutionSucceeded', at, error: null, cause: null }, [
        state(EXECUTION_STOPPED_BY_CHECK),
      ]),
      'Stopped by its cancel check: the job was no longer running',
    ],
    [
      'a run a cancel stopped',
      summary({ type: 'ExecutionAborted', at, error: 'SyncCancelled', cause: 'Cancelled by the user' }),
      'Aborted: SyncCancelled — Cancelled by the user',
    ],
    [
      'a failed run, without its cause',
      summary({ type: 'ExecutionFailed', at, error: 'SyncFailed', cause: 'task said something' }),
      'Failed: SyncFailed',
    ],
    ['a running one', summary(null), 'Still running'],
  ])('%s', (_case, given, words) => {
    expect(endText(given)).toBe(words);
  });
});
