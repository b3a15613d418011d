import { AsyncLocalStorage } from 'node:async_hooks';
import dc from 'node:diagnostics_channel';
import { type ClientRequest, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Duplex } from 'node:stream';
import { LOCAL_ACCOUNT, LOCAL_REGION, localArn, type TemplateResolver } from './cloudformation.ts';

/**
 * The template's IAM policies, enforced by the embedded stack. Nothing local can reach AWS, so
 * this is what proves a narrowed role is still sufficient: a handler (or the state machine) that
 * does something its role does not allow gets AccessDeniedException, as on AWS, and the denial
 * is recorded and makes `stack.stop()` fail.
 *
 * Principals: the functions that run locally (those with the entry metadata, see LambdaRuntime)
 * and every state machine. Each one's role is found through its `Role`/`RoleArn`; its statements
 * are those of the `AWS::IAM::Policy` and `AWS::IAM::ManagedPolicy` resources naming the role in
 * `Roles`, plus the role's inline `Policies`. Not modeled: AWS managed policies
 * (AWSLambdaBasicExecutionRole: logs only), resource-based policies (Lambda permissions for API
 * Gateway and EventBridge, key policies), permission boundaries and SCPs.
 * Statements: Allow and Deny (an explicit Deny wins), Action/NotAction and Resource/NotResource,
 * with `*` and `?` wildcards. Conditions: StringEquals/StringLike/ArnEquals/ArnLike (and their
 * Not forms) on aws:RequestedRegion, aws:PrincipalAccount and aws:ResourceAccount are evaluated;
 * a statement with any other condition is applied as if unconditional (a warning says which).
 *
 * Callers: all handlers share this process and their module-scope SDK clients, so each invocation
 * runs in an AsyncLocalStorage context holding its function ARN (`runAs`, LambdaRuntime.invoke),
 * and every HTTP request made in that context to a local AWS endpoint gets an `x-local-caller`
 * header (node:diagnostics_channel `http.client.request.created`, which the SDK's NodeHttpHandler
 * goes through before it writes the headers, and `undici:request:create` for fetch; a Node
 * without the first is refused at start). Local servers check no signatures, so a header added
 * after SigV4 signing is fine. Requests without the header (tests, seeding) are not enforced.
 *
 * Enforcement points: the DynamoDB proxy (dynamodb-faults.ts) for the handlers' DynamoDB calls;
 * aws-json-server.ts for Step Functions, KMS and EventBridge (each service says what a call
 * needs: `iamRequests`); s3.ts for S3; sfn-server.ts for the state machine's own tasks.
 *
 * Modes (`startLocalStack({ iam })`, else the LOCAL_IAM environment variable), for debugging:
 * - `enforce` (default): deny, record, print one line to stderr, fail at stop;
 * - `audit`: record, print and fail at stop, but let the call through (to list every missing
 *   permission of a narrowed policy in one run);
 * - `off`: no checks at all.
 */
export type IamMode = 'enforce' | 'audit' | 'off';

export function iamModeFromEnv(value = process.env.LOCAL_IAM): IamMode {
  if (value === undefined || value === '' || value === 'enforce') return 'enforce';
  if (value === 'audit' || value === 'off') return value;
  throw new Error(`LOCAL_IAM must be enforce, audit or off (got ${value})`);
}

/** What one API call needs: an action on a resource ARN (a call may need several). */
export interface IamRequest {
  action: string;
  resource: string;
}

export interface Denial extends IamRequest {
  /** The calling function's or state machine's ARN. */
  caller: string;
  role: string;
  message: string;
}

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

interface Principal {
  arn: string;
  /** The role's ARN; its session name is the caller's name, as STS shows it. */
  roleArn: string;
  sessionName: string;
  statements: PolicyStatement[];
}

export const CALLER_HEADER = 'x-local-caller';

const callers = new AsyncLocalStorage<string>();

/** Runs `fn` as `callerArn`: the local AWS requests it makes are checked against that role. */
export function runAs<T>(callerArn: string, fn: () => T): T {
  return callers.run(callerArn, fn);
}

