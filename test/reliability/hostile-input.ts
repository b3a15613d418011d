import http from 'node:http';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { generateKeyPair, SignJWT } from 'jose';
import type { z } from 'zod';
import { ROUTES as API_ROUTES, type RouteName as ApiRouteName, routeKey } from '#shared/api/routes.ts';
import {
  CancelBulkResponse,
  ContactsResponse,
  ErrorBody,
  PagesResponse,
  SyncJobsResponse,
  SyncStatusResponse,
} from '#shared/contract.ts';
import { type HttpEvent, parseJsonBody } from '#shared/http.ts';
import { isRunningStatus, type JobStatus } from '#shared/job-status.ts';
import {
  CancelBulkBody,
  CancelSyncBody,
  ConnectPageBody,
  JobId,
  MAX_BULK_CANCEL,
  PageId,
  PagePath,
  PauseSyncBody,
  ResumeSyncBody,
  RetrySyncBody,
  StartSyncBody,
} from '#shared/schemas.ts';
import { localVerifier, signLocalToken, type Verifier } from '../../local/auth.ts';
import { TemplateResolver } from '../../local/cloudformation.ts';
import { routesFromTemplate } from '../../local/http-api.ts';
import { DATA_DIR } from '../../local/local-stack.ts';
import type { Harness, SectionResult } from './harness.ts';

/**
 * The hostile-input section of the reliability harness: `inputs` requests drawn with fast-check
 * from a seed, spread over every route of the HTTP contract, each one hostile in a known way (a
 * broken field, an odd id, a non-JSON, truncated, huge or deeply nested body, a wrong content type,
 * odd headers or query strings, a token that is missing, forged or of another organization, a wrong
 * method or path). Checks, each broken one a precise line in `violations`:
 *   1. the answer is a 4xx (a 200 only for a pure read or a bulk cancel with nothing to stop),
 *      never a 5xx, never a dropped connection; gateway-level answers are exact (404/405
 *      unrouted, 401 without a valid token), and so are pause, resume and retry with a valid body
 *      (400 for a job of the caller in a status the route refuses, 403 for another
 *      organization's job, 404 for an unknown one) and a valid bulk cancel (200);
 *   2. every non-2xx body is exactly `{ "error": string }`; a read's 200 matches its contract
 *      schema; a bulk cancel's 200 answers each named page once, `not-found`, `forbidden` or
 *      `not-active`/`already-cancelled` as the tables say;
 *   3. nothing changed: the jobs, pages and contacts tables, the executions and the Graph
 *      simulator's call count are identical before and after the run.
 * Safety by construction: no input may be a valid request that changes state. Every input carries
 * the flaws it was built with, and before anything is sent an independent judge replays what the
 * gateway and the handlers would see (route resolution by the emulator's own route table, token
 * verification with the local authorizer's verifier, the handlers' own body parser, the tables'
 * pages, jobs, job statuses and page locks): a drawn input that could start, cancel, pause,
 * resume, retry, connect or delete throws, unsent. Valid bodies are drawn only where they are
 * harmless: pause, resume and retry name a job of the organization in a status the route refuses
 * (the harness's COMPLETED job) or an unknown job, and a bulk cancel names pages with no sync
 * lock (duplicates and exactly 100 ids included) or `all` when the organization has none.
 */

/** Every route of the route table but the public OpenAPI document, by its name there. */
export const ROUTES = [
  'startSync',
  'cancelSync',
  'syncStatus',
  'syncJobs',
  'listPages',
  'connectPage',
  'disconnectPage',
  'pageContacts',
  'pauseSync',
  'resumeSync',
  'retrySync',
  'cancelSyncBulk',
] as const satisfies readonly ApiRouteName[];
export type RouteName = (typeof ROUTES)[number];
/** The routes that name a job and act on it by its status. */
type JobRoute = 'pauseSync' | 'resumeSync' | 'retrySync';
const JOB_ROUTES: readonly RouteName[] = ['pauseSync', 'resumeSync', 'retrySync'];
/**
 * Routes whose closest valid request is harmless by construction (a job the route refuses, an
 * unknown job, pages with no sync to stop): their valid bodies may be sent as they are.
 */
const HARMLESS_BASE: readonly RouteName[] = [...JOB_ROUTES, 'cancelSyncBulk'];

/**
 * The statuses in which each job route refuses a job (400, nothing written), as the contract says
 * (the OpenAPI document in shared/api/openapi.ts, docs/api.md "Pause, resume and retry"): pause takes only
 * PENDING or IN_PROGRESS (a PAUSED job is answered 200 as stored), resume only PAUSED, retry only
 * FAILED or CANCELLED (a retry starts a new job). Written out here rather than imported from the
 * code, so a handler that accepted more would be caught by the answer and the snapshot.
 */
const REFUSED: Record<JobRoute, readonly string[]> = {
  pauseSync: ['COMPLETED', 'FAILED', 'CANCELLED'],
  resumeSync: ['PENDING', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED'],
  retrySync: ['PENDING', 'IN_PROGRESS', 'PAUSED', 'COMPLETED'],
};

export const CATEGORIES = [
  'broken field',
  'odd id',
  'non-JSON body',
  'truncated JSON',
  'huge body',
  'deep JSON',
  'wrong content type',
  'odd headers',
  'odd query',
  'wrong-org token',
  'bad token',
  'wrong method or path',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** One drawn request, exactly as it goes on the wire. */
export interface HostileRequest {
  route: RouteName;
  category: Category;
  method: string;
  /** Path and query as sent (ASCII; nothing is normalized on our side). */
  path: string;
  /** In order, duplicates allowed. */
  headers: [string, string][];
  /** Built when sent, so big bodies are not all held at once. */
  body?: () => string | Buffer;
  /** Why this input cannot change state; empty only for a pure read. */
  flaws: string[];
  /** Short human description: what is odd about it. */
  notes: string[];
}

export interface HostileContext {
  /** Pages connected to the harness's organization (real targets). */
  pages: string[];
  /** Jobs of the harness's organization. */
  jobs: string[];
  /** The status of each of those jobs. */
  jobStatus: Record<string, string>;
  /** Those pages that hold a sync lock (`activeJobId`): a bulk cancel naming them would act. */
  lockedPages: string[];
  /** contactKey values (`org#platform#participant`) of those pages, for real and forged cursors. */
  contactKeys: string[];
  org: string;
  tokens: Record<TokenKind, string>;
}

export type TokenKind =
  | 'demo'
  | 'other'
  | 'expired'
  | 'wrongAudience'
  | 'wrongIssuer'
  | 'unsigned'
  | 'tampered'
  | 'foreignKey'
  | 'hs256'
  | 'emptyOrg';
const BAD_TOKENS: TokenKind[] = [
  'expired',
  'wrongAudience',
  'wrongIssuer',
  'unsigned',
  'tampered',
  'foreignKey',
  'hs256',
  'emptyOrg',
];

export interface HostileInputResult extends SectionResult {
  byCategory: Record<string, number>;
  byRoute: Record<string, number>;
  /** `<route> <status>` (status 0: no answer): how each route answered. */
  byStatus: Record<string, number>;
  /** Wall time of the requests alone (without the snapshots). */
  sendMs: number;
}

const KB = 1024;
const MAX_ANSWER_CHARS = 64 * KB;

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Percent-encodes the UTF-8 bytes of `s` except unreserved ASCII; never throws (lone surrogates become U+FFFD). */
export function pct(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A header value carrying the raw UTF-8 bytes of `s` (Node writes header strings as latin1); no control chars. */
const rawUtf8Header = (s: string) =>
  Buffer.from(s, 'utf8')
    .toString('latin1')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: header values may not carry them
    .replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '');

/** Printable, escaped (`\u202e`), truncated: safe to put in a violation line. */
export function show(value: string, max = 80): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    out +=
      code >= 0x20 && code < 0x7f
        ? ch
        : code <= 0xffff
          ? `\\u${code.toString(16).padStart(4, '0')}`
          : `\\u{${code.toString(16)}}`;
    if (out.length > max) return `${out.slice(0, max)}…(${value.length} chars)`;
  }
  return out;
}

const b64url = (s: string) => Buffer.from(s).toString('base64url');
const fullwidth = (digits: string) =>
  digits.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));
const arabicIndic = (digits: string) =>
  digits.replace(/[0-9]/g, (d) => String.fromCharCode(0x0660 + Number(d)));
const bearer = (token: string) => `Bearer ${token}`;
const tally = (keys: string[]) =>
  keys.reduce<Record<string, number>>((acc, k) => {
    acc[k] = (acc[k] ?? 0) + 1;
    return acc;
  }, {});

// ---------------------------------------------------------------------------------------------
// Drafts: a request under construction

interface Draft {
  route: RouteName;
  category: Category;
  method: string;
  path: string;
  query: string;
  auth: string[];
  contentType: string[];
  headers: [string, string][];
  json?: unknown;
  raw?: () => string | Buffer;
  bodyNote?: string;
  flaws: string[];
  notes: string[];
}

const methodOf = (route: RouteName) => API_ROUTES[route].method;
const isRead = (route: RouteName) => methodOf(route) === 'GET';
const isPost = (route: RouteName) => methodOf(route) === 'POST';
/** A route's path with `{pageId}` as given: already encoded, and possibly odd on purpose. */
const withPageId = (route: 'disconnectPage' | 'pageContacts', encodedId: string) =>
  API_ROUTES[route].path.replace('{pageId}', encodedId);

function finish(d: Draft): HostileRequest {
  const headers: [string, string][] = [];
  for (const a of d.auth) headers.push(['authorization', a]);
  for (const c of d.contentType) headers.push(['content-type', c]);
  headers.push(...d.headers);
  const json = d.json;
  const body = d.raw ?? (json === undefined ? undefined : () => JSON.stringify(json));
  const notes = [...d.notes];
  if (d.bodyNote) notes.push(`body ${d.bodyNote}`);
  else if (json !== undefined) notes.push(`body ${show(JSON.stringify(json), 90)}`);
  return {
    route: d.route,
    category: d.category,
    method: d.method,
    path: `${d.path}${d.query}`,
    headers,
    body,
    flaws: d.flaws,
    notes,
  };
}

