import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routePath } from '#shared/api/routes.ts';
import { executionArnFor } from '#shared/sfn.ts';
import { localSfnClient } from '#test/e2e/http-client.ts';
import { ContactSyncStack, configFromContext } from '../../infra/stack.ts';
import { signLocalToken } from '../../local/auth.ts';
import { TemplateResolver } from '../../local/cloudformation.ts';
import { generatePage } from '../../local/graph-sim/demo-data/generate-page.ts';
import { DATA_DIR, type LocalStack, ROOT, startLocalStack } from '../../local/local-stack.ts';

// Two chunks per execution, so the 3 messenger chunks need a continuation (continue-as-new).
const context = { mapConcurrency: 7, chunkSize: 20, maxChunksPerSegment: 2 };
const page = generatePage({
  id: '900000000000001',
  name: 'Small Page',
  accessToken: 'small-token',
  messenger: 45,
  instagram: 12,
});

let stack: LocalStack;
let sfn: SFNClient;

beforeAll(async () => {
  stack = await startLocalStack({ port: 0, sfnPort: 0, graphSimPort: 0, pages: [page], context });
  sfn = localSfnClient(stack.sfnEndpoint);
});
afterAll(async () => {
  await stack?.stop();
});

describe('the local Step Functions engine', () => {
  it('runs the definition that infra/ synthesizes, not a copy', async () => {
    const machineArn = stack.machines[0]?.arn;
    const served = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: machineArn }));

    // An independent synthesis of the same stack, with the same context.
    const app = new App({
      context: {
        jwtIssuer: 'x',
        jwtAudience: 'y',
        graphApiUrl: stack.graphApiUrl,
        ...context,
        'aws:cdk:bundling-stacks': [],
      },
    });
    const template = Template.fromStack(
      new ContactSyncStack(app, 'ContactSyncLocal', configFromContext(app)),
    ).toJSON();
    const [, resource] = Object.entries(
      template.Resources as Record<string, { Type: string; Properties: { DefinitionString: unknown } }>,
    ).find(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine') as [
      string,
      { Properties: { DefinitionString: unknown } },
    ];
    const expected = JSON.parse(
      new TemplateResolver(template as never).resolve(resource.Properties.DefinitionString) as string,
    );

    expect(JSON.parse(served.definition as string)).toEqual(expected);
    // The context reached the running definition: it was built from infra/, with these settings.
    const parallel = expected.States['Read and process the list'];
    expect(parallel.Branches[1].States.Workers.MaxConcurrency).toBe(7);
    // Its logging and tracing are the template's too, as an operator's describe call shows them.
    expect(served.loggingConfiguration).toMatchObject({ level: 'ALL', includeExecutionData: false });
    // The template's log group (the local stack has no CloudWatch Logs, so it stays a reference).
    expect(served.loggingConfiguration?.destinations?.[0]?.cloudWatchLogsLogGroup?.logGroupArn).toMatch(
      /^WorkflowLogs[0-9A-F]{8}\.Arn$/,
    );
    expect(served.tracingConfiguration).toEqual({ enabled: true });
  });

  it('has no hand-written state machine definition under local/', () => {
    const files = readdirSync(path.join(ROOT, 'local'), { recursive: true, withFileTypes: true }).filter(
      (f) => f.isFile(),
    );
    for (const file of files) {
      const text = readFileSync(path.join(file.parentPath, file.name), 'utf8');
      expect(text, file.name).not.toContain('Check if cancelled before');
    }
  });

  it('runs a sync to completion with the cancel check before every chunk, named after the job', async () => {
    const token = await signLocalToken(DATA_DIR, { org: 'demo-org', user: 'tester' });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const started = await fetch(`${stack.apiUrl}${routePath('startSync')}`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ pageId: page.id }),
    });
    expect(started.status).toBe(202);
    const { jobId } = (await started.json()) as { jobId: string };

    let job: { status: string; syncedContacts: number; totalContacts: number } | undefined;
    for (let i = 0; i < 150 && job?.status !== 'COMPLETED'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const res = await fetch(`${stack.apiUrl}${routePath('syncStatus', { jobId })}`, { headers });
      job = ((await res.json()) as { job: typeof job }).job;
    }
    expect(job).toMatchObject({ status: 'COMPLETED', syncedContacts: 57, totalContacts: 57 });
    // Every worker drew from the shared per-Page budget: the simulator throttled nothing.
    expect(stack.graph?.stats().rateLimitRejections).toBe(0);

    const machineArn = stack.machines[0]?.arn;
    const first = executionArnFor(jobId, machineArn);
    const second = executionArnFor(`${jobId}-messenger1`, machineArn);
    // The job is COMPLETED by the Finalize step; the execution ends a moment later.
    const ended = async (executionArn: string) => {
      let described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      for (let i = 0; i < 100 && described.status === 'RUNNING'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      }
      return described;
    };
    expect(await ended(first)).toMatchObject({ name: jobId, status: 'SUCCEEDED' });
    expect(await ended(second)).toMatchObject({ name: `${jobId}-messenger1`, status: 'SUCCEEDED' });
    const { executions = [] } = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn }));
    expect(executions.filter((e) => e.name?.startsWith(jobId)).map((e) => e.name)).toHaveLength(2);

    const entered = async (executionArn: string) => {
      const { events = [] } = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }),
      );
      // Execution history carries ids and cursors only: no token, no message text.
      const history = JSON.stringify(events);
      expect(history).not.toContain('small-token');
      expect(history).not.toMatch(/"message"/);
      return events.map((e) => e.stateEnteredEventDetails?.name).filter(Boolean);
    };
    const [one, two] = [await entered(first), await entered(second)];
    // 45 messenger conversations in chunks of 20 -> 3 chunks: 2 in the first execution (a
    // segment is 2 chunks), then the continuation reads the last messenger chunk and instagram's
    // 12 (1 chunk). Each of the 7 worker slots takes its chunks; a slot that has not learnt the
    // segment's end with its last chunk takes one more turn to find it. Every turn checks the
    // cancel flag first.
    const turns = (names: (string | undefined)[]) => ({
      checks: names.filter((n) => n === 'Check if cancelled before the chunk').length,
      chunks: names.filter((n) => n === 'Process a staged chunk').length,
    });
    const each = (names: (string | undefined)[]) => {
      const { checks, chunks } = turns(names);
      expect(checks).toBe(chunks);
      expect(chunks).toBeGreaterThanOrEqual(2);
      expect(chunks).toBeLessThanOrEqual(2 + 7);
    };
    each(one);
    expect(one.filter((n) => n === 'Read conversations')).toHaveLength(1);
    expect(one.at(-1)).toBe('Continued in a new execution');
    each(two);
    expect(two).not.toContain('Mark job in progress');
    expect(two.at(-1)).toBe('Sync finished');
  });
});
