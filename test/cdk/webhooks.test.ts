import { describe, expect, it } from 'vitest';
import {
  functionLogicalId,
  logicalIdOf,
  type PolicyStatementJson,
  policyStatementsOf,
  synthGateway,
} from './gateway-app.ts';

const { stack, template } = synthGateway();
const { webhooks } = stack.gateway;
const resources = template.toJSON().Resources;
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const eventQueueId = logicalIdOf(stack, webhooks.eventQueue);
const deliveryQueueId = logicalIdOf(stack, webhooks.deliveryQueue);
const deadLettersId = logicalIdOf(stack, webhooks.deadLetters);
const eventDeadLettersId = logicalIdOf(stack, webhooks.eventDeadLetters.queue);
const senderId = functionLogicalId(stack, 'webhook-sender');
const ofType = (type: string) =>
  Object.entries(resources as Record<string, { Type: string; Properties: Record<string, unknown> }>).filter(
    ([, resource]) => resource.Type === type,
  );
const statements = policyStatementsOf(stack, template, 'webhook-sender') as PolicyStatementJson[];
const actionsOf = (statement: PolicyStatementJson): string[] => [statement.Action].flat();

describe('webhooks on AWS', () => {
  it("routes every Parley event on the bus to the webhook event queue, with a dead-letter queue for the rule's failures", () => {
    const rules = ofType('AWS::Events::Rule').filter(([, rule]) =>
      JSON.stringify(rule.Properties.Targets).includes(eventQueueId),
    );
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0] as [string, { Properties: Record<string, unknown> }];
    expect(rule.Properties.EventPattern).toEqual({ source: ['parley'] });
    expect(rule.Properties.EventBusName).toEqual({ Ref: logicalIdOf(stack, stack.gateway.events.bus) });
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: arnOf(eventQueueId),
        DeadLetterConfig: { Arn: arnOf(eventDeadLettersId) },
        RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
      }),
    ]);
  });

  it('queues deliveries FIFO, kept beyond the whole retry schedule, then on a FIFO dead-letter queue', () => {
    expect(resources[deliveryQueueId].Properties).toMatchObject({
      FifoQueue: true,
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 4 * 86_400,
      VisibilityTimeout: 120,
      RedrivePolicy: { deadLetterTargetArn: arnOf(deadLettersId), maxReceiveCount: 10 },
    });
    expect(resources[deadLettersId].Properties).toMatchObject({
      FifoQueue: true,
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86_400,
    });
    expect(resources[eventQueueId].Properties).toMatchObject({
      RedrivePolicy: { deadLetterTargetArn: arnOf(eventDeadLettersId), maxReceiveCount: 5 },
    });
    for (const id of [eventQueueId, deliveryQueueId, deadLettersId, eventDeadLettersId]) {
      const policies = ofType('AWS::SQS::QueuePolicy').filter(([, p]) =>
        JSON.stringify(p.Properties.Queues).includes(id),
      );
      expect(JSON.stringify(policies), `${id} TLS only`).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('runs webhook-sender on both queues with partial batch failures, one FIFO message per invocation', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(
      ([, mapping]) => JSON.stringify(mapping.Properties.FunctionName) === JSON.stringify({ Ref: senderId }),
    );
    expect(mappings.map(([, m]) => m.Properties)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          EventSourceArn: arnOf(eventQueueId),
          BatchSize: 10,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        }),
        expect.objectContaining({
          EventSourceArn: arnOf(deliveryQueueId),
          BatchSize: 1,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        }),
      ]),
    );
    expect(mappings).toHaveLength(2);
  });

  it('lets webhook-sender touch only webhook items of the table, and send only to its own queues', () => {
    const dynamo = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        Resource: arnOf(logicalIdOf(stack, stack.gateway.table.table)),
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['T#*#WEBHOOKS', 'T#*#WH#*'] } },
      }),
    ]);
    const sends = statements.filter((s) => actionsOf(s).includes('sqs:SendMessage'));
    expect(sends).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Resource: expect.arrayContaining([arnOf(deliveryQueueId), arnOf(deadLettersId)]),
      }),
    ]);
    const all = statements.flatMap(actionsOf);
    expect(all).not.toContain('events:PutEvents');
    expect(all.filter((a) => a.startsWith('sqs:ChangeMessageVisibility'))).not.toEqual([]);
  });

  it('alarms on the first message in either webhook dead-letter queue, and on sender errors', () => {
    const alarmed = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) =>
      JSON.stringify(alarm.Properties.Dimensions ?? []),
    );
    for (const id of [deadLettersId, eventDeadLettersId]) {
      expect(
        alarmed.filter((dimensions) => dimensions.includes(id)),
        id,
      ).toHaveLength(1);
    }
    expect(alarmed.filter((dimensions) => dimensions.includes(senderId))).toHaveLength(1);
  });
});
