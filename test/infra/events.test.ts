import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_SOURCE, JOB_EVENT_TYPES } from '#shared/events/lifecycle.ts';
import { type Statement, synthesize } from './template.ts';

let template: Template;
let functionId: (name: string) => string;
let statementsOf: (name: string) => Statement[];

beforeAll(() => {
  ({ template, functionId, statementsOf } = synthesize({}, 'EventsTestStack'));
});

const busId = () => Object.keys(template.findResources('AWS::Events::EventBus'))[0] as string;

const canPublish = (name: string) =>
  statementsOf(name).some(
    (s) => s.Action === 'events:PutEvents' && JSON.stringify(s.Resource).includes(busId()),
  );

describe('lifecycle events and the execution mirror', () => {
  it('has one custom bus for the lifecycle events', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
  });

  it('routes this state machine execution status changes to the mirror function, with retries', () => {
    const [machine] = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'));
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [{ Ref: machine }] },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionId('mirror-execution'), 'Arn'] },
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 8 }),
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [functionId('mirror-execution'), 'Arn'] },
    });
  });

  it('sends the events that end a job, from the lifecycle bus only, to the function that discards its staged conversations', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter(
      (r) => r.Properties.EventBusName !== undefined,
    );
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties).toMatchObject({
      EventBusName: { Ref: busId() },
      EventPattern: {
        source: [EVENT_SOURCE],
        'detail-type': ['Sync Job Completed', 'Sync Job Failed', 'Sync Job Cancelled'],
      },
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [functionId('discard-staging'), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
        },
      ],
    });
    // Exactly the terminal statuses, as the publishers name them.
    const ending = rules[0]?.Properties.EventPattern['detail-type'] as string[];
    for (const type of ending) expect(JOB_EVENT_TYPES).toContain(type);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [functionId('discard-staging'), 'Arn'] },
    });
  });

  it.each(['start-sync', 'cancel-sync', 'cancel-sync-bulk', 'finalize-sync', 'disconnect-page'])(
    'lets %s publish on the bus, named in its environment',
    (name) => {
      expect(canPublish(name)).toBe(true);
      const env =
        template.findResources('AWS::Lambda::Function')[functionId(name)]?.Properties.Environment.Variables;
      expect(env.EVENT_BUS_NAME).toEqual({ Ref: busId() });
    },
  );

  it.each([
    'sync-status',
    'pages',
    'page-contacts',
    'read-conversations',
    'process-chunk',
    'mirror-execution',
    'discard-staging',
  ])('does not let %s publish', (name) => {
    expect(canPublish(name)).toBe(false);
  });

  it('gives the mirror only UpdateItem on the jobs table', () => {
    const actions = statementsOf('mirror-execution').flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:UpdateItem']);
  });

  it('lets the cancel function delete contacts (cleanup) and query the byCreatingJob index', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: 'byCreatingJob',
          KeySchema: [
            { AttributeName: 'createdByJobId', KeyType: 'HASH' },
            { AttributeName: 'contactKey', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['lastSyncJobId'] },
        }),
      ]),
    });
    const actions = statementsOf('cancel-sync').flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:DeleteItem', 'dynamodb:Query', 'events:PutEvents']),
    );
  });
});
