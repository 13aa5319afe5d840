import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseDeployConfig, stackPropsFor } from '../lib/deploy-config.ts';
import { ParleyStack } from '../lib/parley-stack.ts';

const app = new App();
const config = parseDeployConfig(app.node.tryGetContext('parley'));

new ParleyStack(app, config.stackName, {
  ...stackPropsFor(config),
  // Environment-agnostic unless the CLI knows an account and region, so `cdk synth` needs no credentials.
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

// The AwsSolutions rules run at every synth: an unacknowledged error fails it, a warning is printed.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