// ---------------------------------------------------------------------------------------------
// Arbitraries derived from the request schemas (shared/schemas.ts)

type FieldKind =
  | 'numericId'
  | 'uuid'
  | 'reason'
  | 'pageName'
  | 'accessToken'
  | 'flag'
  | 'pageIds'
  | 'all'
  | 'mode';
interface FieldSpec {
  name: string;
  kind: FieldKind;
  required: boolean;
}
const JOB_ID_ONLY: FieldSpec[] = [{ name: 'jobId', kind: 'uuid', required: true }];
/** The fields of each POST route's body schema (all strict objects). */
const BODY_FIELDS: Record<
  'startSync' | 'cancelSync' | 'connectPage' | JobRoute | 'cancelSyncBulk',
  FieldSpec[]
> = {
  startSync: [
    { name: 'pageId', kind: 'numericId', required: true },
    { name: 'mode', kind: 'mode', required: false },
  ],
  cancelSync: [
    { name: 'jobId', kind: 'uuid', required: true },
    { name: 'reason', kind: 'reason', required: false },
    { name: 'cleanup', kind: 'flag', required: false },
  ],
  connectPage: [
    { name: 'pageId', kind: 'numericId', required: true },
    // Graph's name when absent.
    { name: 'pageName', kind: 'pageName', required: false },
    { name: 'accessToken', kind: 'accessToken', required: true },
    { name: 'instagramAccountId', kind: 'numericId', required: false },
  ],
  pauseSync: JOB_ID_ONLY,
  resumeSync: JOB_ID_ONLY,
  retrySync: JOB_ID_ONLY,
  // Exactly one of pageIds and all (a refinement): each is optional on its own.
  cancelSyncBulk: [
    { name: 'pageIds', kind: 'pageIds', required: false },
    { name: 'all', kind: 'all', required: false },
    { name: 'reason', kind: 'reason', required: false },
  ],
};
type PostRoute = keyof typeof BODY_FIELDS;
const BODY_SCHEMAS: Record<PostRoute, z.ZodObject> = {
  startSync: StartSyncBody,
  cancelSync: CancelSyncBody,
  connectPage: ConnectPageBody,
  pauseSync: PauseSyncBody,
  resumeSync: ResumeSyncBody,
  retrySync: RetrySyncBody,
  cancelSyncBulk: CancelBulkBody,
};

const validFor = (kind: 'numericId' | 'uuid', s: string) =>
  (kind === 'uuid' ? JobId : PageId).safeParse(s).success;

interface Broken {
  value: unknown;
  note: string;
}
const MISSING = Symbol('missing');

/** One of `values`, each noted as `note` tells. */
const brokenAs = <T>(values: T[], note: (value: T) => string): fc.Arbitrary<Broken> =>
  fc.constantFrom(...values).map((value) => ({ value, note: note(value) }));

/** Odd ids near a real one (or none at all); for `strict`, each is invalid even after the schema's trim. */
function oddIds(
  kind: 'numericId' | 'uuid',
  real: fc.Arbitrary<string>,
  strict: boolean,
): fc.Arbitrary<Broken> {
  const decorated = real.chain((id) => {
    const near: [string, string][] = [
      [`${id}\u200b`, 'zero-width space'],
      [`\u200d${id}`, 'zero-width joiner'],
      [`${id.slice(0, 4)}\u2060${id.slice(4)}`, 'word joiner inside'],
      [`\u202e${id}`, 'RTL override'],
      [`${id}\u200f`, 'RTL mark'],
      [`\u061c${id}`, 'arabic letter mark'],
      [`${id}😀`, 'emoji'],
      ['🔥'.repeat(8), 'emoji only'],
      [`../${id}`, '../'],
      [`${id}/../${id}`, '/../'],
      [`..%2F${id}`, 'encoded ../'],
      [`${id}%00`, '%00'],
      [`${id}\u0000`, 'NUL'],
      [`${id}' OR '1'='1`, 'SQL'],
      ['1; DROP TABLE pages; --', 'SQL'],
      [`${id}" OR ""="`, 'SQL'],
      ['{"$ne":null}', 'NoSQL'],
      ['{"$gt":""}', 'NoSQL'],
      ['[$ne]=1', 'NoSQL'],
      ["'; return true; var x='", 'NoSQL'],
      [`demo-org#messenger#${id}`, '#-key'],
      ['org#messenger#x', '#-key'],
      [`${id}#instagram`, '#-key'],
      ['x'.repeat(10_000), '10k chars'],
      [id.repeat(Math.ceil(10_000 / id.length)).slice(0, 10_000), '10k chars of the id'],
      [fullwidth(id), 'fullwidth digits'],
      [arabicIndic(id), 'arabic-indic digits'],
      [`${id.slice(0, 3)}\u0301${id.slice(3)}`, 'combining accent'],
      ['\ud800', 'lone surrogate'],
      [`${id}\ud83d`, 'lone high surrogate'],
      ['null', 'the word null'],
      ['undefined', 'the word undefined'],
      ['NaN', 'NaN'],
      ['<script>alert(1)</script>', 'markup'],
      ['\u0024{jndi:ldap://x/a}', 'template injection'],
      ['*', 'wildcard'],
      ['%', 'bare %'],
      ['\\', 'backslash'],
      ['..', 'dot-dot'],
      ['-1', 'negative'],
      ['1e3', 'exponent'],
      ['0x1F', 'hex'],
    ];
    if (kind === 'uuid') {
      near.push(
        [id.replace(/-/g, ''), 'uuid without dashes'],
        [`{${id}}`, 'uuid in braces'],
        [`urn:uuid:${id}`, 'urn'],
        [`${id.slice(0, -1)}g`, 'non-hex uuid'],
        [id.replace(/a/g, '\u0430'), 'cyrillic a'],
      );
    }
    if (!strict) near.push([`\ufeff${id}`, 'BOM (trimmed)'], [`${id}\u00a0`, 'NBSP (trimmed)']);
    return fc.constantFrom(...near).map(([value, note]) => ({ value, note: `odd id: ${note}` }));
  });
  const random = fc
    .oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
    )
    .filter((s) => !validFor(kind, s))
    .map((value) => ({ value, note: 'odd id: random unicode' }));
  return fc.oneof({ arbitrary: decorated, weight: 4 }, { arbitrary: random, weight: 1 });
}

/** One field of a valid body, broken in one way the schema rejects. */
function breakField(field: FieldSpec, valid: unknown, ctx: HostileContext): fc.Arbitrary<Broken> {
  if (field.kind === 'pageIds') return brokenPageIds(ctx);
  if (field.kind === 'all')
    // Only the literal true is valid: false, a string or number that looks like it, anything else.
    return brokenAs<unknown>(
      [false, 'true', 'false', 1, 0, '', null, [true], {}, { $ne: false }],
      (value) => `${show(JSON.stringify(value), 20)} instead of true`,
    );
  const options: fc.Arbitrary<Broken>[] = [
    fc
      .oneof(
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        // A boolean is the right type for a flag: a string that looks like one is not.
        field.kind === 'flag' ? fc.constantFrom('true', 'false', '1', 'yes') : fc.boolean(),
      )
      .map((value) => ({ value, note: `wrong type (${typeof value})` })),
    fc.constant({ value: null, note: 'null' }),
    fc.constant({ value: [valid], note: 'array instead of string' }),
    fc.constant({ value: [], note: 'empty array' }),
    brokenAs<unknown>(
      [{ $ne: null }, { $gt: '' }, { S: String(valid) }, {}, { toString: 'x' }],
      (value) => `object instead of string ${show(JSON.stringify(value), 30)}`,
    ),
  ];
  if (field.required) {
    options.push(
      fc.constant({ value: '', note: 'empty' }),
      brokenAs([' ', '\t\n ', '\u3000'], () => 'blank'),
      fc.constant({ value: MISSING, note: 'missing' }),
    );
  }
  const long = (min: number, max: number, char = 'x') =>
    fc.integer({ min, max }).map((n) => ({ value: char.repeat(n), note: `too long (${n} chars)` }));
  /** What else breaks a field of each kind. */
  const byKind: Partial<Record<FieldSpec['kind'], () => fc.Arbitrary<Broken>[]>> = {
    numericId: () => [
      long(33, 64, '9'),
      long(10_000, 10_000, '7'),
      brokenAs(
        ['-1', '1.5', '1e5', '0x1F', '+1', '12 34', '１２３', '١٢٣', '9'.repeat(33)],
        (value) => `out of range / not numeric: ${show(value, 20)}`,
      ),
      oddIds('numericId', fc.constantFrom(...ctx.pages), true),
    ],
    uuid: () => [long(10_000, 10_000, 'f'), oddIds('uuid', fc.uuid(), true)],
    reason: () => [long(501, 3000, 'r'), long(10_000, 10_000, 'é')],
    mode: () => [
      brokenAs(
        ['', 'Full', 'FULL', 'partial', ' incremental', 'incremental ', 'full\u0000', 'ｆｕｌｌ'],
        (value) => `not a mode: ${show(JSON.stringify(value), 20)}`,
      ),
    ],
    pageName: () => [long(201, 1000, 'n'), long(10_000, 10_000, 'ü')],
    accessToken: () => [
      long(2049, 2200, 'T'),
      fc.integer({ min: 1, max: 19 }).map((n) => ({ value: 'A'.repeat(n), note: `too short (${n})` })),
      brokenAs(
        ['token with spaces in it', 'EAAB<script>alert(1)</script>', 'EAAB"quote"xxxxxxxxxxxx'],
        () => 'invalid characters',
      ),
      fc.constant({ value: `EAAB${'🔑'.repeat(20)}`, note: 'emoji characters' }),
    ],
  };
  options.push(...(byKind[field.kind]?.() ?? []));
  return fc.oneof(...options);
}

/**
 * pageIds broken in one way (duplicates are not a breakage: the schema allows them, the handler
 * answers each page once): empty, over MAX_BULK_CANCEL ids, a member that is not a string or not
 * a numeric id, or not an array at all.
 */
