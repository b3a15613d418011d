import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { expect } from 'vitest';
import { ContactSyncStack, configFromContext } from '../../infra/stack.ts';
import { TemplateResolver } from '../../local/cloudformation.ts';

/** A state of the definition, as far as the tests read it. */
export type State = {
  Type: string;
  Resource?: string;
  Next?: string;
  End?: boolean;
  Choices?: ({ Next: string } & Record<string, unknown>)[];
  Default?: string;
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string | null }[];
  Branches?: Definition[];
  ItemProcessor?: Definition;
} & Record<string, unknown>;
export type Definition = { StartAt: string; States: Record<string, State> };

/**
 * Every state of a definition with the path of the state machines it sits in: the top level
 * first, then the states of each Parallel branch and of each Map's item processor, recursively.
 */
export function allStates(definition: Definition, within: string[] = []): [string, State, string[]][] {
  return Object.entries(definition.States).flatMap(([name, state]) => [
    [name, state, within] as [string, State, string[]],
    ...(state.Branches ?? []).flatMap((branch, i) => allStates(branch, [...within, `${name}[${i}]`])),
    ...(state.ItemProcessor ? allStates(state.ItemProcessor, [...within, name]) : []),
  ]);
}

/** The states of `machine` that name `target` as a next state (Next, a Choice rule, a Default or a Catch). */
export function predecessors(machine: Definition, target: string): string[] {
  return Object.entries(machine.States)
    .filter(([, s]) =>
      [
        s.Next,
        s.Default,
        ...(s.Choices ?? []).map((c) => c.Next),
        ...(s.Catch ?? []).map((c) => c.Next),
      ].includes(target),
    )
    .map(([name]) => name);
}

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
    ) as Definition;
  };
  return { app, stack, template, functionId, statementsOf, statementsOfRole, logicalId, definition };
}
