import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsJsonError } from './aws-json-server.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, localArn, type TemplateResolver } from './cloudformation.ts';
import type { IamRequest } from './iam/policy-evaluation.ts';

type Json = Record<string, unknown>;

/** An event as EventBridge delivers it to a target. */
export interface LocalEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Json;
}

export interface RecordedEvent extends LocalEvent {
  /** The bus it was put on (`default` for AWS service events). */
  bus: string;
}

interface LocalRule {
  id: string;
  bus: string;
  pattern: Json;
  targets: string[];
}

/** The template's EventBridge rules, resolved: bus, pattern and Lambda targets. */
export function rulesFromTemplate(resolver: TemplateResolver): LocalRule[] {
  return resolver.resourcesOfType('AWS::Events::Rule').map(([id, resource]) => {
    const props = resolver.resolve(resource.Properties ?? {}) as {
      EventBusName?: string;
      EventPattern?: Json;
      Targets?: { Arn: string }[];
    };
    return {
      id,
      bus: busName(props.EventBusName),
      pattern: props.EventPattern ?? {},
      targets: (props.Targets ?? []).map((t) => t.Arn),
    };
  });
}

const busName = (nameOrArn?: string) => (nameOrArn ? (nameOrArn.split('/').at(-1) as string) : 'default');

/**
 * EventBridge's content filter, for the pattern forms the template uses: a list of allowed
 * values (matching the value, or any element of an array value), and nested objects.
 */
export function matchesPattern(pattern: Json, event: Json): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = event[key];
    if (Array.isArray(expected)) {
      const values = Array.isArray(actual) ? actual : [actual];
      return values.some((value) => expected.some((allowed) => allowed === value));
    }
    if (expected && typeof expected === 'object')
      return (
        actual !== null && typeof actual === 'object' && matchesPattern(expected as Json, actual as Json)
      );
    return false;
  });
}

/** How many events the local bus keeps for the feed. */
const KEEP = 5000;

/**
 * A local EventBridge: PutEvents (X-Amz-Target `AWSEvents.PutEvents`, served by
 * aws-json-server.ts and reached through AWS_ENDPOINT_URL_EVENTBRIDGE), the template's rules with
 * their Lambda targets (invoked asynchronously, as EventBridge does), a record of every event for
 * the local feed (`GET /__local/events`), and one log line per event.
 */
export class LocalEventBridge {
  readonly events: RecordedEvent[] = [];
  private readonly deliveries = new Set<Promise<unknown>>();

  constructor(
    private readonly rules: LocalRule[],
    private readonly invoke: (functionArn: string, event: LocalEvent) => Promise<unknown>,
    private readonly log?: (line: string) => void,
  ) {}

  /** PutEvents needs events:PutEvents on the bus of each entry. */
  iamRequests(operation: string, req: { Entries?: Json[] }): IamRequest[] {
    return (req.Entries ?? []).map((entry) => ({
      action: `events:${operation}`,
      resource: localArn.eventBus(busName(entry.EventBusName as string | undefined)),
    }));
  }

  PutEvents(req: { Entries?: Json[] }): Json {
    const entries = req.Entries ?? [];
    if (entries.length < 1 || entries.length > 10)
      throw new AwsJsonError('ValidationException', 'Entries must hold 1 to 10 events');
    const results = entries.map((entry) => {
      let detail: unknown;
      try {
        detail = JSON.parse(String(entry.Detail ?? ''));
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      if (!entry.Source || !entry.DetailType || !detail || typeof detail !== 'object')
        return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Source, DetailType and Detail are required.' };
      const event = this.emit(busName(entry.EventBusName as string | undefined), {
        source: String(entry.Source),
        'detail-type': String(entry.DetailType),
        resources: (entry.Resources as string[] | undefined) ?? [],
        detail: detail as Json,
      });
      return { EventId: event.id };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  /** Puts an event on `bus` (AWS services put theirs on `default`) and delivers it to matching rules. */
  emit(
    bus: string,
    event: Pick<LocalEvent, 'source' | 'detail-type' | 'resources' | 'detail'>,
  ): RecordedEvent {
    const recorded: RecordedEvent = {
      version: '0',
      id: randomUUID(),
      account: LOCAL_ACCOUNT,
      region: LOCAL_REGION,
      time: new Date().toISOString(),
      ...event,
      bus,
    };
    this.events.push(recorded);
    if (this.events.length > KEEP) this.events.splice(0, this.events.length - KEEP);
    this.log?.(describe(recorded));
    const { bus: _bus, ...delivered } = recorded;
    for (const rule of this.rules) {
      if (rule.bus !== bus || !matchesPattern(rule.pattern, delivered as unknown as Json)) continue;
      for (const target of rule.targets) {
        const delivery = this.invoke(target, delivered)
          .catch((error: Error) =>
            console.error(`Rule ${rule.id}: target ${target} failed: ${error.message}`),
          )
          .finally(() => this.deliveries.delete(delivery));
        this.deliveries.add(delivery);
      }
    }
    return recorded;
  }

  /** Waits for the deliveries in flight (tests and shutdown). */
  async drain(): Promise<void> {
    while (this.deliveries.size) await Promise.allSettled([...this.deliveries]);
  }

  /**
   * A fallback for serveHttpApi: `GET /__local/events[?jobId=&source=&detailType=&bus=]` answers
   * `{events}` oldest first. Local only: lifecycle events carry ids and counters, no secrets.
   */
  feed(): (req: IncomingMessage, res: ServerResponse) => boolean {
    return (req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/__local/events' || req.method !== 'GET') return false;
      const q = url.searchParams;
      const events = this.events.filter(
        (e) =>
          (!q.get('jobId') ||
            e.detail.jobId === q.get('jobId') ||
            String(e.detail.name ?? '').startsWith(String(q.get('jobId')))) &&
          (!q.get('source') || e.source === q.get('source')) &&
          (!q.get('detailType') || e['detail-type'] === q.get('detailType')) &&
          (!q.get('bus') || e.bus === q.get('bus')),
      );
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ events }));
      return true;
    };
  }
}

function describe(event: RecordedEvent): string {
  const d = event.detail;
  const fields = [
    d.jobId && `job=${d.jobId}`,
    d.name && `execution=${d.name}`,
    d.status && `status=${d.status}`,
    typeof d.syncedContacts === 'number' &&
      `synced=${d.syncedContacts} failed=${d.failedContacts} total=${d.totalContacts}`,
    d.cancelledBy && `by=${d.cancelledBy}`,
    d.cancelReason && `reason=${JSON.stringify(d.cancelReason)}`,
  ].filter(Boolean);
  return `[event] ${event.source} "${event['detail-type']}" ${fields.join(' ')}`;
}