export function callerOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers[CALLER_HEADER];
  return typeof value === 'string' && value ? value : undefined;
}

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** IAM's wildcards: `*` any run of characters (also `:` and `/`), `?` one character. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const key = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let regex = patterns.get(key);
  if (!regex) {
    const source = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    regex = new RegExp(`^${source}$`, ignoreCase ? 'i' : '');
    patterns.set(key, regex);
  }
  return regex.test(value);
}
const patterns = new Map<string, RegExp>();

const CONDITION_KEYS: Record<string, string> = {
  'aws:requestedregion': LOCAL_REGION,
  'aws:principalaccount': LOCAL_ACCOUNT,
  'aws:resourceaccount': LOCAL_ACCOUNT,
};

/** A condition block's verdict, or undefined when it uses something not evaluated locally. */
function conditionHolds(condition: PolicyStatement['Condition']): boolean | undefined {
  let verdict = true;
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    const match = /^(String|Arn)(Not)?(Equals|Like)$/.exec(operator);
    if (!match) return undefined;
    for (const [key, expected] of Object.entries(keys)) {
      const actual = CONDITION_KEYS[key.toLowerCase()];
      if (actual === undefined) return undefined;
      const hit = list(expected).some((e) => (match[3] === 'Like' ? wildcardMatch(e, actual) : e === actual));
      if (hit === Boolean(match[2])) verdict = false;
    }
  }
  return verdict;
}

function applies(statement: PolicyStatement, { action, resource }: IamRequest): boolean {
  const actionHit = (patterns: string[]) => patterns.some((p) => wildcardMatch(p, action, true));
  const resourceHit = (patterns: string[]) => patterns.some((p) => wildcardMatch(p, resource));
  if (statement.Action ? !actionHit(list(statement.Action)) : !statement.NotAction) return false;
  if (statement.NotAction && actionHit(list(statement.NotAction))) return false;
  if (statement.Resource ? !resourceHit(list(statement.Resource)) : !statement.NotResource) return false;
  if (statement.NotResource && resourceHit(list(statement.NotResource))) return false;
  return conditionHolds(statement.Condition) ?? true;
}

/** IAM's evaluation for one identity: allowed when a statement allows it and none denies it. */
export function isAllowed(statements: PolicyStatement[], request: IamRequest): boolean {
  let allowed = false;
  for (const statement of statements) {
    if (!applies(statement, request)) continue;
    if (statement.Effect === 'Deny') return false;
    allowed = true;
  }
  return allowed;
}

/** The statements given to each role (by role name), from the template's policies. */
function statementsByRole(resolver: TemplateResolver): Map<string, PolicyStatement[]> {
  const byRole = new Map<string, PolicyStatement[]>();
  const add = (role: string, document: unknown) => {
    const statements = list((document as { Statement?: PolicyStatement | PolicyStatement[] }).Statement);
    byRole.set(role, [...(byRole.get(role) ?? []), ...statements]);
  };
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [, resource] of resolver.resourcesOfType(type)) {
      const props = resolver.resolve(resource.Properties ?? {}) as {
        Roles?: string[];
        PolicyDocument?: unknown;
      };
      for (const role of props.Roles ?? []) add(role, props.PolicyDocument ?? {});
    }
  }
  for (const [id, resource] of resolver.resourcesOfType('AWS::IAM::Role')) {
    const props = resolver.resolve(resource.Properties ?? {}) as { Policies?: { PolicyDocument: unknown }[] };
    for (const policy of props.Policies ?? []) add(resolver.ref(id), policy.PolicyDocument);
  }
  return byRole;
}

/** The principals of the template, by ARN: `functions` (logical ids) and the state machines. */
function principalsFromTemplate(resolver: TemplateResolver, functions: string[]): Map<string, Principal> {
  const byRole = statementsByRole(resolver);
  const roleNameOf = new Map(
    resolver.resourcesOfType('AWS::IAM::Role').map(([id]) => [resolver.getAtt(id, 'Arn'), resolver.ref(id)]),
  );
  const principals = new Map<string, Principal>();
  const add = (arn: string, roleArn: unknown) => {
    const role = roleNameOf.get(String(roleArn));
    if (!role) throw new Error(`${arn}: role ${String(roleArn)} is not in the template`);
    principals.set(arn, {
      arn,
      roleArn: String(roleArn),
      sessionName: arn.split(':').at(-1) as string,
      statements: byRole.get(role) ?? [],
    });
  };
  for (const id of functions) {
    add(resolver.getAtt(id, 'Arn'), resolver.resolve(resolver.template.Resources[id]?.Properties?.Role));
  }
  for (const [id, resource] of resolver.resourcesOfType('AWS::StepFunctions::StateMachine')) {
    add(resolver.ref(id), resolver.resolve(resource.Properties?.RoleArn));
  }
  return principals;
}

