import { SFNClient } from '@aws-sdk/client-sfn';
import { expect } from 'vitest';
import { z } from 'zod';
import { ROUTES, routePath } from '#shared/api/routes.ts';
import { Execution, type Job, SyncStatusResponse } from '#shared/contract.ts';
import { sleep } from '#shared/sleep.ts';
import { generatePage, type SimPage } from '../../local/graph-sim/demo-data.ts';

/**
 * A tiny HTTP client for the end-to-end contract tests: real requests with fetch, answers kept
 * whole (status, headers, raw text and parsed JSON) so tests can check codes, shapes and headers.
 */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** The raw body; '' when there is none (204). */
  text: string;
  /** The body parsed as JSON, or undefined when it is empty or not JSON. */
  body: unknown;
}

export interface RequestOptions {
  /** A bearer token; omitted when undefined. */
  token?: string;
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Sent as is (with the content type from `headers`, if any). */
  raw?: string;
  headers?: Record<string, string>;
}

export class HttpClient {
  constructor(readonly baseUrl: string) {}

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<HttpAnswer> {
    const headers: Record<string, string> = {};
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.raw !== undefined) {
      body = opts.raw;
    }
    Object.assign(headers, opts.headers);
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, text, body: parsed };
  }

  get(path: string, token?: string, headers?: Record<string, string>): Promise<HttpAnswer> {
    return this.request('GET', path, { token, headers });
  }

  post(path: string, token: string | undefined, json: unknown, headers?: Record<string, string>) {
    return this.request('POST', path, { token, json, headers });
  }

  delete(path: string, token?: string): Promise<HttpAnswer> {
    return this.request('DELETE', path, { token });
  }
}

/** Query strings built safely from values (undefined values are left out). */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

export { sleep };

/**
 * Calls `read` until `done` holds for its value, at most `tries` times `intervalMs` apart, and
 * returns that value; throws with the last value seen otherwise. A bounded poll, not a timing
 * assertion: `what` names the awaited state in the failure.
 */
export async function pollUntil<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { tries = 300, intervalMs = 100 }: { tries?: number; intervalMs?: number } = {},
): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await read();
    if (done(last)) return last;
    await sleep(intervalMs);
  }
  throw new Error(`Gave up waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

/** The paths of the route table (shared/api/routes.ts) the tests call most, by short names. */
export const PATHS = {
  start: ROUTES.startSync.path,
  cancel: ROUTES.cancelSync.path,
  status: ROUTES.syncStatus.path,
  jobs: ROUTES.syncJobs.path,
  pages: ROUTES.listPages.path,
  pause: ROUTES.pauseSync.path,
  resume: ROUTES.resumeSync.path,
  retry: ROUTES.retrySync.path,
} as const;

export type JobView = z.infer<typeof Job>;
const StatusJob = SyncStatusResponse.shape.job;
/** A job as sync-status answers it: the job with its executions. */
export type StatusView = z.infer<typeof StatusJob>;
/** sync-status answers exactly the documented job fields, nothing internal. */
export const StrictStatus = z
  .object({ job: StatusJob.extend({ executions: z.array(Execution.strict()) }).strict() })
  .strict();

/**
 * What must never change once a job is terminal: everything but `executionStatus` and the
 * executions' list, which mirror the executions and may still move after the job is final
 * (RUNNING, then SUCCEEDED or ABORTED).
 */
export function finalView(job: JobView & { executions?: unknown }): Omit<JobView, 'executionStatus'> {
  const { executionStatus: _mirror, executions: _executions, ...rest } = job;
  return rest;
}

/** Simulated pages with numeric ids `<prefix><n>` (n padded to 5 digits), one token each. */
export function simPages(prefix: string, label: string) {
  let seq = 0;
  return (name: string, messenger: number, instagram: number): SimPage => {
    seq++;
    const id = `${prefix}${String(seq).padStart(5, '0')}`;
    return generatePage({
      id,
      name: `${label} ${name}`,
      accessToken: `e2e_page_token_${id}_secret`,
      messenger,
      instagram,
    });
  };
}

/** A job as sync-status shows it, asserting the 200 and the exact documented shape. */
export async function readJob(http: HttpClient, jobId: string, token: string): Promise<StatusView> {
  const answer = await http.get(routePath('syncStatus', { jobId }), token);
  expect(answer.status, answer.text).toBe(200);
  return StrictStatus.parse(answer.body).job;
}

/** An SFNClient on the embedded stack's Step Functions endpoint. */
export const localSfnClient = (endpoint: string) =>
  new SFNClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'e2e', secretAccessKey: 'e2e' },
  });