function brokenPageIds(ctx: HostileContext): fc.Arbitrary<Broken> {
  const page = fc.constantFrom(...ctx.pages);
  const ids = fc.array(page, { minLength: 0, maxLength: 4 });
  const withMember = (member: fc.Arbitrary<Broken>) =>
    fc.tuple(ids, member, fc.nat()).map(([list, bad, at]) => ({
      value: insertAt(list, bad.value, at),
      note: `member ${bad.note}`,
    }));
  return fc.oneof(
    fc.constant({ value: [], note: 'empty array' }),
    fc.integer({ min: MAX_BULK_CANCEL + 1, max: 3 * MAX_BULK_CANCEL }).map((n) => ({
      value: [
        ...ctx.pages,
        ...Array.from({ length: n - ctx.pages.length }, (_, i) => String(9_100_000_000 + i)),
      ],
      note: `${n} ids (at most ${MAX_BULK_CANCEL})`,
    })),
    fc.constant({
      value: Array.from({ length: MAX_BULK_CANCEL + 1 }, (_, i) => ctx.pages[i % ctx.pages.length]),
      note: `${MAX_BULK_CANCEL + 1} ids, all real and repeated`,
    }),
    withMember(
      brokenAs<unknown>(
        [123, Number(ctx.pages[0]), null, true, {}, [ctx.pages[0]], { $ne: null }],
        (value) => `${show(JSON.stringify(value), 30)} (not a string)`,
      ),
    ),
    withMember(
      fc.oneof(
        oddIds('numericId', page, true),
        brokenAs(['', ' ', '\u3000'], () => 'blank'),
        fc.constant({ value: '9'.repeat(33), note: '33 digits' }),
      ),
    ),
    page.chain((id) =>
      fc
        .constantFrom<[unknown, string]>(
          [id, 'a string instead of an array'],
          [`${id},${id}`, 'a comma list instead of an array'],
          [{ 0: id }, 'an object instead of an array'],
          [Number(id), 'a number instead of an array'],
          [true, 'a boolean instead of an array'],
          [null, 'null'],
        )
        .map(([value, note]) => ({ value, note })),
    ),
  );
}

const insertAt = <T>(list: T[], item: unknown, at: number): unknown[] => {
  const i = at % (list.length + 1);
  return [...list.slice(0, i), item, ...list.slice(i)];
};

/** Jobs of the organization that `route` refuses (400): safe to name in a valid request. */
const refusedJobs = (route: JobRoute, ctx: HostileContext) =>
  ctx.jobs.filter((id) => REFUSED[route].includes(ctx.jobStatus[id] ?? ''));
/** A refused job of the organization, or a random (unknown) one. */
function harmlessJobId(route: JobRoute, ctx: HostileContext): fc.Arbitrary<string> {
  const refused = refusedJobs(route, ctx);
  return refused.length ? fc.oneof(fc.constantFrom(...refused), fc.uuid()) : fc.uuid();
}

/** Why a valid body of a HARMLESS_BASE route changes nothing (its flaw, checked again by the judge). */
function harmlessBecause(route: RouteName, body: Record<string, unknown>, ctx: HostileContext): string {
  if (route === 'cancelSyncBulk')
    return body.all ? 'no sync active in the organization' : 'no sync active on the pages named';
  const status = ctx.jobStatus[String(body.jobId)];
  return status ? `job ${status}: ${route.slice(10)} refused` : 'no such job';
}

function validBody(route: PostRoute, ctx: HostileContext): fc.Arbitrary<Record<string, unknown>> {
  const realPage = fc.constantFrom(...ctx.pages);
  switch (route) {
    case 'startSync':
      return fc
        .record(
          { pageId: realPage, mode: fc.constantFrom('incremental', 'full') },
          { requiredKeys: ['pageId'] },
        )
        .map((body) => ({ ...body }));
    case 'cancelSync':
      return fc
        .record(
          {
            jobId: ctx.jobs.length ? fc.oneof(fc.constantFrom(...ctx.jobs), fc.uuid()) : fc.uuid(),
            reason: fc.string({ maxLength: 120 }),
            cleanup: fc.boolean(),
          },
          { requiredKeys: ['jobId'] },
        )
        .map((body) => ({ ...body }));
    case 'connectPage':
      return fc
        .record(
          {
            pageId: fc.stringMatching(/^[1-9][0-9]{5,20}$/).filter((id) => !ctx.pages.includes(id)),
            pageName: fc.string({ minLength: 1, maxLength: 60 }).filter((s) => s.trim() !== ''),
            accessToken: fc.stringMatching(/^[A-Za-z0-9_|.-]{20,80}$/),
            instagramAccountId: fc.stringMatching(/^[0-9]{5,17}$/),
          },
          { requiredKeys: ['pageId', 'accessToken'] },
        )
        .map((body) => ({ ...body }));
    case 'pauseSync':
    case 'resumeSync':
    case 'retrySync':
      return harmlessJobId(route, ctx).map((jobId) => ({ jobId }));
    case 'cancelSyncBulk': {
      // Pages without a sync lock, and ids of no connected page; duplicates included (valid).
      const idle = ctx.pages.filter((id) => !ctx.lockedPages.includes(id));
      const unknown = fc.stringMatching(/^[1-9][0-9]{5,20}$/).filter((id) => !ctx.pages.includes(id));
      const pageId = idle.length ? fc.oneof(fc.constantFrom(...idle), unknown) : unknown;
      const reason = fc.string({ maxLength: 120 });
      const pageIds = fc.oneof(
        { arbitrary: fc.array(pageId, { minLength: 1, maxLength: 5 }), weight: 4 },
        fc.array(pageId, { minLength: MAX_BULK_CANCEL, maxLength: MAX_BULK_CANCEL }),
      );
      const bodies = [
        fc.record({ pageIds, reason }, { requiredKeys: ['pageIds'] }),
        ...(ctx.lockedPages.length
          ? []
          : [fc.record({ all: fc.constant(true), reason }, { requiredKeys: ['all'] })]),
      ];
      return fc.oneof(...bodies).map((body) => ({ ...body }) as Record<string, unknown>);
    }
  }
}

/** A route's body, broken in the way `note` tells: a JSON value, or raw text. */
interface BrokenBody {
  json?: unknown;
  raw?: string;
  note: string;
}

/** `d` sending the broken body `b`, its note a flaw of the request. */
const withBrokenBody = (d: Draft, b: BrokenBody): Draft => ({
  ...d,
  json: b.json,
  raw: b.raw === undefined ? undefined : () => b.raw as string,
  bodyNote: b.raw === undefined ? undefined : show(b.raw, 60),
  flaws: [...d.flaws, b.note],
  notes: [...d.notes, b.note],
});

/** A valid body of the route with one field broken (or an extra key, or a duplicate key). */
function brokenBody(route: PostRoute, ctx: HostileContext): fc.Arbitrary<BrokenBody> {
  const fields = BODY_FIELDS[route];
  const oneField = fc.tuple(validBody(route, ctx), fc.constantFrom(...fields)).chain(([body, field]) =>
    breakField(field, body[field.name] ?? 'x', ctx).map((broken) => {
      const copy: Record<string, unknown> = { ...body };
      if (broken.value === MISSING) delete copy[field.name];
      else copy[field.name] = broken.value;
      return { json: copy, note: `${field.name}: ${broken.note}` };
    }),
  );
  const extraKey = fc
    .tuple(
      validBody(route, ctx),
      fc.constantFrom<[string, unknown]>(
        ['organizationId', 'other-org'],
        ['status', 'COMPLETED'],
        ['__proto__', { isAdmin: true }],
        ['constructor', { prototype: { isAdmin: true } }],
        ['isAdmin', true],
        ['', 'empty key'],
        ['pageId\u200b', '1'],
        ['syncedContacts', 1e9],
        ['$where', '1==1'],
      ),
    )
    .map(([body, [key, value]]) => {
      // A computed key: `__proto__` becomes an own property, as JSON.parse makes it on the server.
      const copy = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
      Object.defineProperty(copy, key, { value, enumerable: true, configurable: true, writable: true });
      return { json: copy, note: `extra key ${show(key, 20)}` };
    });
  // Duplicate keys: JSON.parse keeps the last one, which is the broken one.
  const duplicate = fc
    .tuple(validBody(route, ctx), fc.constantFrom(...fields.filter((f) => f.kind !== 'reason')))
    .map(([body, field]) => {
      const text = JSON.stringify(body);
      const raw = `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}"${field.name}":["x"]}`;
      return { raw, note: `duplicate key ${field.name}, the last one broken` };
    });
  if (route !== 'cancelSyncBulk')
    return fc.oneof({ arbitrary: oneField, weight: 6 }, { arbitrary: extraKey, weight: 2 }, duplicate);
  // The refinement: exactly one of pageIds and all.
  const shape = fc
    .tuple(
      fc.array(fc.constantFrom(...ctx.pages), { minLength: 1, maxLength: 3 }),
      fc.string({ maxLength: 20 }),
    )
    .chain(([pageIds, reason]) =>
      fc.constantFrom<[Record<string, unknown>, string]>(
        [{ pageIds, all: true }, 'both pageIds and all'],
        [{ pageIds, all: true, reason }, 'both pageIds and all, with a reason'],
        [{ pageIds: [], all: true }, 'all with an empty pageIds'],
        [{}, 'neither pageIds nor all'],
        [{ reason }, 'a reason only'],
        [{ pageIds, all: false }, 'pageIds with all false'],
        [{ all: false }, 'all false alone'],
      ),
    )
    .map(([json, note]) => ({ json, note }));
  return fc.oneof(
    { arbitrary: oneField, weight: 6 },
    { arbitrary: shape, weight: 3 },
    { arbitrary: extraKey, weight: 2 },
    duplicate,
  );
}

// ---------------------------------------------------------------------------------------------
// Per-category mutations

const JSON_CT = 'application/json';
const WRONG_CONTENT_TYPES = [
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'text/html',
  'application/octet-stream',
  'application/jsonx',
  'application/json5',
  'application/x-json',
  'text/json',
  'application/ json',
  'json',
  '*/*',
  '',
];
/** Odd but accepted JSON content types: only ever sent with a body broken otherwise. */
const ODD_JSON_CONTENT_TYPES = [
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/merge-patch+json',
  'application/json;;;',
];

