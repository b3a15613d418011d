import { afterAll, beforeAll } from 'vitest';
import type { CfnTemplate } from '../../../local/cloudformation.ts';
import type { LocalIam } from '../../../local/iam/local-iam.ts';
import type { IamRequest, PolicyStatement } from '../../../local/iam/policy-evaluation.ts';

export const allow = (Action: string | string[], Resource: string | string[]): PolicyStatement => ({
  Effect: 'Allow',
  Action,
  Resource,
});

export const request = (action: string, resource: string): IamRequest => ({ action, resource });

/** A template fragment: the function `name` and its role, whose one policy holds `statements`. */
export function functionWithRole(name: string, statements: PolicyStatement[]): CfnTemplate['Resources'] {
  return {
    [name]: { Type: 'AWS::Lambda::Function', Properties: { Role: { 'Fn::GetAtt': [`${name}Role`, 'Arn'] } } },
    [`${name}Role`]: { Type: 'AWS::IAM::Role', Properties: {} },
    [`${name}Policy`]: {
      Type: 'AWS::IAM::Policy',
      Properties: { Roles: [{ Ref: `${name}Role` }], PolicyDocument: { Statement: statements } },
    },
  };
}

/**
 * A local service behind `iam` for the tests of this file: started before them, with the requests
 * made under `runAs` tagged with their caller, and a client of it (`connect`); stopped after them.
 */
export function serveBehindIam<Server extends { endpoint: string; close(): Promise<void> }, Client>(
  iam: LocalIam,
  start: () => Promise<Server>,
  connect: (endpoint: string) => Client,
): { server: Server; client: Client } {
  const served = {} as { server: Server; client: Client };
  let untag: (() => void) | undefined;
  beforeAll(async () => {
    served.server = await start();
    untag = iam.tagRequests([served.server.endpoint]);
    served.client = connect(served.server.endpoint);
  });
  afterAll(async () => {
    untag?.();
    await served.server?.close();
  });
  return served;
}
