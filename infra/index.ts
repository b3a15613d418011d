/**
 * What a host CDK app imports: the product as one construct (`new ContactSync(scope, id, props)`),
 * its props and the parts it exposes. See docs/deploy.md.
 */
export { Cognito, ORG_ATTRIBUTE } from './cognito.ts';
export { ContactSync } from './contact-sync.ts';
export { ContactSyncStack } from './stack.ts';
export {
  type ContactSyncConfig,
  type ContactSyncProps,
  configFromContext,
  settingsOf,
} from './stage-settings.ts';
export type { ConsoleOidc } from './web-console.ts';
