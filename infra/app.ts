import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ContactSyncStack, configFromContext } from './stack.ts';
import { stackNameOf } from './stage-settings.ts';

/**
 * `npm run synth` / `cdk deploy`: one stack per stage (`-c stage=prod`), configured from the
 * `stages` in cdk.json. cdk-nag's AwsSolutions pack checks it: any finding not acknowledged
 * with a reason fails the synth.
 */
const app = new App();
const config = configFromContext(app);
new ContactSyncStack(app, app.node.tryGetContext('stackName') ?? stackNameOf(config.stage), config, {
  description: `Contact Sync (${config.stage}): Facebook Page conversations into CRM contacts, as stoppable syncs`,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