/** The key of a route's body and a valid value for it, for the non-JSON variants of that body. */
function keyValue(route: RouteName, ctx: HostileContext): [string, unknown] {
  if (route === 'cancelSyncBulk') return ['pageIds', ctx.pages.slice(0, 2)];
  if (JOB_ROUTES.includes(route))
    return ['jobId', refusedJobs(route as JobRoute, ctx)[0] ?? '00000000-0000-4000-8000-000000000000'];
  return ['pageId', ctx.pages[0] ?? '1'];
}

function nonJsonBodies(
  route: RouteName,
  ctx: HostileContext,
): fc.Arbitrary<{ raw: () => string | Buffer; note: string }> {
  const [key, value] = keyValue(route, ctx);
  const plain = String(value);
  const v = JSON.stringify(value);
  const valid = `{"${key}":${v}}`;
  const texts: [string, string][] = [
    [`${key}=${plain}`, 'form-encoded'],
    [`<request><${key}>${plain}</${key}></request>`, 'XML'],
    ['hello', 'plain text'],
    ['undefined', 'undefined'],
    ['NaN', 'NaN'],
    [`{'${key}': ${v.replace(/"/g, "'")}}`, 'single quotes'],
    [`{${key}: ${plain}}`, 'unquoted key'],
    [`{"${key}": ${v},}`, 'trailing comma'],
    [`{"${key}": ${v} /* comment */}`, 'comment'],
    [`\ufeff${valid}`, 'BOM before JSON'],
    [`${valid}${valid}`, 'two JSON values'],
    [`${valid}garbage`, 'trailing garbage'],
    ['"a string"', 'JSON string'],
    ['12345', 'JSON number'],
    ['null', 'JSON null'],
    ['true', 'JSON true'],
    ['[]', 'JSON array'],
    [`[${valid}]`, 'array of a valid body'],
    ['   \n\t  ', 'whitespace only'],
    [`{"${key}":"\\ud800"}`, 'escaped lone surrogate'],
    [`{"${key}":"\\u0000"}`, 'escaped NUL'],
  ];
  return fc.oneof(
    fc.constantFrom(...texts).map(([text, note]) => ({ raw: () => text, note: `not JSON: ${note}` })),
    fc
      .uint8Array({ minLength: 1, maxLength: 512 })
      .map((bytes) => ({ raw: () => Buffer.from(bytes), note: `not JSON: ${bytes.length} random bytes` })),
    fc.constant({
      raw: () => Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x22, 0x00]),
      note: 'not JSON: invalid UTF-8',
    }),
    fc.constant({
      raw: () => Buffer.from(valid, 'utf16le'),
      note: 'not JSON: UTF-16LE encoded',
    }),
  );
}

function hugeBodies(
  route: RouteName,
  ctx: HostileContext,
): fc.Arbitrary<{ raw: () => string; note: string }> {
  const real = ctx.pages[0] ?? '1';
  const valid =
    route === 'cancelSync'
      ? `{"jobId":"${ctx.jobs[0] ?? '00000000-0000-4000-8000-000000000000'}"}`
      : route === 'connectPage'
        ? `{"pageId":"1${real}","pageName":"x","accessToken":"${'A'.repeat(24)}"}`
        : HARMLESS_BASE.includes(route)
          ? `{${keyValue(route, ctx)
              .map((x) => JSON.stringify(x))
              .join(':')}}`
          : `{"pageId":"${real}"}`;
  const arrayKey = route === 'cancelSyncBulk' ? 'pageIds' : 'pageId';
  const size = fc.oneof(
    { arbitrary: fc.integer({ min: 16 * KB + 1, max: 256 * KB }), weight: 9 },
    { arbitrary: fc.integer({ min: 1024 * KB + 1, max: 3 * 1024 * KB }), weight: 1 },
  );
  const shape = fc.constantFrom('whitespace padding', 'huge string field', 'huge array', 'huge key count');
  return fc.tuple(size, shape).map(([n, kind]) => {
    const make = (): string => {
      switch (kind) {
        case 'whitespace padding':
          return valid + ' '.repeat(n);
        case 'huge string field':
          return `${valid.slice(0, -1)},"reason":"${'r'.repeat(n)}"}`;
        case 'huge array':
          return `{"${arrayKey}":[${'"1",'.repeat(Math.ceil(n / 4))}"1"]}`;
        default:
          return `{${Array.from({ length: Math.ceil(n / 8) }, (_, i) => `"k${i}":1`).join(',')}}`;
      }
    };
    return { raw: make, note: `over 16 KB (${Math.round(n / KB)} KB, ${kind})` };
  });
}

function deepBodies(): fc.Arbitrary<{ raw: () => string; note: string }> {
  return fc
    .constantFrom<[() => string, string]>(
      [() => `{"pageId":${'['.repeat(10_000)}"1"${']'.repeat(10_000)}}`, 'arrays depth 10,000 (20 KB)'],
      [() => `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, 'objects depth 10,000'],
      [() => '['.repeat(10_000), 'unclosed arrays depth 10,000'],
      [() => `${'['.repeat(8000)}${']'.repeat(8000)}`, 'arrays depth 8,000 (under 16 KB)'],
      [() => `{"pageId":${'['.repeat(8100)}${']'.repeat(8100)}}`, 'pageId nested 8,100 deep (under 16 KB)'],
      [() => `${'{"x":'.repeat(2700)}null${'}'.repeat(2700)}`, 'objects depth 2,700 (under 16 KB)'],
    )
    .map(([raw, note]) => ({ raw, note: `deep JSON: ${note}` }));
}

interface OddHeaders {
  headers: [string, string][];
  auth?: string[];
  contentType?: string[];
  note: string;
}

function oddHeaders(ctx: HostileContext): fc.Arbitrary<OddHeaders> {
  const size = fc.constantFrom(1 * KB, 8 * KB, 12 * KB, 20 * KB, 64 * KB);
  return fc.oneof<fc.Arbitrary<OddHeaders>[]>(
    size.map((n) => ({
      headers: [['x-long', 'a'.repeat(n)]] as [string, string][],
      note: `header value of ${n / KB} KB`,
    })),
    size.map((n) => ({
      headers: [['idempotency-key', 'k'.repeat(n)]] as [string, string][],
      note: `Idempotency-Key of ${n / KB} KB`,
    })),
    fc.constantFrom(50, 200, 1000, 2500).map((n) => ({
      headers: Array.from({ length: n }, (_, i) => [`x-h-${i}`, `v${i}`] as [string, string]),
      note: `${n} extra headers`,
    })),
    fc.constantFrom<TokenKind>(...BAD_TOKENS).map((kind) => ({
      headers: [],
      auth: [bearer(ctx.tokens[kind]), bearer(ctx.tokens.demo)],
      note: `two Authorization headers (${kind} first)`,
    })),
    fc.constant<OddHeaders>({
      headers: [],
      auth: [bearer(ctx.tokens.demo), bearer(ctx.tokens.other)],
      note: 'two Authorization headers (demo, other org)',
    }),
    fc.constantFrom(...WRONG_CONTENT_TYPES).map((ct) => ({
      headers: [],
      contentType: [JSON_CT, ct],
      note: `two Content-Type headers (json, ${show(ct, 30)})`,
    })),
    fc
      .constantFrom<[string, string][]>(
        [['x-unicode', rawUtf8Header('héllo \u202e مرحبا 😀 \u200b')]],
        [['idempotency-key', rawUtf8Header('ключ-😀-\u202e')]],
        [['idempotency-key', '../../etc/passwd']],
        [['idempotency-key', '']],
        [
          ['idempotency-key', 'a'],
          ['idempotency-key', 'b'],
        ],
        [['x-http-method-override', 'DELETE']],
        [['x-forwarded-for', '../../, 127.0.0.1, ::1, 999.999.999.999']],
        [['origin', 'null']],
        [['origin', 'https://evil.example']],
        [['cookie', 'a=1; __proto__=x; ;;;=;']],
        [['content-encoding', 'gzip']],
        [['accept', 'text/html;q=0, */*;q=0']],
        [
          ['x-amz-security-token', 'x'],
          ['x-amzn-requestid', '../'],
        ],
        [['user-agent', rawUtf8Header('Mozilla/5.0 \u0000 😀')]],
        [
          ['x-org-id', 'other-org'],
          ['x-user-id', 'admin'],
        ],
      )
      .map((headers) => ({
        headers,
        note: `odd headers ${show(headers.map(([k, v]) => `${k}: ${v}`).join('; '), 50)}`,
      })),
  );
}

/** `replace`: the query replaces the route's own (`?jobId=`/`?pageId=`) instead of following it. */
interface OddQuery {
  query: string;
  note: string;
  replace?: boolean;
}

function oddQueries(route: RouteName, ctx: HostileContext): fc.Arbitrary<OddQuery> {
  const page = fc.constantFrom(...ctx.pages);
  const job = ctx.jobs.length ? fc.oneof(fc.constantFrom(...ctx.jobs), fc.uuid()) : fc.uuid();
  const contactKey = fc.constantFrom(
    ...(ctx.contactKeys.length ? ctx.contactKeys : [`${ctx.org}#messenger#1`]),
  );
  const cursor = fc.oneof(
    contactKey.map((k) => [b64url(JSON.stringify({ k })), 'real cursor']),
    fc
      .constantFrom(
        `${ctx.org}#messenger#\ud800`,
        `${ctx.org}#messenger#${'x'.repeat(129)}`,
        `${ctx.org}#messenger#${'😀'.repeat(64)}`,
        `${ctx.org}#instagram#\u0000`,
        `${ctx.org}#messenger#x`,
        'other-org#messenger#x',
        'org#messenger#x',
        `${ctx.org}#twitter#x`,
        `${ctx.org}##`,
      )
      .map((k) => [b64url(JSON.stringify({ k })), `forged cursor k=${show(k, 30)}`]),
    fc
      .constantFrom<unknown>({ k: 1 }, { k: null }, { k: [`${ctx.org}#messenger#x`] }, [], 'x', { K: 'x' })
      .map((v) => [b64url(JSON.stringify(v)), `forged cursor ${show(JSON.stringify(v), 30)}`]),
    fc
      .constantFrom('!!!', '%', '%ZZ', 'x'.repeat(1025), 'y'.repeat(10_000), '\u0000', '..%2F..', 'e30')
      .map((c) => [c, `odd cursor ${show(c, 20)}`]),
  ) as fc.Arbitrary<[string, string]>;
  const limit = fc.constantFrom(
    '-1',
    '0',
    '101',
    '1e2',
    '1.5',
    'NaN',
    'Infinity',
    '0x10',
    ' 5',
    '9'.repeat(400),
    '',
    '１０',
  );
  const protoKeys = fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'prototype',
  );
  const common: fc.Arbitrary<OddQuery>[] = [
    protoKeys.map((k) => ({ query: `${k}=1&${k}=2`, note: `prototype key ${k}` })),
    fc.constantFrom('&&&', '=', '==&=', '?', '%00=%00', '%=%', 'a[b][c]=1', '+=+').map((q) => ({
      query: q,
      note: `odd query ${q}`,
    })),
    fc.constantFrom(100, 600).map((n) => ({
      query: Array.from({ length: n }, (_, i) => `p${i}=${i}`).join('&'),
      note: `${n} params`,
    })),
    fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 30 })
      .map((s) => ({ query: `${pct(s)}=${pct(s)}`, note: `unicode key and value ${show(s, 20)}` })),
  ];
  const specific: fc.Arbitrary<OddQuery>[] = [];
  switch (route) {
    case 'syncStatus':
      specific.push(
        fc
          .tuple(job, fc.uuid())
          .map(([a, b]) => ({ query: `jobId=${a}&jobId=${b}`, note: 'repeated jobId', replace: true })),
        job.map((a) => ({ query: `jobId[]=${a}`, note: 'jobId[] array form', replace: true })),
        job.map((a) => ({
          query: `jobId[0]=${a}&jobId[1]=${a}`,
          note: 'jobId[n] array form',
          replace: true,
        })),
        job.map((a) => ({ query: `jobId=${a},${a}`, note: 'comma list', replace: true })),
        job.map((a) => ({ query: `JOBID=${a}`, note: 'key in upper case', replace: true })),
        fc.constant({ query: 'jobId', note: 'key without value', replace: true }),
      );
      break;
    case 'syncJobs':
      specific.push(
        fc
          .tuple(page, page)
          .map(([a, b]) => ({ query: `pageId=${a}&pageId=${b}`, note: 'repeated pageId', replace: true })),
        page.map((a) => ({ query: `pageId[]=${a}`, note: 'pageId[] array form', replace: true })),
        fc.tuple(page, limit).map(([a, l]) => ({
          query: `pageId=${a}&limit=${pct(l)}`,
          note: `limit=${show(l, 12)}`,
          replace: true,
        })),
        page.map((a) => ({ query: `pageId=${a}&limit=1&limit=2`, note: 'repeated limit', replace: true })),
      );
      break;
    case 'pageContacts':
      specific.push(
        limit.map((l) => ({ query: `limit=${pct(l)}`, note: `limit=${show(l, 12)}` })),
        cursor.map(([c, note]) => ({ query: `cursor=${pct(c)}`, note })),
        fc
          .tuple(cursor, cursor)
          .map(([[a], [b]]) => ({ query: `cursor=${pct(a)}&cursor=${pct(b)}`, note: 'two cursors' })),
        fc.constant({ query: 'limit=1&limit=2', note: 'repeated limit' }),
      );
      break;
    default:
      break;
  }
  return fc.oneof(...common, ...specific);
}

