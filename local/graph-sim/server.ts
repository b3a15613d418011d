/**
 * A Meta Graph API simulator for the local stack and tests: a plain node:http server that answers the
 * Conversations API, message and profile reads the way Meta's Graph API reference describes them
 * (paging, field expansion, the 20-message detail limit, error shapes, usage headers, rate limits).
 *
 * Rate limits and usage headers: see usage.ts.
 *
 * Stats (`stats()`, `GET /__sim/stats`; `resetStats()`, `POST /__sim/reset`): `totalCalls` counts every
 * Graph call once (a list call with field expansion is one call); `callsByPage` counts every
 * authenticated call by the page of its token, and `callsByPageByPath` splits those by route;
 * `maxCallsInAnyOneSecondByPage` is the peak number of Conversations-API calls (accepted or rejected)
 * in any sliding 1-second window, keyed by rate-limit account (page id, or Instagram account id).
 * `callsByPath` is keyed by route template, e.g. `/{page-id}/conversations`.
 *
 * Knobs outside Graph (no token, never counted as Graph calls): `/__sim/stats`, `/__sim/reset`,
 * `/__sim/faults` and `POST /__sim/pages/{page-id}/new-messages` (see docs/graph-simulator.md).
 * What a request asks (path, token, object, rate-limit account) is read in graph-request.ts; the
 * object index, list order and new messages live in state.ts; the routes in routes.ts.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { sleep } from '#shared/sleep.ts';
import { refuseForeignHost } from '../host-check.ts';
import { hash32, mulberry32, type Rng } from '../prng.ts';
import { type AdminControls, handleAdmin, type Reply } from './admin.ts';
import type { SimPage } from './demo-data/sim-types.ts';
import { faultError, GraphError, invalidParam, RATE_LIMIT_MESSAGES } from './error-responses.ts';
import {
  authenticate,
  checkMessagingPermission,
  DEFAULT_VERSION,
  graphVersion,
  parseGraphPath,
  rateLimitAccount,
  resolveTarget,
  routeTemplate,
} from './graph-request.ts';
import { handleRoute, type ListCursors } from './graph-routes.ts';
import { type AddMessagesRequest, SimState } from './state.ts';
import { UsageMeter, usage } from './usage.ts';

export type { ListCursors } from './graph-routes.ts';
export type { AddMessagesRequest } from './state.ts';

export interface SimFaults {
  /** Probability (0..1) that a Graph call is answered with an injected error. */
  rate: number;
  /** Error codes to choose from (uniformly): 1, 2, 4, 17, 32, 341, 368, 613, 80001, 80002, 80006, 190, 10, 200… → HTTP 400; 500 → HTTP 500 with code 1. */
  codes: number[];
  /** PRNG seed of the fault draws (default 1). */
  seed?: number;
}

export interface SimStats {
  totalCalls: number;
  callsByPage: Record<string, number>;
  /** `callsByPage` split by route template: `{ "<page-id>": { "/{page-id}/conversations": n, … } }`. */
  callsByPageByPath: Record<string, Record<string, number>>;
  callsByPath: Record<string, number>;
  rateLimitRejections: number;
  maxCallsInAnyOneSecondByPage: Record<string, number>;
  /** Calls answered with an injected fault. */
  faultsInjected: number;
}

export interface GraphSimulatorOptions {
  port?: number;
  host?: string;
  latencyMs?: number;
  pages: SimPage[];
  /** Calls per second per rate-limit account; default 2 (the documented limit); null disables enforcement. */
  rateLimitPerSecond?: number | null;
  faults?: SimFaults | null;
  /** How conversation-list cursors point into the list; default `keyset` (see docs/graph-simulator.md). */
  listCursors?: ListCursors;
}

export interface GraphSimulator {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `${url}/v21.0` */
  baseUrl: string;
  port: number;
  close(): Promise<void>;
  stats(): SimStats;
  /** Clears the counters and the rate-limit windows. */
  resetStats(): void;
  /** Changes (or with null, disables) fault injection; restarts the fault PRNG. */
  setFaults(faults: SimFaults | null): void;
  /**
   * Appends a customer message to conversations of a page (`count` at random from `platform`'s list,
   * or exactly `conversationIds`), giving them one new `updated_time`, later than anything on the page,
   * so they move to the top of their list. Returns their ids, top first. Throws on a bad request.
   */
  addMessages(request: AddMessagesRequest): string[];
}

async function waitUntil(deadline: number): Promise<void> {
  for (;;) {
    const remaining = deadline - performance.now();
    if (remaining <= 0) return;
    await sleep(Math.ceil(remaining));
  }
}

function emptyStats(): SimStats {
  return {
    totalCalls: 0,
    callsByPage: {},
    callsByPageByPath: {},
    callsByPath: {},
    rateLimitRejections: 0,
    maxCallsInAnyOneSecondByPage: {},
    faultsInjected: 0,
  };
}

const bump = (record: Record<string, number>, key: string, by = 1) => {
  record[key] = (record[key] ?? 0) + by;
};

// ---------------------------------------------------------------------------------------------
// Server

