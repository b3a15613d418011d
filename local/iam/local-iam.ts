import type { TemplateResolver } from '../cloudformation.ts';
import { tagCallerRequests } from './caller-identity.ts';
import { conditionHolds, type IamRequest, isAllowed } from './policy-evaluation.ts';
import { type Principal, principalsFromTemplate } from './template-principals.ts';

/**
 * The template's IAM policies, enforced by the embedded stack. Nothing local can reach AWS, so
 * this is what proves a narrowed role is still sufficient: a handler (or the state machine) that
 * does something its role does not allow gets AccessDeniedException, as on AWS, and the denial
 * is recorded and makes `stack.stop()` fail.
 *
 * The parts: who the principals are and what their roles allow (template-principals.ts), how a
 * policy decides (policy-evaluation.ts), who makes a call (caller-identity.ts), what a DynamoDB
 * call needs (action-mapping.ts).
 *
 * Enforcement points: the DynamoDB proxy (dynamodb-faults.ts) for the handlers' DynamoDB calls;
 * aws-json-server.ts for Step Functions, KMS and EventBridge (each service says what a call
 * needs: `iamRequests`); s3.ts for S3; sfn-tasks.ts for the state machine's own tasks.
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

export interface Denial extends IamRequest {
  /** The calling function's or state machine's ARN. */
  caller: string;
  role: string;
  message: string;
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
   * Tags the requests the callers make to these endpoints with the caller header (nothing when
   * off). Returns the function that stops tagging.
   */
  tagRequests(endpoints: string[]): () => void {
    return this.mode === 'off' ? () => {} : tagCallerRequests(endpoints);
  }
}

/** Every LocalIam of this process, so the test setup can check the ones no `stop()` checked. */
const everyIam = new Set<LocalIam>();

/**
 * Throws when any stack of this process saw a denied call that is still recorded: the test
 * setup's last word, for a stack whose `stop()` was never called or whose failure was swallowed.
 */
export function assertNoDenialsAnywhere(): void {
  for (const iam of everyIam) iam.assertNoDenials();
}