// ---------------------------------------------------------------------------------------------
// The generator

/** The "closest valid" request of a route, before it is made hostile. */
function baseDraft(route: RouteName, category: Category, ctx: HostileContext): fc.Arbitrary<Draft> {
  const make = (d: Partial<Draft> & { path: string }): Draft => ({
    route,
    category,
    method: methodOf(route),
    query: '',
    auth: [bearer(ctx.tokens.demo)],
    contentType: [],
    headers: [],
    flaws: [],
    notes: [],
    ...d,
  });
  const realPage = fc.constantFrom(...ctx.pages);
  const job = ctx.jobs.length ? fc.oneof(fc.constantFrom(...ctx.jobs), fc.uuid()) : fc.uuid();
  switch (route) {
    case 'startSync':
    case 'cancelSync':
    case 'connectPage':
    case 'pauseSync':
    case 'resumeSync':
    case 'retrySync':
    case 'cancelSyncBulk':
      return validBody(route, ctx).map((json) =>
        make({
          path: API_ROUTES[route].path,
          contentType: [JSON_CT],
          json,
          flaws: HARMLESS_BASE.includes(route) ? [harmlessBecause(route, json, ctx)] : [],
        }),
      );
    case 'disconnectPage':
      return realPage.map((id) => make({ path: withPageId('disconnectPage', id) }));
    case 'syncStatus':
      return job.map((id) => make({ path: API_ROUTES.syncStatus.path, query: `?jobId=${id}` }));
    case 'syncJobs':
      return realPage.map((id) => make({ path: API_ROUTES.syncJobs.path, query: `?pageId=${id}` }));
    case 'listPages':
      return fc.constant(make({ path: API_ROUTES.listPages.path }));
    case 'pageContacts':
      return realPage.map((id) => make({ path: withPageId('pageContacts', id) }));
  }
}

/**
 * A second flaw for inputs whose own oddity cannot be trusted to stop a state change (odd headers,
 * a body on a DELETE): for POST routes a broken field or a forged token, for DELETE an odd id or a
 * token of another organization.
 */
function withGuaranteedFlaw(d: Draft, ctx: HostileContext): fc.Arbitrary<Draft> {
  if (isRead(d.route)) return fc.constant(d);
  if (isPost(d.route)) {
    return fc.oneof(
      brokenBody(d.route as PostRoute, ctx).map((b) => withBrokenBody(d, b)),
      fc.constantFrom<TokenKind>(...BAD_TOKENS).map((kind) => ({
        ...d,
        auth: d.auth.length > 1 ? d.auth.map(() => bearer(ctx.tokens[kind])) : [bearer(ctx.tokens[kind])],
        flaws: [...d.flaws, `token ${kind}`],
        notes: [...d.notes, `token ${kind}`],
      })),
    );
  }
  return fc.oneof(
    oddIds('numericId', fc.constantFrom(...ctx.pages), true).map((odd) => ({
      ...d,
      path: withPageId('disconnectPage', pct(String(odd.value))),
      flaws: [...d.flaws, odd.note],
      notes: [...d.notes, `id ${show(String(odd.value), 40)}`],
    })),
    fc.constant<Draft>({
      ...d,
      auth: d.auth.map(() => bearer(ctx.tokens.other)),
      flaws: [...d.flaws, 'token of another org'],
      notes: [...d.notes, 'token of another org'],
    }),
  );
}

/** The methods the route's path does not serve (another route may share its path). */
const wrongMethods = (route: RouteName): string[] =>
  ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter(
    (method) =>
      !Object.values(API_ROUTES).some(
        (other) => other.path === API_ROUTES[route].path && other.method === method,
      ),
  );

function categoriesOf(route: RouteName): Category[] {
  const all: Category[] = [
    'odd headers',
    'wrong-org token',
    'bad token',
    'wrong method or path',
    'huge body',
  ];
  if (isPost(route))
    all.push('broken field', 'odd id', 'non-JSON body', 'truncated JSON', 'deep JSON', 'wrong content type');
  if (route === 'disconnectPage') all.push('odd id', 'non-JSON body');
  if (isRead(route)) all.push('odd query', 'non-JSON body');
  // A query string is ignored by the POST handlers: only where the valid body is harmless.
  if (HARMLESS_BASE.includes(route)) all.push('odd query');
  if (isRead(route) && route !== 'listPages') all.push('odd id');
  return all;
}

