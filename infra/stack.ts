import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ContactSync } from './contact-sync.ts';
import type { ContactSyncConfig } from './stage-settings.ts';

export { type ContactSyncConfig, configFromContext } from './stage-settings.ts';

/**
 * A stage's stack (infra/app.ts): the `ContactSync` construct and nothing else. Its id is
 * `Default`, which CDK leaves out of logical ids, so the stage stacks keep the resources they had
 * when the product was the stack itself (test/infra/stage-templates.test.ts).
 */
export class ContactSyncStack extends Stack {
  readonly contactSync: ContactSync;

  constructor(scope: Construct, id: string, config: ContactSyncConfig, props?: StackProps) {
    super(scope, id, props);
    this.contactSync = new ContactSync(this, 'Default', config);
  }

  get data() {
    return this.contactSync.data;
  }
  get workflow() {
    return this.contactSync.workflow;
  }
  get events() {
    return this.contactSync.events;
  }
  get staging() {
    return this.contactSync.staging;
  }
  get api() {
    return this.contactSync.api;
  }
  get monitoring() {
    return this.contactSync.monitoring;
  }
  get webConsole() {
    return this.contactSync.webConsole;
  }
  get selfIssuer() {
    return this.contactSync.selfIssuer;
  }
}
