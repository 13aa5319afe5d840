import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { functionLogicalId, handlerNames, logicalIdOf, synthGateway } from './gateway-app.ts';

const { stack, template } = synthGateway();
const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
const topicId = stack.getLogicalId(stack.gateway.monitoring.topic.node.defaultChild as CfnElement);

describe('monitoring', () => {
  it('alarms on the first error of every function', () => {
    for (const name of handlerNames) {
      const alarm = alarms.find(
        (candidate) =>
          candidate.Properties.MetricName === 'Errors' &&
          candidate.Properties.Dimensions?.[0]?.Value?.Ref === functionLogicalId(stack, name),
      );
      expect(alarm?.Properties, name).toMatchObject({
        Namespace: 'AWS/Lambda',
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: topicId }],
      });
    }
  });

  it('alarms on any 5xx of the HTTP API', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Threshold: 1,
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it('alarms on the first message in the inbound SMS dead-letter queue', () => {
    const queueId = logicalIdOf(stack, stack.gateway.inboundSmsDeadLetters.queue);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it('has nothing else: one alarm per function, the 5xx alarm and the dead-letter alarm', () => {
    expect(alarms).toHaveLength(handlerNames.length + 2);
  });

  it('sends alarms to a KMS-encrypted, TLS-only topic CloudWatch may publish to, mailed to ops', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@bank.example' });
  });

  it('has no email subscription when no alarm email is configured', () => {
    const { template: quiet } = synthGateway({ gateway: { alarmEmail: undefined } });
    // The one subscription left is the inbound SMS function's, on its own topic.
    expect(quiet.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'email' } })).toEqual({});
    expect(quiet.findResources('AWS::SNS::Subscription', { Properties: { TopicArn: { Ref: topicId } } })).toEqual({});
    quiet.resourceCountIs('AWS::SNS::Subscription', 1);
  });
});
