/**
 * The simulator's own routes under `/__sim/` (no token, not Graph calls, never counted in stats):
 * - `GET /__sim/stats`: the stats; `POST /__sim/reset`: clears them and the rate-limit windows;
 * - `POST /__sim/faults` `{rate, codes, seed?}` or `null`: fault injection;
 * - `POST /__sim/pages/{page-id}/new-messages` `{platform?, count?, conversationIds?, at?}`: new customer
 *   messages (see `SimState.addMessages`), answered `{conversationIds, updated_time}`.
 * Errors are `{error:{message}}` with 400 (bad request) or 404 (unknown route, page or conversation).
 */
import type { IncomingMessage } from 'node:http';
import type { SimFaults, SimStats } from './server.ts';
import { type AddMessagesRequest, SimRequestError } from './state.ts';

export interface Reply {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export interface AdminControls {
  stats(): SimStats;
  resetStats(): void;
  faults(): SimFaults | null;
  setFaults(faults: SimFaults | null): void;
  addMessages(request: AddMessagesRequest): { conversationIds: string[]; updatedTime: string };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const ok = (body: unknown): Reply => ({ status: 200, body, headers: {} });
const fail = (status: number, message: string): Reply => ({
  status,
  body: { error: { message } },
  headers: {},
});

function isFaults(value: unknown): value is SimFaults {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.rate === 'number' &&
    Array.isArray(v.codes) &&
    v.codes.every((c) => typeof c === 'number') &&
    (v.seed === undefined || typeof v.seed === 'number')
  );
}

export async function handleAdmin(req: IncomingMessage, url: URL, controls: AdminControls): Promise<Reply> {
  if (url.pathname === '/__sim/stats' && req.method === 'GET') return ok(structuredClone(controls.stats()));
  if (url.pathname === '/__sim/reset' && req.method === 'POST') {
    controls.resetStats();
    return ok({ ok: true });
  }
  if (url.pathname === '/__sim/faults' && req.method === 'POST') {
    const raw = (await readBody(req)).trim();
    try {
      const parsed = raw === '' ? null : (JSON.parse(raw) as unknown);
      if (parsed !== null && !isFaults(parsed))
        throw new Error('expected {rate:number, codes:number[], seed?:number} or null');
      controls.setFaults(parsed);
      return ok({ ok: true, faults: controls.faults() });
    } catch (error) {
      return fail(400, String(error));
    }
  }
  const newMessages = /^\/__sim\/pages\/([0-9A-Za-z_.-]+)\/new-messages$/.exec(url.pathname);
  if (newMessages?.[1] && req.method === 'POST') {
    const raw = (await readBody(req)).trim();
    let parsed: unknown;
    try {
      parsed = raw === '' ? {} : JSON.parse(raw);
    } catch (error) {
      return fail(400, `Body is not JSON: ${String(error)}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return fail(400, 'Body must be a JSON object {platform?, count?, conversationIds?, at?}');
    }
    try {
      const request = { ...(parsed as Omit<AddMessagesRequest, 'pageId'>), pageId: newMessages[1] };
      const result = controls.addMessages(request);
      return ok({ conversationIds: result.conversationIds, updated_time: result.updatedTime });
    } catch (error) {
      if (error instanceof SimRequestError) return fail(error.status, error.message);
      throw error;
    }
  }
  return fail(404, `Unknown simulator admin route ${req.method} ${url.pathname}`);
}
