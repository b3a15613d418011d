import { afterEach, describe, expect, it } from 'vitest';
import type { SimPage } from '../../local/graph-sim/demo-data.ts';
import { SecretScanner } from './secrets.ts';

/**
 * The secret scanner can fail: a token planted in an answer or a log line is reported, with where
 * it was seen. (faults.test.ts runs the real scan over a harness run and expects nothing found.)
 */
const page = {
  id: '880000000099',
  name: 'Planted',
  accessToken: 'EAAGplantedPageToken0123456789',
  conversations: { messenger: [], instagram: [] },
} as SimPage;

let scanner: SecretScanner | undefined;
afterEach(() => scanner?.stop());

describe('SecretScanner', () => {
  it('reports a token in an HTTP answer, without printing the whole token', () => {
    scanner = new SecretScanner([page]);
    scanner.observeResponse(200, JSON.stringify({ page: { id: page.id, token: page.accessToken } }));
    scanner.observeResponse(200, JSON.stringify({ page: { id: page.id } }));
    expect(scanner.found).toHaveLength(1);
    expect(scanner.found[0]).toContain(`the access token of page ${page.id} appears in an HTTP 200 answer`);
    expect(scanner.found[0]).not.toContain(page.accessToken);
    expect(scanner.scanned.responses).toBe(2);
  });

  it('reports a token a handler logs, through console or straight to stdout', () => {
    scanner = new SecretScanner([page]);
    scanner.tapLogs();
    console.info('decrypted', { token: page.accessToken });
    scanner.stop();
    expect(scanner.found).toEqual([expect.stringContaining('appears in the logs')]);

    scanner = new SecretScanner([page]);
    scanner.tapLogs();
    process.stdout.write(`token=${page.accessToken}\n`);
    scanner.stop();
    expect(scanner.found).toEqual([expect.stringContaining('appears in the logs')]);
  });

  it("reports a token in a line of the handlers' logger, which it scans without printing", () => {
    scanner = new SecretScanner([page]);
    scanner.tapLogs();
    process.stdout.write(`{"level":"DEBUG","service":"contact-sync","leaked":"${page.accessToken}"}\n`);
    scanner.stop();
    expect(scanner.scanned.handlerLogLines).toBe(1);
    expect(scanner.found).toEqual([expect.stringContaining('appears in the logs')]);
  });

  it('finds nothing in clean text, and stops looking once stopped', () => {
    scanner = new SecretScanner([page]);
    scanner.tapLogs();
    console.info('synced page', page.id);
    scanner.stop();
    console.info(`after stop: ${page.accessToken.slice(0, 4)}`);
    scanner.scan('nothing to see', 'a test');
    expect(scanner.found).toEqual([]);
    expect(scanner.scanned.logWrites).toBeGreaterThan(0);
  });
});