function hostileDraft(route: RouteName, category: Category, ctx: HostileContext): fc.Arbitrary<Draft> {
  const base = baseDraft(route, category, ctx);
  const add = (d: Draft, flaw: string | null, note: string, patch: Partial<Draft> = {}): Draft => ({
    ...d,
    ...patch,
    flaws: flaw ? [...d.flaws, flaw] : d.flaws,
    notes: [...d.notes, note],
  });
  switch (category) {
    case 'broken field':
      return fc.tuple(base, brokenBody(route as PostRoute, ctx)).map(([d, b]) => withBrokenBody(d, b));
    case 'odd id': {
      if (route === 'cancelSyncBulk') {
        // An odd id among real ones in pageIds (with all dropped: the odd id is the only flaw).
        const page = fc.constantFrom(...ctx.pages);
        return fc
          .tuple(base, fc.array(page, { maxLength: 4 }), oddIds('numericId', page, true), fc.nat())
          .map(([d, list, odd, at]) => {
            const { all: _, ...rest } = d.json as Record<string, unknown>;
            return add(d, `pageIds member: ${odd.note}`, `pageIds member: ${odd.note}`, {
              json: { ...rest, pageIds: insertAt(list, odd.value, at) },
            });
          });
      }
      if (isPost(route)) {
        const fields = BODY_FIELDS[route as PostRoute].filter(
          (f) => f.kind === 'numericId' || f.kind === 'uuid',
        );
        return fc.tuple(base, fc.constantFrom(...fields)).chain(([d, field]) =>
          oddIds(
            field.kind as 'numericId' | 'uuid',
            field.kind === 'uuid' ? fc.uuid() : fc.constantFrom(...ctx.pages),
            true,
          ).map((odd) =>
            add(d, `${field.name}: ${odd.note}`, `${field.name}: ${odd.note}`, {
              json: { ...(d.json as object), [field.name]: odd.value },
            }),
          ),
        );
      }
      const strict = !isRead(route);
      const kind = route === 'syncStatus' ? 'uuid' : 'numericId';
      const real =
        kind === 'uuid'
          ? ctx.jobs.length
            ? fc.constantFrom(...ctx.jobs)
            : fc.uuid()
          : fc.constantFrom(...ctx.pages);
      return fc.tuple(base, oddIds(kind, real, strict)).map(([d, odd]) => {
        const id = pct(String(odd.value));
        const where =
          route === 'syncStatus'
            ? { query: `?jobId=${id}` }
            : route === 'syncJobs'
              ? { query: `?pageId=${id}` }
              : route === 'disconnectPage'
                ? { path: withPageId('disconnectPage', id) }
                : { path: withPageId('pageContacts', id) };
        return add(d, strict ? odd.note : null, `${odd.note} ${show(String(odd.value), 30)}`, where);
      });
    }
    case 'non-JSON body':
      return fc
        .tuple(
          base,
          nonJsonBodies(route, ctx),
          fc.constantFrom(
            JSON_CT,
            ...ODD_JSON_CONTENT_TYPES,
            'text/plain',
            'application/x-www-form-urlencoded',
          ),
        )
        .chain(([d, b, ct]) => {
          const next = add(d, isPost(route) ? b.note : null, `${b.note}, content-type ${show(ct, 30)}`, {
            json: undefined,
            raw: b.raw,
            bodyNote: b.note,
            contentType: [ct],
          });
          return route === 'disconnectPage' ? withGuaranteedFlaw(next, ctx) : fc.constant(next);
        });
    case 'truncated JSON':
      return base.chain((d) => {
        const text = JSON.stringify(d.json);
        return fc.integer({ min: 1, max: text.length - 1 }).map((cut) =>
          add(
            d,
            `truncated at ${cut} of ${text.length} chars`,
            `truncated JSON ${show(text.slice(0, cut), 50)}`,
            {
              json: undefined,
              raw: () => text.slice(0, cut),
              bodyNote: show(text.slice(0, cut), 50),
            },
          ),
        );
      });
    case 'huge body':
      return fc.tuple(base, hugeBodies(route, ctx)).chain(([d, b]) => {
        const next = add(d, isPost(route) ? b.note : null, b.note, {
          json: undefined,
          raw: b.raw,
          bodyNote: b.note,
          contentType: [JSON_CT],
        });
        return route === 'disconnectPage' ? withGuaranteedFlaw(next, ctx) : fc.constant(next);
      });
    case 'deep JSON':
      return fc
        .tuple(base, deepBodies())
        .map(([d, b]) => add(d, b.note, b.note, { json: undefined, raw: b.raw, bodyNote: b.note }));
    case 'wrong content type':
      return fc.tuple(base, fc.constantFrom(...WRONG_CONTENT_TYPES, null)).map(([d, ct]) =>
        add(
          d,
          `content type ${ct === null ? 'missing' : `"${ct}"`} is not JSON`,
          `content-type ${ct === null ? 'missing' : show(ct, 40)}`,
          {
            contentType: ct === null ? [] : [ct],
          },
        ),
      );
    case 'odd headers':
      return fc.tuple(base, oddHeaders(ctx)).chain(([d, h]) =>
        withGuaranteedFlaw(
          add(d, null, h.note, {
            headers: [...d.headers, ...h.headers],
            auth: h.auth ?? d.auth,
            contentType: h.contentType && d.contentType.length ? h.contentType : d.contentType,
          }),
          ctx,
        ),
      );
    case 'odd query':
      return fc
        .tuple(base, oddQueries(route, ctx))
        .map(([d, q]) =>
          add(d, null, q.note, { query: q.replace || !d.query ? `?${q.query}` : `${d.query}&${q.query}` }),
        );
    case 'wrong-org token':
      return base.chain((d) => {
        const next = add(d, route === 'connectPage' ? null : 'token of another org', 'token of another org', {
          auth: [bearer(ctx.tokens.other)],
        });
        // Another organization may connect a new page: its body must be broken as well.
        return route === 'connectPage'
          ? brokenBody('connectPage', ctx).map((b) => withBrokenBody(next, b))
          : fc.constant(next);
      });
    case 'bad token':
      return fc
        .tuple(
          base,
          fc.oneof(
            fc
              .constantFrom(...BAD_TOKENS)
              .map((kind) => [[bearer(ctx.tokens[kind])], `token ${kind}`] as const),
            fc
              .constantFrom<[string[], string]>(
                [[], 'no Authorization header'],
                [['Bearer'], 'Bearer without token'],
                [['Bearer '], 'Bearer and a space'],
                [[`Basic ${b64url('admin:admin')}`], 'Basic auth'],
                [[`Token ${ctx.tokens.demo}`], 'valid token, wrong scheme'],
                [[ctx.tokens.demo], 'valid token without scheme'],
                [[`Bearer ${ctx.tokens.demo} ${ctx.tokens.demo}`], 'two tokens'],
                [[`Bearer ${ctx.tokens.demo.slice(0, -20)}`], 'truncated token'],
                [[`Bearer ${ctx.tokens.demo}x`], 'token with a byte appended'],
                [[`Bearer ${'a'.repeat(10_000)}`], '10k-char token'],
                [['Bearer null'], 'token "null"'],
                [['Bearer undefined'], 'token "undefined"'],
                [['Bearer ../../etc/passwd'], 'token ../'],
                [[`Bearer ${rawUtf8Header('😀\u202e\u200b')}`], 'unicode token'],
                [[`Bearer ${ctx.tokens.demo.split('.').slice(0, 2).join('.')}`], 'token without signature'],
              )
              .map(([auth, note]) => [auth, note] as const),
          ),
        )
        .map(([d, [auth, note]]) => add(d, `no valid token (${note})`, note, { auth: [...auth] }));
    case 'wrong method or path':
      return fc
        .tuple(
          base,
          fc.oneof(
            fc.constantFrom(...wrongMethods(route)).map((m) => ({
              method: m as string | undefined,
              path: undefined as ((p: string) => string) | undefined,
            })),
            fc
              .constantFrom<(p: string) => string>(
                (p: string) => `${p}/`,
                (p: string) => p.toUpperCase(),
                (p: string) => p.replace('/facebook/', '/facebook//'),
                (p: string) => `${p}.json`,
                (p: string) => `${p}%2F`,
                (p: string) => `${p};x=1`,
                (p: string) => `${p}/..`,
                (p: string) => `${p}/extra`,
                (p: string) => p.replace('/api/', '/api/v2/'),
                (p: string) => `/../../..${p}/../../etc/passwd`,
                (p: string) => `${p}%00`,
              )
              .map((f) => ({
                method: undefined as string | undefined,
                path: f as ((p: string) => string) | undefined,
              })),
          ),
        )
        .map(([d, w]) => {
          if (w.method || !w.path)
            return add(d, `method ${w.method} not routed`, `wrong method ${w.method}`, {
              method: w.method ?? 'PUT',
            });
          const path = w.path(d.path);
          return add(d, `odd path ${show(path, 60)}`, `odd path ${show(path, 60)}`, { path });
        });
  }
}

/**
 * The hand-written field lists name exactly the schemas' keys, required as the schemas say, and the
 * "valid" bodies they start from do parse: a broken body is then broken in exactly one place.
 */
function assertDerivedFromSchemas(ctx: HostileContext, seed: number): void {
  for (const route of Object.keys(BODY_FIELDS) as PostRoute[]) {
    const shape = BODY_SCHEMAS[route].shape as Record<string, z.ZodType>;
    const fields = BODY_FIELDS[route];
    const drift =
      Object.keys(shape).sort().join() !==
        fields
          .map((f) => f.name)
          .sort()
          .join() || fields.some((f) => shape[f.name]?.safeParse(undefined).success === f.required);
    if (drift) throw new Error(`hostile input: the fields of ${route} no longer match its schema`);
    for (const body of fc.sample(validBody(route, ctx), { numRuns: 50, seed })) {
      if (!BODY_SCHEMAS[route].safeParse(body).success)
        throw new Error(
          `hostile input: a "valid" ${route} body does not parse: ${show(JSON.stringify(body))}`,
        );
    }
  }
}

/** Schema-driven categories weigh more: they are where a handler's own checks are exercised. */
const CATEGORY_WEIGHT: Partial<Record<Category, number>> = { 'broken field': 3, 'odd id': 2 };

/**
 * `inputs` hostile requests drawn from `seed`: a category, then one of the routes it applies to,
 * so every category and every route gets its share. Pure: nothing is sent.
 */
export function generateHostileInputs(ctx: HostileContext, inputs: number, seed: number): HostileRequest[] {
  if (!ctx.pages.length) throw new Error('hostile input needs at least one connected page');
  assertDerivedFromSchemas(ctx, seed);
  const perCategory = CATEGORIES.map((category) => ({
    weight: CATEGORY_WEIGHT[category] ?? 1,
    arbitrary: fc.oneof(
      ...ROUTES.filter((route) => categoriesOf(route).includes(category)).map((route) =>
        hostileDraft(route, category, ctx),
      ),
    ),
  }));
  const arbitrary = fc.oneof(...perCategory).map(finish);
  return inputs > 0 ? fc.sample(arbitrary, { numRuns: inputs, seed }) : [];
}

// ---------------------------------------------------------------------------------------------
// The judge: what the gateway and the handlers would make of a request, before it is sent

interface Verdict {
  /** The route the emulator resolves, or null (404/405). */
  routeKey: string | null;
  read: boolean;
  /** An exact status the gateway must answer (404/405 unrouted, 413, 401), when certain. */
  exact?: number;
  /** Why the request could change state, or null when it cannot. */
  harm: string | null;
  /**
   * A valid but harmless write (a bulk cancel with nothing to stop): the 200 it may get, the schema
   * of that answer and, when the caller is certain, what its results must say.
   */
  accepts?: Accepts;
}

interface Accepts {
  schema: z.ZodType;
  check?: (body: unknown) => string | null;
}

interface Judge {
  routes: ReturnType<typeof routesFromTemplate>['routes'];
  verify: Verifier;
  /** pageId -> organization. */
  pages: Map<string, string>;
  /** Pages holding a sync lock (`activeJobId`). */
  locked: Set<string>;
  /** jobId (lower case) -> organization. */
  jobs: Map<string, string>;
  /** jobId (lower case) -> status. */
  jobStatus: Map<string, string>;
}

const BODY_SCHEMA: Record<string, z.ZodType> = Object.fromEntries(
  (Object.keys(BODY_SCHEMAS) as PostRoute[]).map((route) => [routeKey(route), BODY_SCHEMAS[route]]),
);
const JOB_ROUTE_OF: Record<string, JobRoute> = Object.fromEntries(
  (JOB_ROUTES as JobRoute[]).map((route) => [routeKey(route), route]),
);

