import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { expect } from 'vitest';
import { ContactSyncStack, configFromContext } from '../../infra/stack.ts';
import { TemplateResolver } from '../../local/cloudformation.ts';

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

// A stage with `jwtIssuer: self` keeps its signing key here, not in the repository's .deploy/.
const issuerKeyDir = mkdtempSync(path.join(tmpdir(), 'contact-sync-issuer-'));

/** The stack from infra/, synthesized with test context (no bundling), and helpers to read it. */
export function synthesize(context: Record<string, unknown> = {}, stackId = 'TestStack') {
  const app = new App({
    context: {
      jwtIssuer: 'https://issuer.example.com/',
      jwtAudience: 'contact-sync-test',
      'aws:cdk:bundling-stacks': [],
      issuerKeyDir,
      ...context,
    },
  });
  const stack = new ContactSyncStack(app, stackId, configFromContext(app));
  const template = Template.fromStack(stack);
  const functions = template.findResources('AWS::Lambda::Function');

  /** The logical id of the function built from functions/<name>. */
  const functionId = (name: string): string => {
    const [id] = Object.entries(functions).find(
      ([, r]) => r.Metadata?.['contact-sync:entry'] === `functions/${name}/handler.ts`,
    ) ?? [''];
    expect(id, `function ${name}`).not.toBe('');
    return id;
  };
  /** Every statement of the policies attached to a role. */
  const statementsOfRole = (roleId: string): Statement[] =>
    Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
  /** The statements of the role of the function built from functions/<name>. */
  const statementsOf = (name: string): Statement[] =>
    statementsOfRole(functions[functionId(name)]?.Properties.Role['Fn::GetAtt'][0]);
  const logicalId = (construct: IConstruct) =>
    Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
  /** The state machine's definition, tokens resolved the way the embedded stack does. */
  const definition = () => {
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    return JSON.parse(
      new TemplateResolver(template.toJSON() as never).resolve(
        machine?.Properties.DefinitionString,
      ) as string,
    ) as { StartAt: string; States: Record<string, Record<string, unknown>> };
  };
  return { app, stack, template, functionId, statementsOf, statementsOfRole, logicalId, definition };
}
