import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ConversationAnalyzer } from '#shared/analyzer/analyzer.ts';
import type { Platform } from '#shared/schemas.ts';
import { saveContact } from '#shared/store/contact-commit.ts';
import { ddb, tables } from '#shared/store/db.ts';
import { JOB_SK } from '#shared/store/table-keys.ts';
import type { SimPage } from '../local/graph-sim/demo-data.ts';
import { sleep } from './harness.ts';

/**
 * The sequential design this product replaced, for comparison in the same run: one conversation
 * at a time, a status SELECT before each (`isJobCancelled`), the conversation list paged with
 * Graph's default page size, then one Graph call per conversation for its messages, the analysis,
 * and the contact write. It does the same work as the product against the same simulator (same
 * latency, same 2 calls/s per Page, kept by waiting a second after the answer of the call two
 * back), the same analyzer and the same guarded contact transaction into DynamoDB Local.
 */
export interface BaselineResult {
  jobId: string;
  conversations: number;
  synced: number;
  failed: number;
  graphCalls: number;
  rateLimitRetries: number;
  statusReads: number;
  wallMs: number;
}

interface Conversation {
  id: string;
  updated_time?: string;
  message_count?: number;
  participants?: { data: { id: string; name?: string; username?: string; email?: string }[] };
  messages?: { data: { id: string; created_time: string; from?: { id: string }; message?: string }[] };
}

const RATE_LIMITED = new Set([4, 17, 32, 613, 80001, 80002, 80006]);

export async function runBaseline(opts: {
  page: SimPage;
  graphApiUrl: string;
  analyzer: ConversationAnalyzer;
  organizationId: string;
}): Promise<BaselineResult> {
  const { page } = opts;
  const jobId = randomUUID();
  const now = new Date().toISOString();
  await ddb.send(
    new PutCommand({
      TableName: tables.jobs,
      Item: {
        jobId,
        sk: JOB_SK,
        status: 'IN_PROGRESS',
        organizationId: opts.organizationId,
        pageId: page.id,
        syncedContacts: 0,
        failedContacts: 0,
        createdAt: now,
        startedAt: now,
        updatedAt: now,
      },
    }),
  );
  const result: BaselineResult = {
    jobId,
    conversations: 0,
    synced: 0,
    failed: 0,
    graphCalls: 0,
    rateLimitRetries: 0,
    statusReads: 0,
    wallMs: 0,
  };
  const answered: Record<string, number[]> = {};
  const graph = async (budget: string, path: string, params: Record<string, string>) => {
    for (let attempt = 1; ; attempt++) {
      answered[budget] ??= [];
      const times = answered[budget];
      const slotFree = (times[times.length - 2] ?? 0) + 1000;
      if (slotFree > performance.now()) await sleep(slotFree - performance.now());
      const url = `${opts.graphApiUrl}/${path}?${new URLSearchParams(params)}`;
      result.graphCalls++;
      const res = await fetch(url, { headers: { authorization: `Bearer ${page.accessToken}` } });
      times.push(performance.now());
      const body = (await res.json()) as Record<string, unknown>;
      if (res.ok) return body;
      const code = (body.error as { code?: number } | undefined)?.code ?? 0;
      if (!RATE_LIMITED.has(code) || attempt >= 5) throw new Error(`Graph ${path}: ${JSON.stringify(body)}`);
      result.rateLimitRetries++;
      await sleep(500 * 2 ** (attempt - 1));
    }
  };
  const isJobCancelled = async () => {
    result.statusReads++;
    const out = await ddb.send(
      new GetCommand({
        TableName: tables.jobs,
        Key: { jobId, sk: JOB_SK },
        ProjectionExpression: '#s',
        ExpressionAttributeNames: { '#s': 'status' },
      }),
    );
    return out.Item?.status === 'CANCELLED';
  };

  const t0 = performance.now();
  const ownIds = new Set([page.id, page.instagramAccountId]);
  for (const platform of ['messenger', 'instagram'] as Platform[]) {
    const budget = `${page.id}#${platform}`;
    let after: string | undefined;
    do {
      const list = await graph(budget, `${page.id}/conversations`, {
        platform,
        fields: 'id,updated_time,message_count,participants',
        ...(after ? { after } : {}),
      });
      const paging = list.paging as { next?: string; cursors?: { after?: string } } | undefined;
      for (const listed of list.data as Conversation[]) {
        if (await isJobCancelled()) return { ...result, wallMs: performance.now() - t0 };
        result.conversations++;
        const conversation = (await graph(budget, listed.id, {
          fields: 'messages.limit(20){id,created_time,from,to,message}',
        })) as unknown as Conversation;
        const customer = listed.participants?.data.find((p) => !ownIds.has(p.id));
        if (!customer) {
          result.failed++;
          continue;
        }
        const messages = conversation.messages?.data ?? [];
        const aiContext = await opts.analyzer.analyze(
          messages.map((m) => ({
            fromCustomer: !!m.from && !ownIds.has(m.from.id),
            text: m.message ?? '',
            createdAt: m.created_time,
          })),
        );
        const saved = await saveContact(jobId, {
          pageId: page.id,
          organizationId: opts.organizationId,
          platform,
          participantId: customer.id,
          displayName: customer.name || customer.username || customer.id,
          ...(customer.email ? { email: customer.email } : {}),
          conversationId: listed.id,
          lastMessageAt: listed.updated_time ?? new Date(0).toISOString(),
          messageCount: listed.message_count ?? messages.length,
          aiContext,
        });
        if (saved !== 'already-counted') result.synced++;
      }
      after = paging?.next ? paging.cursors?.after : undefined;
    } while (after);
  }
  return { ...result, wallMs: performance.now() - t0 };
}
