import { beforeAll, describe, expect, it } from 'vitest';
import { type Statement, synthesize } from './template.ts';

/**
 * Each role holds exactly the grants below, written as "action resource". A grant added to
 * infra/ without a line here fails, and so does one removed; the embedded stack enforces the
 * same policies, so a grant the code needs but lacks fails the end-to-end tests.
 */
let t: ReturnType<typeof synthesize>;
let label: (resource: unknown) => string;

beforeAll(() => {
  t = synthesize();
  const { stack, logicalId } = t;
  const named: [string, string][] = [
    ['jobs', logicalId(stack.data.jobs)],
    ['pages', logicalId(stack.data.pages)],
    ['contacts', logicalId(stack.data.contacts)],
    ['idempotency', logicalId(stack.data.idempotency)],
    ['rateLimits', logicalId(stack.data.rateLimits)],
    ['page token key', logicalId(stack.data.pageTokenKey)],
    ['event bus', logicalId(stack.events.bus)],
    ['staging bucket', logicalId(stack.staging.bucket)],
    ['staging key', logicalId(stack.staging.key)],
    ['this state machine', logicalId(stack.workflow.stateMachine)],
    ...['read-conversations', 'process-chunk', 'finalize-sync'].map(
      (name) => [name, t.functionId(name)] as [string, string],
    ),
  ];
  label = (resource) => {
    const text = JSON.stringify(resource);
    if (text === '"*"') return '*';
    if (text.includes(':execution:TestStack-contact-sync:*')) return 'executions of this state machine';
    if (text.includes(':stateMachine:TestStack-contact-sync')) return 'this state machine';
    if (text.includes(':foundation-model/')) return 'the bedrock model';
    if (/Logs[0-9A-F]{8}"/.test(text)) return 'own log group';
    for (const [name, id] of named) {
      if (!text.includes(`"${id}"`)) continue;
      const index = /\/index\/(\w+)/.exec(text)?.[1];
      if (index) return `${name}/index/${index}`;
      if (text.endsWith('"/jobs/*"]]}')) return `${name} jobs/*`;
      return text.endsWith(':*"]]}') ? `${name} (any version)` : name;
    }
    return text;
  };
});

const grants = (statements: Statement[]) =>
  statements
    .flatMap((s) => {
      expect(s.Effect).toBe('Allow');
      return [s.Action].flat().flatMap((action) => [s.Resource].flat().map((r) => `${action} ${label(r)}`));
    })
    .sort();

const db = (table: string, ...actions: string[]) => actions.map((a) => `dynamodb:${a} ${table}`);
const publish = 'events:PutEvents event bus';
const stop = 'states:StopExecution executions of this state machine';
const start = 'states:StartExecution this state machine';
const history = 'states:GetExecutionHistory executions of this state machine';
const decrypt = 'kms:Decrypt page token key';
// The staging store: objects under jobs/ (named after their job), the bucket's listing (so that a
// chunk not staged yet is a 404, not a 403), and its own key.
const staged = (...actions: string[]) => actions.map((a) => `s3:${a} staging bucket jobs/*`);
const listStaging = 's3:ListBucket staging bucket';
const stagingKey = (...actions: string[]) => actions.map((a) => `kms:${a} staging key`);

const EXPECTED: Record<string, string[]> = {
  'read-conversations': [
    ...db('pages', 'GetItem'),
    ...db('jobs', 'GetItem', 'UpdateItem'),
    ...db('contacts', 'BatchGetItem'),
    ...db('rateLimits', 'GetItem', 'UpdateItem'),
    decrypt,
    ...staged('PutObject', 'GetObject', 'DeleteObject'),
    listStaging,
    ...stagingKey('GenerateDataKey', 'Decrypt'),
  ],
  'process-chunk': [
    ...db('pages', 'GetItem', 'UpdateItem'),
    ...db('jobs', 'GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'ConditionCheckItem'),
    ...db('contacts', 'BatchGetItem', 'PutItem', 'UpdateItem'),
    ...staged('GetObject'),
    listStaging,
    ...stagingKey('Decrypt'),
    'bedrock:InvokeModel the bedrock model',
  ],
  'finalize-sync': [...db('jobs', 'GetItem', 'UpdateItem', 'Query'), ...db('pages', 'UpdateItem'), publish],
  'start-sync': [
    ...db('pages', 'GetItem', 'UpdateItem'),
    ...db('jobs', 'GetItem', 'PutItem', 'UpdateItem'),
    ...db('idempotency', 'GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'),
    start,
    publish,
  ],
  'cancel-sync': [
    ...db('jobs', 'GetItem', 'UpdateItem'),
    ...db('pages', 'UpdateItem'),
    // Cancel with cleanup: the contacts the job created, each deleted conditionally.
    ...db('contacts/index/byCreatingJob', 'Query'),
    ...db('contacts', 'GetItem', 'DeleteItem'),
    stop,
    publish,
  ],
  'cancel-sync-bulk': [
    ...db('pages', 'GetItem', 'UpdateItem'),
    ...db('pages/index/byOrganization', 'Query'),
    ...db('jobs', 'GetItem', 'UpdateItem'),
    ...db('jobs/index/byPage', 'Query'),
    stop,
    publish,
  ],
  'pause-sync': [...db('jobs', 'GetItem', 'UpdateItem'), stop, publish],
  'resume-sync': [...db('jobs', 'GetItem', 'UpdateItem'), start, publish],
  'retry-sync': [
    ...db('pages', 'GetItem', 'UpdateItem'),
    ...db('jobs', 'GetItem', 'PutItem', 'UpdateItem'),
    start,
    publish,
  ],
  'mirror-execution': db('jobs', 'UpdateItem'),
  // Deletes what an ended job staged: lists its prefix, deletes the objects (no key needed).
  'discard-staging': [...staged('DeleteObject'), listStaging],
  'sync-status': db('jobs', 'GetItem', 'Query'),
  // An execution's history, of this state machine's executions only (pinned below).
  'sync-execution': [...db('jobs', 'GetItem', 'PutItem'), history],
  'sync-jobs': [...db('pages', 'GetItem'), ...db('jobs/index/byPage', 'Query')],
  pages: [
    ...db('pages/index/byOrganization', 'Query'),
    ...db('jobs', 'GetItem'),
    ...db('jobs/index/byPage', 'Query'),
  ],
  'page-contacts': [...db('pages', 'GetItem'), ...db('contacts', 'Query')],
  // Connect and replace check the token with Graph (rate-limit slots) before they encrypt it.
  'connect-page': [
    ...db('pages', 'GetItem', 'PutItem'),
    ...db('jobs', 'GetItem'),
    ...db('jobs/index/byPage', 'Query'),
    ...db('rateLimits', 'GetItem', 'UpdateItem'),
    'kms:Encrypt page token key',
  ],
  'replace-page-token': [
    ...db('pages', 'GetItem', 'UpdateItem'),
    ...db('jobs', 'GetItem'),
    ...db('jobs/index/byPage', 'Query'),
    ...db('rateLimits', 'GetItem', 'UpdateItem'),
    'kms:Encrypt page token key',
  ],
  'disconnect-page': [
    ...db('pages', 'GetItem', 'UpdateItem', 'DeleteItem'),
    ...db('jobs', 'GetItem', 'UpdateItem'),
    stop,
    publish,
  ],
  openapi: [],
};

// Every function writes its own log group and its X-Ray traces, and nothing else by default.
const BASE = [
  'logs:CreateLogStream own log group',
  'logs:PutLogEvents own log group',
  'xray:PutTelemetryRecords *',
  'xray:PutTraceSegments *',
];

/** The ARN of this state machine's executions, as the template writes it in a statement. */
const EXECUTIONS_OF_THIS_MACHINE = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':states:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':execution:TestStack-contact-sync:*',
    ],
  ],
};

