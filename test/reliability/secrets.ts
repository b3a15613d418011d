import { format } from 'node:util';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { routePath } from '#shared/api/routes.ts';
import { ContactsResponse, PagesResponse, SyncJobsResponse } from '#shared/contract.ts';
import type { SimPage } from '../../local/graph-sim/demo-data.ts';
import { PATHS } from '../e2e/http-client.ts';
import type { Harness, SectionResult } from './harness.ts';

/**
 * The secret scan of the reliability harness (page tokens never leave their store).
 * Every page's access token, in plaintext and as the ciphertext the pages table keeps, is looked
 * for in everything the harness run produced:
 * - every answer of the HTTP API (tapped at the emulator, so the load and hostile-input traffic
 *   counts too), plus a final sweep of every read route for every page;
 * - every log line the handlers wrote (console and the process's stdout/stderr); the harness runs
 *   the handlers' Powertools Logger at DEBUG (it is quiet outside Lambda otherwise), so every line
 *   they would write in Lambda, and more, is scanned; those JSON lines are scanned, not printed;
 * - the input, output and every history event of every execution;
 * - every item of the jobs and contacts tables, and the pages table for the plaintext.
 * Each occurrence is a violation naming where it was found.
 */
const SECTION = 'secret scan';
/** What marks a line of the handlers' Powertools Logger (shared/observability.ts). */
const POWERTOOLS_LINE = '"service":"contact-sync"';

export class SecretScanner {
  private readonly secrets = new Map<string, string>();
  private readonly findings = new Set<string>();
  readonly scanned = {
    logWrites: 0,
    logBytes: 0,
    handlerLogLines: 0,
    responses: 0,
    responseBytes: 0,
    events: 0,
    items: 0,
  };
  private untap: (() => void) | null = null;

  /** Starts looking at once for the plaintext tokens (the ciphertexts are added once stored). */
  constructor(pages: SimPage[]) {
    for (const page of pages) this.secrets.set(page.accessToken, `the access token of page ${page.id}`);
  }

  /** Where secrets were seen so far, one line each. */
  get found(): string[] {
    return [...this.findings];
  }

  /** Scans `text`; records where any secret was seen. */
  scan(text: string, where: string): void {
    for (const [secret, what] of this.secrets)
      if (text.includes(secret)) this.findings.add(`${what} appears in ${where}: ${excerpt(text, secret)}`);
  }

  /** For `startLocalStack({ onApiResponse })`: every answer of the HTTP API. */
  readonly observeResponse = (status: number, body: string): void => {
    this.scanned.responses++;
    this.scanned.responseBytes += body.length;
    this.scan(body, `an HTTP ${status} answer`);
  };

  /** Taps the console and the process's output streams until `stop()`. */
  tapLogs(): void {
    const originals: (() => void)[] = [];
    const seen = (text: string) => {
      this.scanned.logWrites++;
      this.scanned.logBytes += text.length;
      this.scan(text, 'the logs');
    };
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      const original = console[method];
      console[method] = (...args: unknown[]) => {
        seen(format(...args));
        original.apply(console, args);
      };
      originals.push(() => {
        console[method] = original;
      });
    }
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write;
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
        seen(text);
        if (text.includes(POWERTOOLS_LINE)) {
          this.scanned.handlerLogLines++;
          return true;
        }
        return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
      }) as typeof stream.write;
      originals.push(() => {
        stream.write = original;
      });
    }
    this.untap = () => {
      for (const restore of originals.reverse()) restore();
    };
  }

  stop(): void {
    this.untap?.();
    this.untap = null;
  }

  /** Adds the tokens' ciphertexts, read from the pages table: they must not leave it either. */
  async addCiphertexts(h: Harness): Promise<void> {
    for (const item of await scanTable(h, h.stack.tables.pages)) {
      const ciphertext = item.accessTokenCiphertext;
      if (typeof ciphertext === 'string')
        this.secrets.set(ciphertext, `the token ciphertext of page ${item.pageId}`);
    }
  }

  /**
   * The closing sweep: every read route for every page, every execution's history, every item of
   * the tables; then the section's result with every finding as a violation.
   */
  async finish(h: Harness): Promise<SectionResult & { summary: string }> {
    let requests = 0;
    const get = async (path: string) => {
      requests++;
      return h.http.get(path, h.tokens.demo);
    };
    const pages = PagesResponse.safeParse((await get(PATHS.pages)).body).data?.pages ?? [];
    for (const page of pages) {
      const jobs = SyncJobsResponse.safeParse((await get(routePath('syncJobs', { pageId: page.id }))).body);
      for (const job of jobs.data?.jobs.slice(0, 3) ?? [])
        await get(routePath('syncStatus', { jobId: job.id }));
      let cursor: string | undefined;
      do {
        const answer = await get(routePath('pageContacts', { pageId: page.id, limit: 100, cursor }));
        cursor = ContactsResponse.safeParse(answer.body).data?.nextCursor ?? undefined;
      } while (cursor);
    }

    const { sfn, machines } = h.stack;
    let executions = 0;
    for (const machine of machines) {
      for (const e of sfn.ListExecutions({ stateMachineArn: machine.arn, maxResults: 1_000_000 })
        .executions) {
        executions++;
        const where = `the execution ${e.name}`;
        this.scan(JSON.stringify(sfn.DescribeExecution({ executionArn: e.executionArn })), where);
        const { events } = sfn.GetExecutionHistory({ executionArn: e.executionArn, maxResults: 1_000_000 });
        this.scanned.events += events.length;
        for (const event of events) this.scan(JSON.stringify(event), `${where} (history event ${event.id})`);
      }
    }

    for (const table of [h.stack.tables.jobs, h.stack.tables.contacts]) {
      for (const item of await scanTable(h, table)) {
        this.scanned.items++;
        this.scan(JSON.stringify(item), `the table ${table}`);
      }
    }
    // The pages table keeps the ciphertext (that is its store), never the plaintext.
    const plaintexts = new Map([...this.secrets].filter(([, what]) => what.startsWith('the access token')));
    for (const item of await scanTable(h, h.stack.tables.pages)) {
      this.scanned.items++;
      const text = JSON.stringify(item);
      for (const [secret, what] of plaintexts)
        if (text.includes(secret)) this.findings.add(`${what} appears in the pages table in plaintext`);
    }

    const s = this.scanned;
    const summary =
      `${this.secrets.size} secrets looked for in ${s.responses} answers (${mb(s.responseBytes)}), ` +
      `${s.logWrites} log writes (${mb(s.logBytes)}; ${s.handlerLogLines} handler log lines at DEBUG), ${s.events} history events of ${executions} executions, ` +
      `${s.items} table items: ${this.findings.size} found`;
    return {
      section: SECTION,
      trials: 0,
      faults: 0,
      inputs: 0,
      requests,
      violations: [...this.findings],
      summary,
    };
  }
}

async function scanTable(h: Harness, table: string): Promise<Record<string, unknown>[]> {
  const doc = DynamoDBDocumentClient.from(h.stack.dynamo);
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
    items.push(...(out.Items ?? []));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** The secret in context, shortened so that a report does not print a whole token. */
function excerpt(text: string, secret: string): string {
  const at = text.indexOf(secret);
  return `…${text.slice(Math.max(0, at - 40), at)}[${secret.slice(0, 6)}…]…`;
}
