import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { ContactSyncStack, configFromContext } from '../infra/stack.ts';
import type { CfnTemplate } from './cloudformation.ts';

/**
 * Synthesizes the real stack from infra/ (not a copy of its definition) with local context.
 * Bundling is skipped: locally the handlers run from source, in-process.
 */
export function synthesizeTemplate(context: Record<string, unknown>): CfnTemplate {
  const outdir = mkdtempSync(path.join(tmpdir(), 'contact-sync-synth-'));
  try {
    const app = new App({ outdir, context: { ...context, 'aws:cdk:bundling-stacks': [] } });
    const stack = new ContactSyncStack(app, 'ContactSyncLocal', configFromContext(app));
    const assembly = app.synth();
    return assembly.getStackArtifact(stack.artifactId).template as CfnTemplate;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