/** What a valid body of a job route or of bulk cancel does for `org`: its harm, or its answer. */
interface Outcome {
  harm?: string;
  status?: number;
  accepts?: Accepts;
}

function outcomeOf(routeKey: string, data: Record<string, unknown>, org: string, j: Judge): Outcome {
  const jobRoute = JOB_ROUTE_OF[routeKey];
  if (jobRoute) {
    const id = String(data.jobId);
    const key = id.toLowerCase();
    const owner = j.jobs.get(key);
    if (owner === undefined) return { status: 404 };
    const status = j.jobStatus.get(key) ?? 'UNKNOWN';
    if (owner === org && !REFUSED[jobRoute].includes(status))
      return { harm: `a valid ${jobRoute.slice(10)} of job ${id} (${status})` };
    // A case variant of a real id finds no job by key (404), but nothing counts on that.
    if (id !== key) return {};
    return { status: owner === org ? 400 : 403 };
  }
  // Bulk cancel: each named page of the caller (or, with all, each of its pages) with a lock acts.
  const targets = data.all
    ? [...j.pages].filter(([, owner]) => owner === org).map(([id]) => id)
    : [...new Set(data.pageIds as string[])];
  const acting = targets.filter((id) => j.pages.get(id) === org && j.locked.has(id));
  if (acting.length) return { harm: `a valid bulk cancel of page ${acting[0]} (a sync is active)` };
  // With all, only pages with an active sync are answered: none here.
  const expected = data.all ? [] : targets;
  return {
    status: 200,
    accepts: { schema: CancelBulkResponse, check: (body) => bulkProblem(body, expected, org, j) },
  };
}

/** A bulk cancel with nothing to stop answers each named page once, with what it is to the caller. */
function bulkProblem(body: unknown, expected: string[], org: string, j: Judge): string | null {
  const { results, hasMore } = body as z.infer<typeof CancelBulkResponse>;
  if (hasMore) return 'hasMore with no sync to stop';
  const got = results.map((r) => r.pageId).sort();
  if (got.join() !== [...expected].sort().join())
    return `results for [${show(got.join(), 60)}] instead of [${show([...expected].sort().join(), 60)}]`;
  for (const r of results) {
    const owner = j.pages.get(r.pageId);
    const want =
      owner === undefined
        ? ['not-found']
        : owner !== org
          ? ['forbidden']
          : ['not-active', 'already-cancelled'];
    if (!want.includes(r.outcome) || (r.outcome === 'not-found' && r.jobId !== null))
      return `page ${r.pageId}: ${r.outcome} (job ${r.jobId}), expected ${want.join(' or ')}`;
  }
  return null;
}
const READ_SCHEMA: Record<string, z.ZodType> = {
  [routeKey('syncStatus')]: SyncStatusResponse,
  [routeKey('syncJobs')]: SyncJobsResponse,
  [routeKey('listPages')]: PagesResponse,
  [routeKey('pageContacts')]: ContactsResponse,
};
function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Header values as Node hands them to the server: trimmed of spaces and tabs. */
const valuesOf = (r: HostileRequest, name: string) =>
  r.headers.filter(([k]) => k.toLowerCase() === name).map(([, v]) => v.replace(/^[ \t]+|[ \t]+$/g, ''));

/**
 * Node refuses a header section over 16 KB before any routing: 431 with `{error}`. Our byte count
 * is an estimate (fetch adds headers of its own), so from 12 KB on either answer may come: no
 * exact status then, but still never a 5xx, a success, or a body other than `{error}`.
 */
const headerBytes = (r: HostileRequest) =>
  r.method.length +
  r.path.length +
  12 +
  r.headers.reduce((sum, [k, v]) => sum + k.length + Buffer.byteLength(v) + 4, 0);

async function judge(r: HostileRequest, j: Judge): Promise<Verdict> {
  const verdict = await judgeRouted(r, j);
  const size = headerBytes(r);
  if (size > 20 * KB) return { ...verdict, exact: 431 };
  if (size > 12 * KB) return { ...verdict, exact: undefined };
  return verdict;
}

async function judgeRouted(r: HostileRequest, j: Judge): Promise<Verdict> {
  const url = new URL(r.path, 'http://localhost');
  const candidates = j.routes.filter((route) => route.pattern.test(url.pathname));
  const route = candidates.find((c) => c.method === r.method || c.method === 'ANY');
  if (!route) return { routeKey: null, read: false, exact: candidates.length ? 405 : 404, harm: null };
  const body = r.body?.();
  const bytes = body === undefined ? 0 : Buffer.byteLength(body);
  if (bytes > 10 * 1024 * KB) return { routeKey: route.routeKey, read: false, exact: 413, harm: null };

  // Callers: every Authorization value that the authorizer would accept (duplicates considered).
  const orgs: string[] = [];
  for (const value of valuesOf(r, 'authorization')) {
    const match = /^Bearer\s+(\S+)$/i.exec(value);
    if (!match?.[1]) continue;
    const claims = await j.verify(match[1]).catch(() => null);
    if (!claims) continue;
    const asString = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
    const org = claims.org_id === undefined ? '' : asString(claims.org_id);
    const sub = claims.sub === undefined ? '' : asString(claims.sub);
    if (org && sub) orgs.push(org);
  }
  const exact = orgs.length === 0 ? 401 : undefined;
  if (route.method === 'GET') return { routeKey: route.routeKey, read: true, exact, harm: null };
  if (orgs.length === 0) return { routeKey: route.routeKey, read: false, exact, harm: null };

  const risks: string[] = [];
  const schema = BODY_SCHEMA[route.routeKey];
  if (schema) {
    const text = body === undefined ? undefined : Buffer.isBuffer(body) ? body.toString('utf8') : body;
    const types = valuesOf(r, 'content-type');
    const candidatesCt = types.length ? [...types, types.join(',')] : [undefined];
    const parsed: Record<string, unknown>[] = [];
    for (const ct of candidatesCt) {
      try {
        const event = {
          body: text,
          isBase64Encoded: false,
          headers: ct === undefined ? {} : { 'content-type': ct },
        };
        parsed.push(parseJsonBody(event as unknown as HttpEvent, schema) as Record<string, unknown>);
      } catch {
        // rejected: 400/415
      }
    }
    const outcomes: Outcome[] = [];
    for (const data of parsed) {
      for (const org of orgs) {
        if (JOB_ROUTE_OF[route.routeKey] || route.routeKey === routeKey('cancelSyncBulk')) {
          const outcome = outcomeOf(route.routeKey, data, org, j);
          if (outcome.harm) risks.push(outcome.harm);
          outcomes.push(outcome);
        }
        if (route.routeKey === routeKey('connectPage')) risks.push(`a valid connect of page ${data.pageId}`);
        if (route.routeKey === routeKey('startSync')) {
          const owner = j.pages.get(String(data.pageId));
          if (owner === org) risks.push(`a valid start of page ${data.pageId}`);
        }
        if (route.routeKey === routeKey('cancelSync')) {
          const owner = j.jobs.get(String(data.jobId).toLowerCase());
          if (owner === org) risks.push(`a valid cancel of job ${data.jobId}`);
        }
      }
    }
    // A valid body of a HARMLESS_BASE route: its answer is exact when the body parses whatever
    // content type the emulator hands on and there is one caller; a 200 is allowed either way.
    const [first] = outcomes;
    if (first && !risks.length) {
      const certain =
        parsed.length === candidatesCt.length &&
        orgs.length === 1 &&
        valuesOf(r, 'authorization').length === 1;
      return certain
        ? { routeKey: route.routeKey, read: false, harm: null, exact: first.status, accepts: first.accepts }
        : {
            routeKey: route.routeKey,
            read: false,
            harm: null,
            accepts: outcomes.some((o) => o.accepts) ? { schema: CancelBulkResponse } : undefined,
          };
    }
  } else if (route.method === 'DELETE') {
    const raw = route.pattern.exec(url.pathname)?.[1] ?? '';
    const parsed = PagePath.safeParse({ pageId: safeDecode(raw) });
    if (parsed.success && orgs.includes(j.pages.get(parsed.data.pageId) ?? '\u0000'))
      risks.push(`a valid delete of page ${parsed.data.pageId}`);
  } else {
    risks.push(`an unknown mutating route ${route.routeKey}`);
  }
  return { routeKey: route.routeKey, read: false, harm: risks[0] ?? null };
}

// ---------------------------------------------------------------------------------------------
// Sending and checking

interface Answer {
  status: number;
  text: string;
  error?: string;
}

function send(base: URL, r: HostileRequest, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: Answer) => {
      if (!settled) {
        settled = true;
        resolve(answer);
      }
    };
    const body = r.body?.();
    // Raw header pairs (duplicates kept): Node adds neither Host nor Content-Length to those.
    const framing: [string, string][] = [['host', base.host]];
    if (body !== undefined) framing.push(['content-length', String(Buffer.byteLength(body))]);
    let req: http.ClientRequest;
    try {
      req = http.request(
        {
          host: base.hostname,
          port: base.port,
          method: r.method,
          path: r.path,
          headers: [...framing, ...r.headers].flat(),
          agent: false,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (text.length < MAX_ANSWER_CHARS) text += chunk;
          });
          res.on('end', () => done({ status: res.statusCode ?? 0, text }));
          res.on('error', (error) => done({ status: 0, text, error: describeError(error) }));
          res.on('aborted', () => done({ status: 0, text, error: 'response aborted' }));
        },
      );
    } catch (error) {
      done({ status: 0, text: '', error: `could not send (generator bug): ${(error as Error).message}` });
      return;
    }
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (error) => done({ status: 0, text: '', error: describeError(error) }));
    req.end(body);
  });
}

