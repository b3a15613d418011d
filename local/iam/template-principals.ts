import type { TemplateResolver } from '../cloudformation.ts';
import { list, type PolicyStatement } from './policy-evaluation.ts';

/**
 * The principals of the synthesized template: the functions that run locally (those with the
 * entry metadata, see LambdaRuntime) and every state machine. Each one's role is found through
 * its `Role`/`RoleArn`; its statements are those of the `AWS::IAM::Policy` and
 * `AWS::IAM::ManagedPolicy` resources naming the role in `Roles`, plus the role's inline
 * `Policies`. Not modeled: AWS managed policies (AWSLambdaBasicExecutionRole: logs only),
 * resource-based policies (Lambda permissions for API Gateway and EventBridge, key policies),
 * permission boundaries and SCPs.
 */
export interface Principal {
  arn: string;
  /** The role's ARN; its session name is the caller's name, as STS shows it. */
  roleArn: string;
  sessionName: string;
  statements: PolicyStatement[];
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
export function principalsFromTemplate(
  resolver: TemplateResolver,
  functions: string[],
): Map<string, Principal> {
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
