import { describe, expect, it } from 'vitest';
import { type PageRequest, type PendingAction, runPendingAction } from '../../web/src/pending-action.ts';

/**
 * The one way the console acts on a page, step by step: each step of a request and each effect
 * is written to a log, so a test reads the order in which they happened.
 */
function world() {
  const log: string[] = [];
  const effects = {
    mark: (action: PendingAction | null) => log.push(action ? `mark ${action}` : 'unmark'),
    refresh: async () => {
      log.push('refresh');
    },
    tellOtherTabs: () => log.push('tell other tabs'),
  };
  const run = <T>(request: PageRequest<T>) => runPendingAction(request, effects);
  return { log, run };
}

const answers =
  <T>(answer: T, log: string[]) =>
  async () => {
    log.push('send');
    return answer;
  };
const fails = (error: unknown, log: string[]) => async () => {
  log.push('send');
  throw error;
};

describe('a request for a page', () => {
  it('marks the page, sends, reports the answer, reads the list, clears the mark, tells the other tabs', async () => {
    const { log, run } = world();
    await run({
      pending: 'sync',
      send: answers({ jobId: 'job-9' }, log),
      onDone: ({ jobId }) => log.push(`done ${jobId}`),
      onFailed: () => log.push('failed'),
    });
    expect(log).toEqual(['mark sync', 'send', 'done job-9', 'refresh', 'unmark', 'tell other tabs']);
  });

  it('reports a failure the same way, and the mark is cleared all the same', async () => {
    const { log, run } = world();
    await run({
      pending: 'pause',
      send: fails(new Error('HTTP 400'), log),
      onDone: () => log.push('done'),
      onFailed: (error) => log.push(`failed ${(error as Error).message}`),
    });
    expect(log).toEqual(['mark pause', 'send', 'failed HTTP 400', 'refresh', 'unmark', 'tell other tabs']);
  });

  it('reports after the list is read again when asked to (a stop: the toast comes with the final count)', async () => {
    for (const send of [answers(undefined, []), fails(new Error('gone'), [])]) {
      const { log, run } = world();
      await run({
        pending: 'stop',
        send,
        reportAfterRefresh: true,
        onDone: () => log.push('reported'),
        onFailed: () => log.push('reported'),
      });
      expect(log).toEqual(['mark stop', 'refresh', 'unmark', 'reported', 'tell other tabs']);
    }
  });

  it('reports a failure of what is done with the answer as a failure, and still clears the mark', async () => {
    const { log, run } = world();
    await run({
      pending: 'full',
      send: answers({ jobId: 'job-1' }, log),
      onDone: () => {
        throw new Error('storage full');
      },
      onFailed: (error) => log.push(`failed ${(error as Error).message}`),
    });
    expect(log).toEqual(['mark full', 'send', 'failed storage full', 'refresh', 'unmark', 'tell other tabs']);
  });

  it('leaves the page unmarked for a request without a state of its own', async () => {
    const { log, run } = world();
    await run({ send: answers(undefined, log), onDone: () => log.push('done'), onFailed: () => {} });
    expect(log).toEqual(['send', 'done', 'refresh', 'tell other tabs']);
  });
});