/** The IAM side of the embedded stack: the template's principals, the checks, the denials. */
export interface LocalIamOptions {
  /** @default LOCAL_IAM, else `enforce` */
  mode?: IamMode;
  /** Where the one-line reports go. @default stderr */
  report?: (line: string) => void;
}

export class LocalIam {
  readonly denials: Denial[] = [];
  /** What each caller was allowed to do ("action resource"): what its role really needs. */
  readonly used = new Map<string, Set<string>>();
  readonly mode: IamMode;
  private readonly report: (line: string) => void;

  constructor(
    private readonly principals: Map<string, Principal>,
    opts: LocalIamOptions = {},
  ) {
    this.mode = opts.mode ?? iamModeFromEnv();
    this.report = opts.report ?? ((line) => process.stderr.write(`${line}\n`));
    everyIam.add(this);
  }

  /** `functions`: the logical ids of the functions that run locally (LambdaRuntime.functionIds). */
  static fromTemplate(resolver: TemplateResolver, functions: string[], opts: LocalIamOptions = {}): LocalIam {
    const iam = new LocalIam(principalsFromTemplate(resolver, functions), opts);
    for (const principal of iam.principals.values()) {
      for (const statement of principal.statements) {
        if (statement.Condition && conditionHolds(statement.Condition) === undefined)
          iam.report(
            `[iam] ${principal.arn}: condition ${JSON.stringify(statement.Condition)} is not evaluated locally`,
          );
      }
    }
    return iam;
  }

  /**
   * Checks a call of `caller` (a function or state machine ARN; undefined: the harness, never
   * checked). Each denied request is recorded and printed; the result is the first denial the
   * caller must get (none in audit mode).
   */
  authorize(caller: string | undefined, requests: IamRequest[]): Denial | undefined {
    if (caller === undefined || this.mode === 'off') return undefined;
    const principal = this.principals.get(caller);
    let first: Denial | undefined;
    const unique = new Map(requests.map((r) => [`${r.action} ${r.resource}`, r]));
    for (const request of unique.values()) {
      if (principal && isAllowed(principal.statements, request)) {
        const used = this.used.get(caller) ?? new Set();
        this.used.set(caller, used.add(`${request.action} ${request.resource}`));
        continue;
      }
      const user = principal
        ? `${principal.roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/${principal.sessionName}`
        : caller;
      const denial: Denial = {
        caller,
        role: principal?.roleArn ?? '(no role in the template)',
        ...request,
        message: `User: ${user} is not authorized to perform: ${request.action} on resource: ${request.resource} because no identity-based policy allows the ${request.action} action`,
      };
      this.denials.push(denial);
      this.report(`[iam] DENIED ${request.action} on ${request.resource} to ${caller} (role ${denial.role})`);
      first ??= denial;
    }
    return this.mode === 'enforce' ? first : undefined;
  }

  /** Whether `caller`'s role allows `request`, without recording anything (what a service reveals to it). */
  allows(caller: string, request: IamRequest): boolean {
    if (this.mode === 'off') return true;
    const principal = this.principals.get(caller);
    return principal !== undefined && isAllowed(principal.statements, request);
  }

  /** Returns and forgets the denials so far (a test that provokes one on purpose). */
  takeDenials(): Denial[] {
    return this.denials.splice(0);
  }

  /** Throws when any call was denied: a role in the template lacks a permission its code uses. */
  assertNoDenials(): void {
    if (this.denials.length === 0) return;
    const lines = this.denials.map((d) => `  ${d.caller}: ${d.action} on ${d.resource}`);
    throw new Error(
      `IAM: ${this.denials.length} call(s) were denied by the template's policies:\n${[...new Set(lines)].join('\n')}`,
    );
  }