const describeError = (error: Error) => {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code} (${error.message})` : error.message;
};

/** What is wrong with an answer: nothing, or one short reason per broken check. */
function problemsOf(verdict: Verdict, answer: Answer): string[] {
  if (answer.error) return [`connection failed: ${answer.error}`];
  const { status, text } = answer;
  const problems: string[] = [];
  const shown = text === '' ? 'an empty body' : show(text, 120);
  if (status >= 500) problems.push(`${status} ${shown}`);
  if (verdict.exact !== undefined && status !== verdict.exact)
    problems.push(`expected ${verdict.exact}, got ${status} ${shown}`);
  if (status >= 200 && status < 300) {
    if (!verdict.read && !verdict.accepts)
      problems.push(`a request that must be refused was accepted: ${status} ${shown}`);
    else if (status !== 200)
      problems.push(`${verdict.read ? 'a read' : 'a harmless write'} answered ${status} ${shown}`);
    else {
      const schema =
        verdict.accepts?.schema ?? (verdict.routeKey ? READ_SCHEMA[verdict.routeKey] : undefined);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (!schema?.safeParse(parsed).success) problems.push(`200 outside the contract: ${shown}`);
      else {
        const wrong = verdict.accepts?.check?.(parsed);
        if (wrong) problems.push(`200 with the wrong results: ${wrong}`);
      }
    }
    return [...new Set(problems)];
  }
  if (status < 400 || status >= 600) problems.push(`status ${status} is not a 4xx`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!ErrorBody.strict().safeParse(body).success)
    problems.push(`${status} with a body other than {error}: ${shown}`);
  return [...new Set(problems)];
}

function describeRequest(r: HostileRequest): string {
  const parts = [`${r.method} ${show(r.path, 70)}`, ...r.notes];
  return show(parts.join(' | '), 220);
}

// ---------------------------------------------------------------------------------------------
// State snapshots

interface Snapshot {
  tables: Record<string, string[]>;
  items: Record<string, Record<string, unknown>[]>;
  executions: number;
  graphCalls: number | null;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  return value;
}

async function snapshot(h: Harness): Promise<Snapshot> {
  const tables: Record<string, string[]> = {};
  const items: Record<string, Record<string, unknown>[]> = {};
  for (const [name, table] of Object.entries(h.stack.tables)) {
    const rows: Record<string, AttributeValue>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await h.stack.dynamo.send(
        new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }),
      );
      rows.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    tables[name] = rows.map((row) => JSON.stringify(canonical(row))).sort();
    items[name] = rows.map((row) => unmarshall(row));
  }
  const executions = h.stack.machines.reduce(
    (sum, m) =>
      sum +
      h.stack.sfn.ListExecutions({ stateMachineArn: m.arn, maxResults: 1_000_000_000 }).executions.length,
    0,
  );
  return { tables, items, executions, graphCalls: h.stack.graph?.stats().totalCalls ?? null };
}

function differences(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const name of Object.keys(before.tables)) {
    const a = new Set(before.tables[name]);
    const b = new Set(after.tables[name]);
    const added = [...b].filter((row) => !a.has(row));
    const removed = [...a].filter((row) => !b.has(row));
    if (added.length || removed.length) {
      out.push(
        `state changed: ${name} table, ${added.length} item(s) new or changed, ${removed.length} gone or changed` +
          (added[0] ? `; now ${show(added[0], 200)}` : '') +
          (removed[0] ? `; was ${show(removed[0], 200)}` : ''),
      );
    }
  }
  if (after.executions !== before.executions)
    out.push(`state changed: ${after.executions - before.executions} execution(s) started`);
  if (after.graphCalls !== before.graphCalls)
    out.push(
      `state changed: the Graph simulator counted ${Number(after.graphCalls) - Number(before.graphCalls)} call(s)`,
    );
  return out;
}

const sameState = (a: Snapshot, b: Snapshot) => differences(a, b).length === 0;
const isRunningJob = (item: Record<string, unknown>) => isRunningStatus(item.status as JobStatus);

/** Waits until no job is running and two snapshots a moment apart agree; null if that never happens. */
async function idleSnapshot(h: Harness, timeoutMs: number): Promise<Snapshot | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await h.stack.sfn.drain(Math.max(0, deadline - Date.now()));
    const first = await snapshot(h);
    if ((first.items.jobs ?? []).some(isRunningJob)) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    await new Promise((r) => setTimeout(r, 300));
    const second = await snapshot(h);
    if (sameState(first, second)) return second;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Tokens and context

async function forgeTokens(h: Harness, org: string): Promise<Record<TokenKind, string>> {
  const claims = { org: org, user: 'hostile-input' };
  const [header, payload] = h.tokens.demo.split('.') as [string, string, string];
  const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  const { privateKey } = await generateKeyPair('RS256');
  const signed = (alg: string) =>
    new SignJWT({ org_id: org })
      .setProtectedHeader({ alg, typ: 'JWT', kid: 'local' })
      .setSubject('hostile-input')
      .setIssuer(String(decoded.iss))
      .setAudience(decoded.aud as string | string[])
      .setIssuedAt()
      .setExpirationTime('1h');
  return {
    demo: h.tokens.demo,
    other: h.tokens.other,
    expired: await signLocalToken(DATA_DIR, { ...claims, expiresIn: '-1h' }),
    wrongAudience: await signLocalToken(DATA_DIR, { ...claims, audience: 'someone-else' }),
    wrongIssuer: await signLocalToken(DATA_DIR, { ...claims, issuer: 'https://evil.example/' }),
    unsigned: `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.`,
    // The demo token's signature over a payload that claims another organization.
    tampered: `${header}.${b64url(JSON.stringify({ ...decoded, org_id: 'other-org' }))}.${h.tokens.demo.split('.')[2]}`,
    foreignKey: await signed('RS256').sign(privateKey),
    hs256: await signed('HS256').sign(new TextEncoder().encode('a-guessed-shared-secret-of-32-bytes!')),
    emptyOrg: await signLocalToken(DATA_DIR, { ...claims, org: '' }),
  };
}

// ---------------------------------------------------------------------------------------------
// The section

export async function runHostileInput(
  h: Harness,
  opts: { inputs: number; seed: number; concurrency?: number },
): Promise<HostileInputResult> {
  const violations: string[] = [];
  const answered: string[] = [];
  const result = (requests: number, requestsList: HostileRequest[], sendMs: number): HostileInputResult => ({
    section: 'hostile input',
    trials: 0,
    faults: 0,
    inputs: requestsList.length,
    requests,
    violations,
    byCategory: tally(requestsList.map((r) => r.category)),
    byRoute: tally(requestsList.map((r) => r.route)),
    byStatus: tally(answered.sort()),
    sendMs,
  });

  // Hold every page: no other section's trial can run while the tables are compared.
  const held = await Promise.all(h.pages.map(() => h.acquirePage()));
  try {
    const before = await idleSnapshot(h, 60_000);
    if (!before) {
      violations.push('the stack never became idle (a job stayed active or the tables kept changing)');
      return result(0, [], 0);
    }
    const resolver = new TemplateResolver(h.stack.template);
    const { routes, issuer, audience } = routesFromTemplate(resolver);
    const verify = await localVerifier(DATA_DIR, issuer, audience);
    const org = String((await verify(h.tokens.demo)).org_id);
    const pages = new Map(
      (before.items.pages ?? []).map((p) => [String(p.pageId), String(p.organizationId)]),
    );
    const jobs = new Map(
      (before.items.jobs ?? []).map((j) => [String(j.jobId).toLowerCase(), String(j.organizationId)]),
    );
    const jobStatus = new Map(
      (before.items.jobs ?? []).map((j) => [String(j.jobId).toLowerCase(), String(j.status)]),
    );
    const locked = new Set(
      (before.items.pages ?? []).filter((p) => p.activeJobId).map((p) => String(p.pageId)),
    );
    const ctx: HostileContext = {
      pages: [...pages].filter(([, o]) => o === org).map(([id]) => id),
      jobs: [...jobs].filter(([, o]) => o === org).map(([id]) => id),
      jobStatus: Object.fromEntries(jobStatus),
      lockedPages: [...locked].filter((id) => pages.get(id) === org),
      contactKeys: (before.items.contacts ?? [])
        .map((c) => String(c.contactKey))
        .filter((k) => k.startsWith(`${org}#`))
        .slice(0, 50),
      org,
      tokens: await forgeTokens(h, org),
    };

    const requests = generateHostileInputs(ctx, opts.inputs, opts.seed);
    // By construction: every input is a pure read or has a flaw, and the judge agrees none can
    // change state. Anything else is a generator bug: nothing is sent.
    // Tokens repeat: each distinct one is verified once.
    const verified = new Map<string, Promise<Record<string, unknown> | null>>();
    const verifyOnce: Verifier = (token) => {
      let claims = verified.get(token);
      if (!claims) {
        claims = verify(token).catch(() => null);
        verified.set(token, claims);
      }
      return claims.then((c) => c ?? Promise.reject(new Error('invalid token')));
    };
    const j: Judge = { routes, verify: verifyOnce, pages, locked, jobs, jobStatus };
    const verdicts: Verdict[] = [];
    for (const r of requests) {
      const verdict = await judge(r, j);
      if (verdict.harm || (!verdict.read && r.flaws.length === 0 && verdict.exact === undefined)) {
        throw new Error(
          `hostile input generated ${verdict.harm ?? 'a request without a flaw'}: ${r.route} [${r.category}] ${describeRequest(r)}`,
        );
      }
      if (r.flaws.length === 0 && !isRead(r.route))
        throw new Error(`hostile input generated a request without a flaw: ${describeRequest(r)}`);
      verdicts.push(verdict);
    }

    const base = new URL(h.stack.apiUrl);
    let sent = 0;
    let next = 0;
    const started = Date.now();
    const worker = async () => {
      while (next < requests.length) {
        const i = next++;
        const r = requests[i] as HostileRequest;
        const answer = await send(base, r, 30_000);
        sent++;
        answered.push(`${r.route} ${answer.status}`);
        const problems = problemsOf(verdicts[i] as Verdict, answer);
        if (problems.length)
          violations.push(`${r.route} [${r.category}] ${describeRequest(r)} → ${problems.join('; ')}`);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 16) }, worker));
    const sendMs = Date.now() - started;

    await new Promise((r) => setTimeout(r, 200));
    violations.push(...differences(before, await snapshot(h)));
    return result(sent, requests, sendMs);
  } finally {
    for (const page of held) h.releasePage(page);
  }
}
