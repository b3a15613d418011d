import { LOCAL_ACCOUNT, LOCAL_REGION } from '../cloudformation.ts';

/**
 * IAM's evaluation of identity-based policies, as the embedded stack applies them.
 * Statements: Allow and Deny (an explicit Deny wins), Action/NotAction and Resource/NotResource,
 * with `*` and `?` wildcards. Conditions: StringEquals/StringLike/ArnEquals/ArnLike (and their
 * Not forms) on aws:RequestedRegion, aws:PrincipalAccount and aws:ResourceAccount are evaluated;
 * a statement with any other condition is applied as if unconditional (LocalIam warns which).
 */

/** What one API call needs: an action on a resource ARN (a call may need several). */
export interface IamRequest {
  action: string;
  resource: string;
}

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** A policy field's values: IAM allows one value or a list. */
export const list = <T>(value: T | T[] | undefined): T[] =>
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
export function conditionHolds(condition: PolicyStatement['Condition']): boolean | undefined {
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