describe('least privilege', () => {
  it.each(Object.entries(EXPECTED))('grants %s exactly what its code uses', (name, expected) => {
    expect(grants(t.statementsOf(name))).toEqual([...BASE, ...expected].sort());
  });

  it('covers every function', () => {
    const functions = Object.values(t.template.findResources('AWS::Lambda::Function')).filter(
      (f) => f.Metadata?.['contact-sync:entry'],
    );
    expect(functions).toHaveLength(Object.keys(EXPECTED).length);
  });

  it('lets the cancel function only read and update jobs, release the lock, and stop this state machine executions', () => {
    const cancel = grants(t.statementsOf('cancel-sync'));
    expect(cancel.filter((g) => g.includes(' jobs'))).toEqual(db('jobs', 'GetItem', 'UpdateItem'));
    expect(cancel.filter((g) => g.startsWith('states:'))).toEqual([stop]);
    const [statement] = t.statementsOf('cancel-sync').filter((s) => s.Action === 'states:StopExecution');
    expect(statement?.Resource).toEqual(EXECUTIONS_OF_THIS_MACHINE);
  });

  it("lets the execution view read only this state machine's executions' history, and write only jobs' items", () => {
    const view = grants(t.statementsOf('sync-execution'));
    expect(view.filter((g) => g.startsWith('states:'))).toEqual([history]);
    expect(view.filter((g) => /:(Put|Update|Delete)Item /.test(g))).toEqual(db('jobs', 'PutItem'));
    // Of every function, only the view reads execution histories.
    const readers = Object.keys(EXPECTED).filter((name) => grants(t.statementsOf(name)).includes(history));
    expect(readers).toEqual(['sync-execution']);
    const [statement] = t
      .statementsOf('sync-execution')
      .filter((s) => s.Action === 'states:GetExecutionHistory');
    expect(statement?.Resource).toEqual(EXECUTIONS_OF_THIS_MACHINE);
  });

  it('lets the start function only start this state machine and write the job and the page lock', () => {
    const startSync = grants(t.statementsOf('start-sync'));
    expect(startSync.filter((g) => g.startsWith('states:'))).toEqual([start]);
    expect(startSync.filter((g) => /:(Put|Update|Delete)Item (jobs|pages)$/.test(g))).toEqual(
      [...db('jobs', 'PutItem', 'UpdateItem'), ...db('pages', 'UpdateItem')].sort(),
    );
  });

  it('lets the workers read staged chunks and nothing else of the staging store, with no page token', () => {
    const worker = grants(t.statementsOf('process-chunk'));
    expect(worker.filter((g) => g.startsWith('s3:') || g.startsWith('kms:'))).toEqual(
      [...staged('GetObject'), listStaging, ...stagingKey('Decrypt')].sort(),
    );
    expect(worker.filter((g) => g.includes('page token key') || g.includes('rateLimits'))).toEqual([]);
    // Only the reader writes to the store; only the reader and the discard function delete from it.
    const writers = Object.keys(EXPECTED).filter((name) =>
      grants(t.statementsOf(name)).includes('s3:PutObject staging bucket jobs/*'),
    );
    expect(writers).toEqual(['read-conversations']);
    const deleters = Object.keys(EXPECTED).filter((name) =>
      grants(t.statementsOf(name)).includes('s3:DeleteObject staging bucket jobs/*'),
    );
    expect(deleters.sort()).toEqual(['discard-staging', 'read-conversations']);
  });

  it('lets the state machine invoke its own three functions, read and mark its job, and continue itself', () => {
    const role = t.template.findResources('AWS::StepFunctions::StateMachine')[
      t.logicalId(t.stack.workflow.stateMachine)
    ]?.Properties.RoleArn['Fn::GetAtt'][0];
    const workflow = grants(t.statementsOfRole(role));
    const invoke = ['read-conversations', 'process-chunk', 'finalize-sync'].flatMap((fn) => [
      `lambda:InvokeFunction ${fn}`,
      `lambda:InvokeFunction ${fn} (any version)`,
    ]);
    const delivery = [
      'logs:CreateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:DescribeLogGroups',
      'logs:DescribeResourcePolicies',
      'logs:GetLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:UpdateLogDelivery',
    ];
    const xray = ['GetSamplingRules', 'GetSamplingTargets', 'PutTelemetryRecords', 'PutTraceSegments'];
    expect(workflow).toEqual(
      [
        ...invoke,
        // The cancel checks read the status; "Mark job in progress" and the continuation record update it.
        ...db('jobs', 'GetItem', 'UpdateItem'),
        start,
        ...delivery.map((a) => `${a} *`),
        ...xray.map((a) => `xray:${a} *`),
      ].sort(),
    );
  });

  it('gives no role a managed policy or a wildcard action', () => {
    // CDK's deploy-time helper that uploads the web console is its own (acknowledged in infra/web-console.ts).
    const ours = (id: string) => !id.startsWith('CustomCDKBucketDeployment');
    for (const [id, role] of Object.entries(t.template.findResources('AWS::IAM::Role'))) {
      if (ours(id)) expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
    }
    for (const [id, policy] of Object.entries(t.template.findResources('AWS::IAM::Policy'))) {
      if (!ours(id)) continue;
      for (const s of policy.Properties.PolicyDocument.Statement as Statement[])
        for (const action of [s.Action].flat()) expect(action).not.toMatch(/\*/);
    }
  });
});
