import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ContactSyncStack, configFromContext } from '../../infra/stack.ts';
import { stackNameOf } from '../../infra/stage-settings.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The committed templates of the stages as they deploy (test/infra/fixtures/stage-templates.json). */
export const STAGE_FIXTURE = path.join(root, 'test/infra/fixtures/stage-templates.json');

/**
 * A template with what changes from one synth to the next left out: asset hashes (and the
 * hashed asset keys) and the construct paths of the metadata, which name no deployed property.
 */
export function normalize(template: unknown): unknown {
  return JSON.parse(
    JSON.stringify(template, (key, value) => (key === 'aws:cdk:path' ? undefined : value)).replace(
      /[0-9a-f]{64}/g,
      '<hash>',
    ),
  );
}

/** A stage's stack as `cdk synth -c stage=<stage>` builds it from cdk.json (no bundling). */
export function stageTemplate(stage: string): Record<string, unknown> {
  const { context } = JSON.parse(readFileSync(path.join(root, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({
    context: {
      ...context,
      stage,
      'aws:cdk:bundling-stacks': [],
      issuerKeyDir: mkdtempSync(path.join(tmpdir(), 'contact-sync-stage-')),
    },
  });
  const stack = new ContactSyncStack(app, stackNameOf(stage), configFromContext(app));
  return normalize(Template.fromStack(stack).toJSON()) as Record<string, unknown>;
}

/** `npx tsx test/infra/stage-template.ts`: rewrites the fixture from the stages as they are now (then `npx biome check --write test/infra/fixtures`). */
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const templates = { dev: stageTemplate('dev'), prod: stageTemplate('prod') };
  writeFileSync(STAGE_FIXTURE, `${JSON.stringify(templates, null, 2)}\n`);
}