export async function startGraphSimulator(opts: GraphSimulatorOptions): Promise<GraphSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const latencyMs = Math.max(0, opts.latencyMs ?? 0);
  const rateLimit = opts.rateLimitPerSecond === undefined ? 2 : opts.rateLimitPerSecond;
  if (rateLimit !== null && !(rateLimit > 0)) throw new Error('rateLimitPerSecond must be > 0 or null');
  const listCursors = opts.listCursors ?? 'keyset';
  if (listCursors !== 'keyset' && listCursors !== 'offset')
    throw new Error('listCursors must be keyset or offset');

  const state = new SimState(opts.pages);
  const meter = new UsageMeter(rateLimit);
  let stats = emptyStats();
  let faults: SimFaults | null = opts.faults ?? null;
  let faultRng: Rng = mulberry32(faults?.seed ?? 1);
  let traceCounter = 0;
  let origin = '';

  const fbtraceId = () => {
    traceCounter++;
    const bytes = Buffer.alloc(8);
    bytes.writeUInt32BE(hash32(traceCounter, 'trace'));
    bytes.writeUInt32BE(hash32(traceCounter, 'trace2'), 4);
    return bytes.toString('base64').replace(/[+/=]/g, '').slice(0, 11);
  };

  const handleGraph = (req: IncomingMessage, url: URL): Reply => {
    const now = performance.now();
    stats.totalCalls++;
    const headers: Record<string, string> = { 'x-app-usage': JSON.stringify(usage(meter.appCall(now))) };
    const requestOrigin = req.headers.host ? `http://${req.headers.host}` : origin;
    let pathKey = 'unknown';
    let callerPage: string | undefined;
    try {
      headers['facebook-api-version'] = graphVersion(url.pathname) ?? DEFAULT_VERSION;
      const path = parseGraphPath(url.pathname);
      pathKey = path.pathKey;
      if (req.method !== 'GET') {
        throw invalidParam(`Unsupported ${(req.method ?? '').toLowerCase()} request.`);
      }
      const entry = authenticate(state, req, url);
      callerPage = entry.page.id;
      bump(stats.callsByPage, callerPage);
      const target = resolveTarget(state, entry, path);
      const { edge, versionPrefix } = path;
      pathKey = routeTemplate(target, edge);
      const { platform, bucket } = rateLimitAccount(target, edge, url);
      checkMessagingPermission(req, url, target, edge);

      // Rate limit.
      const metered = meter.bucketCall(bucket, now);
      if (metered.attempts !== undefined) {
        const peak = stats.maxCallsInAnyOneSecondByPage;
        peak[bucket.id] = Math.max(peak[bucket.id] ?? 0, metered.attempts);
      }
      headers['x-business-use-case-usage'] = JSON.stringify({
        [bucket.id]: [{ type: bucket.type, ...usage(metered.callCount), estimated_time_to_regain_access: 0 }],
      });
      if (metered.rejected) {
        stats.rateLimitRejections++;
        const code = platform === 'instagram' ? 80002 : 80006;
        throw new GraphError({ code, message: RATE_LIMIT_MESSAGES[code] ?? '' });
      }

      // Fault injection.
      if (faults && faults.codes.length > 0 && faultRng() < faults.rate) {
        const code = faults.codes[Math.floor(faultRng() * faults.codes.length)] ?? 1;
        stats.faultsInjected++;
        throw faultError(code);
      }

      const body = handleRoute(state, listCursors, {
        target,
        edge,
        url,
        origin: requestOrigin,
        versionPrefix,
        platform,
      });
      return { status: 200, body, headers };
    } catch (error) {
      if (!(error instanceof GraphError)) throw error;
      const body: Record<string, unknown> = { message: error.message, type: error.type, code: error.code };
      if (error.subcode !== undefined) body.error_subcode = error.subcode;
      body.fbtrace_id = fbtraceId();
      return { status: error.status, body: { error: body }, headers };
    } finally {
      bump(stats.callsByPath, pathKey);
      if (callerPage !== undefined) {
        const byPath = stats.callsByPageByPath[callerPage] ?? {};
        stats.callsByPageByPath[callerPage] = byPath;
        bump(byPath, pathKey);
      }
    }
  };

  const resetStats = () => {
    stats = emptyStats();
    meter.reset();
  };

  const setFaults = (next: SimFaults | null) => {
    if (next && (!(next.rate >= 0 && next.rate <= 1) || !Array.isArray(next.codes))) {
      throw new Error('faults.rate must be within 0..1 and faults.codes an array');
    }
    faults = next ? { ...next, codes: [...next.codes] } : null;
    faultRng = mulberry32(faults?.seed ?? 1);
  };
  setFaults(faults);

  const controls: AdminControls = {
    stats: () => stats,
    resetStats,
    faults: () => faults,
    setFaults,
    addMessages: (request) => state.addMessages(request),
  };

  const send = (res: ServerResponse, reply: Reply) => {
    if (res.destroyed) return;
    const payload = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(payload),
      'cache-control': 'private, no-cache, no-store, must-revalidate',
      ...reply.headers,
    });
    res.end(payload);
  };

  const server = createServer((req, res) => {
    if (refuseForeignHost(req, res)) return;
    const arrival = performance.now();
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    void (async () => {
      try {
        if (url.pathname.startsWith('/__sim/')) {
          send(res, await handleAdmin(req, url, controls));
          return;
        }
        const reply = handleGraph(req, url);
        reply.headers['x-fb-trace-id'] = fbtraceId();
        await waitUntil(arrival + latencyMs);
        send(res, reply);
      } catch (error) {
        send(res, {
          status: 500,
          body: {
            error: {
              message: `Simulator failure: ${String(error)}`,
              type: 'OAuthException',
              code: 1,
              fbtrace_id: fbtraceId(),
            },
          },
          headers: {},
        });
      }
    })();
  });

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  origin = `http://${urlHost}:${port}`;

  return {
    url: origin,
    baseUrl: `${origin}/${DEFAULT_VERSION}`,
    port,
    close: () =>
      new Promise<void>((resolveClose, rejectClose) => {
        server.close((error) => (error ? rejectClose(error) : resolveClose()));
        server.closeAllConnections();
      }),
    stats: () => structuredClone(stats),
    resetStats,
    setFaults,
    addMessages: (request) => state.addMessages(request).conversationIds,
  };
}
