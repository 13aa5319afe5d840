import type { CfnElement } from 'aws-cdk-lib';
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthGateway } from './gateway-app.ts';

const { stack, template } = synthGateway();
const logicalId = (element: unknown) => stack.getLogicalId(element as CfnElement);

describe('event bus', () => {
  it('is named parley by default, or as configured, with no archive unless asked', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'parley' });
    template.resourceCountIs('AWS::Events::Archive', 0);
    const { template: custom } = synthGateway({
      gateway: { eventBusName: 'parley-staging', eventArchiveRetention: Duration.days(30) },
    });
    custom.hasResourceProperties('AWS::Events::EventBus', { Name: 'parley-staging' });
    custom.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 30, EventPattern: { source: ['parley'] } });
  });
});

describe('undelivered-events queue', () => {
  it('is SQS-encrypted, TLS-only and keeps messages the 14-day maximum', () => {
    const queueId = logicalId(stack.gateway.undeliveredEvents.queue.node.defaultChild);
    const queue = template.toJSON().Resources[queueId];
    expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});

describe('SES configuration set', () => {
  it('tracks reputation metrics and suppresses bounces and complaints', () => {
    template.hasResourceProperties('AWS::SES::ConfigurationSet', {
      ReputationOptions: { ReputationMetricsEnabled: true },
      SendingOptions: { SendingEnabled: true },
      SuppressionOptions: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
    });
  });
});

describe('token secret', () => {
  it('is 64 generated characters, encrypted with the data key', () => {
    const secret = Object.values(template.findResources('AWS::SecretsManager::Secret'))[0];
    expect(secret?.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
    expect(secret?.Properties.KmsKeyId).toEqual({
      'Fn::GetAtt': [logicalId(stack.gateway.table.key.node.defaultChild), 'Arn'],
    });
  });
});
