import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { functionLogicalId, logicalIdOf, synthGateway } from './gateway-app.ts';

const { stack, template } = synthGateway();
const { inboundSmsTopic, inboundSmsDeadLetters } = stack.gateway;
const topicId = logicalIdOf(stack, inboundSmsTopic.topic);
const keyId = logicalIdOf(stack, inboundSmsTopic.key);
const queueId = logicalIdOf(stack, inboundSmsDeadLetters.queue);
const resources = template.toJSON().Resources;

/** The conditions both the key and the topic put on End User Messaging SMS. */
const fromThisAccountsNumbers = {
  StringEquals: { 'aws:SourceAccount': '123456789012' },
  ArnLike: { 'aws:SourceArn': 'arn:aws:sms-voice:eu-west-1:123456789012:*' },
};

describe('inbound SMS topic', () => {
  it('is encrypted with its own rotated customer-managed key', () => {
    expect(resources[topicId].Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(resources[keyId].Properties.EnableKeyRotation).toBe(true);
    expect(keyId).not.toBe(logicalIdOf(stack, stack.gateway.table.key));
  });

  it('lets End User Messaging SMS use the key to publish, for this account only', () => {
    const statements = resources[keyId].Properties.KeyPolicy.Statement as Record<string, unknown>[];
    const smsVoice = statements.filter((statement) =>
      JSON.stringify(statement.Principal).includes('sms-voice.amazonaws.com'),
    );
    expect(smsVoice).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: fromThisAccountsNumbers,
      }),
    ]);
  });

  it('accepts publishes from End User Messaging SMS for this account, over TLS only', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'sms-voice.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: fromThisAccountsNumbers,
          }),
        ]),
      },
    });
  });

  it('is a stack output, for the origination numbers two-way destination', () => {
    template.hasOutput('InboundSmsTopicArn', { Value: { Ref: topicId } });
  });
});

describe('inbound SMS delivery', () => {
  it('subscribes the inbound-sms function, with a redrive policy to the dead-letter queue', () => {
    const subscriptions = Object.values(
      template.findResources('AWS::SNS::Subscription', { Properties: { TopicArn: { Ref: topicId } } }),
    );
    expect(subscriptions).toHaveLength(1);
    expect(subscriptions[0]?.Properties).toEqual({
      Protocol: 'lambda',
      TopicArn: { Ref: topicId },
      Endpoint: { 'Fn::GetAtt': [functionLogicalId(stack, 'inbound-sms'), 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
    });
  });

  it('lets only this topic invoke the function', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [functionLogicalId(stack, 'inbound-sms'), 'Arn'] },
      Principal: 'sns.amazonaws.com',
      SourceArn: { Ref: topicId },
    });
  });

  it('dead-letters to an SQS-managed-encrypted queue SNS may send to from this topic, over TLS only', () => {
    expect(resources[queueId].Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    expect(resources[queueId].Properties.KmsMasterKeyId).toBeUndefined();
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'sns.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
            Condition: { ArnEquals: { 'aws:SourceArn': { Ref: topicId } } },
          }),
        ]),
      },
    });
  });
});
