import { afterAll, beforeAll, expect } from 'vitest';
import type { z } from 'zod';
import { routePath } from '#shared/api/routes.ts';
import { type Contact as ContactSchema, ContactsResponse, StartSyncResponse } from '#shared/contract.ts';
import { signLocalToken } from '../../local/auth.ts';
import { ensureConsoleBuilt } from '../../local/console-server.ts';
import type { SimPage } from '../../local/graph-sim/demo-data.ts';
import {
  DATA_DIR,
  type LocalStack,
  type LocalStackOptions,
  startLocalStack,
} from '../../local/local-stack.ts';
import { HttpClient, type JobView, PATHS, pollUntil, readJob } from './http-client.ts';

type Contact = z.infer<typeof ContactSchema>;

export interface E2eStackOptions {
  pages: SimPage[];
  /** CDK context overrides (chunkSize, mapConcurrency, ...). */
  context?: LocalStackOptions['context'];
  /** ANALYZER_LATENCY_MS while the file runs (the workers read it when they first load). */
  analyzerLatencyMs?: string;
  /** The demo-org user the file's token is signed for. */
  user: string;
  /** Serve the web console at `/` (built first if it is not), as `npm start` does. */
  console?: true;
}

/**
 * A test file's embedded stack: started before its tests (on free ports, with `pages` connected to
 * demo-org) and stopped after them, with an HTTP client on its API, a demo-org token and the calls
 * most tests make with them. Read its fields inside tests and hooks: they are set by beforeAll.
 */
export function e2eStack(options: E2eStackOptions) {
  const original = process.env.ANALYZER_LATENCY_MS;
  const e2e = {
    stack: undefined as unknown as LocalStack,
    http: undefined as unknown as HttpClient,
    token: '',

    /** The job as sync-status shows it (asserting the 200 and the documented shape). */
    job: (jobId: string) => readJob(e2e.http, jobId, e2e.token),

    /** Polls the job until `done` holds for it: a bounded poll, `tries` reads `intervalMs` apart. */
    waitForJob: (
      jobId: string,
      what: string,
      done: (job: JobView) => boolean,
      { tries = 1200, intervalMs = 100 }: { tries?: number; intervalMs?: number } = {},
    ) => pollUntil(what, () => e2e.job(jobId), done, { tries, intervalMs }),

    /** Starts a sync of the page, asserting the 202 and its exact body, and returns the job id. */
    async started(pageId: string): Promise<string> {
      const answer = await e2e.http.post(PATHS.start, e2e.token, { pageId });
      expect(answer.status, answer.text).toBe(202);
      return StartSyncResponse.strict().parse(answer.body).jobId;
    },

    /** Every contact of a page, walking every cursor, each answer a 200 with the exact documented shape. */
    async contactsOf(pageId: string): Promise<Contact[]> {
      const contacts: Contact[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 200; i++) {
        const answer = await e2e.http.get(
          routePath('pageContacts', { pageId, limit: 100, cursor }),
          e2e.token,
        );
        expect(answer.status, answer.text).toBe(200);
        const body = ContactsResponse.strict().parse(answer.body);
        contacts.push(...body.contacts);
        if (body.nextCursor === null) return contacts;
        cursor = body.nextCursor;
      }
      throw new Error(`the contacts cursor of page ${pageId} never ended`);
    },
  };

  beforeAll(
    async () => {
      if (options.analyzerLatencyMs !== undefined)
        process.env.ANALYZER_LATENCY_MS = options.analyzerLatencyMs;
      const webRoot = options.console ? await ensureConsoleBuilt() : undefined;
      e2e.stack = await startLocalStack({
        port: 0,
        sfnPort: 0,
        graphSimPort: 0,
        pages: options.pages,
        context: options.context,
        ...(webRoot ? { webRoot } : {}),
      });
      e2e.http = new HttpClient(e2e.stack.apiUrl);
      e2e.token = await signLocalToken(DATA_DIR, { org: 'demo-org', user: options.user });
    },
    options.console ? 180_000 : 120_000,
  );

  afterAll(async () => {
    await e2e.stack?.stop();
    if (original === undefined) delete process.env.ANALYZER_LATENCY_MS;
    else process.env.ANALYZER_LATENCY_MS = original;
  });
  return e2e;
}
