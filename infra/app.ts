import { App } from 'aws-cdk-lib';
import { ContactSyncStack, configFromContext } from './stack.ts';

/** `npm run synth` / `cdk deploy`: one stack, configured from cdk.json context. */
const app = new App();
new ContactSyncStack(app, app.node.tryGetContext('stackName') ?? 'ContactSync', configFromContext(app));
app.synth();