  /**
   * Tags the requests the callers make to these endpoints with the caller header. Returns the
   * function that stops tagging.
   */
  tagRequests(endpoints: string[]): () => void {
    if (this.mode === 'off') return () => {};
    if (!httpRequestsAnnounced())
      throw new Error(
        `IAM enforcement needs the http.client.request.created diagnostics channel (Node >= 22.14), not ${process.version}: use the project's Node (npm scripts, npx), or LOCAL_IAM=off`,
      );
    const hosts = new Set(endpoints.map((e) => new URL(e).host));
    const onHttp = (message: unknown) => {
      const caller = callers.getStore();
      const request = (message as { request: ClientRequest }).request;
      if (caller && hosts.has(String(request.getHeader('host')))) request.setHeader(CALLER_HEADER, caller);
    };
    const onFetch = (message: unknown) => {
      const caller = callers.getStore();
      const request = (message as { request: { origin: string; addHeader(k: string, v: string): void } })
        .request;
      if (caller && hosts.has(new URL(request.origin).host)) request.addHeader(CALLER_HEADER, caller);
    };
    dc.subscribe('http.client.request.created', onHttp);
    dc.subscribe('undici:request:create', onFetch);
    return () => {
      dc.unsubscribe('http.client.request.created', onHttp);
      dc.unsubscribe('undici:request:create', onFetch);
    };
  }
}

/** Whether this Node announces each ClientRequest before its headers are written. */
function httpRequestsAnnounced(): boolean {
  let seen = false;
  const probe = () => {
    seen = true;
  };
  dc.subscribe('http.client.request.created', probe);
  try {
    // Never connects: the socket is a stub, and the request is destroyed at once.
    const probeRequest = httpRequest({
      host: '127.0.0.1',
      createConnection: () => new Duplex({ read() {}, write: (_chunk, _encoding, done) => done() }) as never,
    });
    probeRequest.on('error', () => {});
    probeRequest.destroy();
  } finally {
    dc.unsubscribe('http.client.request.created', probe);
  }
  return seen;
}

const everyIam = new Set<LocalIam>();

/**
 * Throws when any stack of this process saw a denied call that is still recorded: the test
 * setup's last word, for a stack whose `stop()` was never called or whose failure was swallowed.
 */
export function assertNoDenialsAnywhere(): void {
  for (const iam of everyIam) iam.assertNoDenials();
}

type Json = Record<string, unknown>;

const tableArn = (nameOrArn: unknown) => {
  const name = String(nameOrArn ?? '');
  return name.startsWith('arn:') ? name : localArn.table(name);
};

/** Query and Scan on an index need the index's ARN. */
const indexed = (body: Json) =>
  body.IndexName ? `${tableArn(body.TableName)}/index/${body.IndexName}` : tableArn(body.TableName);

const TRANSACT_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Get: 'dynamodb:GetItem',
};

/**
 * What a DynamoDB API call (X-Amz-Target `DynamoDB_20120810.<operation>`) needs: batches need
 * their action on every table, transactions the action of each item on its table, Query and Scan
 * on an index the index's ARN. Other operations need `dynamodb:<operation>` on their table (or
 * `*` when they name none).
 */
export function dynamoDbRequests(operation: string, body: Json): IamRequest[] {
  switch (operation) {
    case 'Query':
    case 'Scan':
      return [{ action: `dynamodb:${operation}`, resource: indexed(body) }];
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((body.RequestItems as Json | undefined) ?? {}).map((table) => ({
        action: `dynamodb:${operation}`,
        resource: tableArn(table),
      }));
    case 'TransactWriteItems':
    case 'TransactGetItems':
      return ((body.TransactItems as Json[] | undefined) ?? []).flatMap((item) =>
        Object.entries(item)
          .filter(([kind]) => kind in TRANSACT_ACTIONS)
          .map(([kind, op]) => ({
            action: TRANSACT_ACTIONS[kind] as string,
            resource: tableArn((op as Json).TableName),
          })),
      );
    default:
      return [{ action: `dynamodb:${operation}`, resource: body.TableName ? tableArn(body.TableName) : '*' }];
  }
}
