import type { CfnElement } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import {
  type HandlerName,
  handlerNames,
  logicalIdOf,
  type PolicyStatementJson,
  policyStatementsOf,
  synthGateway,
} from './gateway-app.ts';

const { stack, template } = synthGateway();
const statementsOf = (handler: HandlerName) => policyStatementsOf(stack, template, handler);
const actionsOf = (statement: PolicyStatementJson): string[] => [statement.Action].flat();
const allActions = (handler: HandlerName) =>
  statementsOf(handler)
    .filter((statement) => statement.Effect === 'Allow')
    .flatMap(actionsOf);
const ref = (value: unknown) => JSON.stringify(value);
const tableArn = ref({
  'Fn::GetAtt': [stack.getLogicalId(stack.gateway.table.table.node.defaultChild as CfnElement), 'Arn'],
});

const queueArn = {
  'Fn::GetAtt': [logicalIdOf(stack, stack.gateway.inboundSmsDeadLetters.queue), 'Arn'],
};
const undeliveredEventsArn = {
  'Fn::GetAtt': [logicalIdOf(stack, stack.gateway.undeliveredEvents.queue), 'Arn'],
};
/** What publishing events takes: the bus, and the queue for what EventBridge keeps refusing. */
const publishEvents = ['events:PutEvents', 'sqs:SendMessage'];
const eventPublishers: HandlerName[] = [
  'send-message',
  'conversations',
  'callbacks',
  'unsubscribe',
  'confirm',
  'ws-connect',
  'ws-message',
  'ws-disconnect',
  'inbound-sms',
  'inbound-email',
  'delivery-status',
];

const baseTableItemActions = [
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];
const dataKeyActions = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
];

const baseline = ['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
const tableItemActions = [
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];

describe('least-privilege grants', () => {
  it('the authorizer may GetItem on the base table and UpdateItem API key items only, through DynamoDB', () => {
    const dynamo = statementsOf('authorizer').filter((statement) =>
      actionsOf(statement).some((a) => a.startsWith('dynamodb:')),
    );
    expect(dynamo).toHaveLength(2);
    expect(dynamo[0]).toMatchObject({ Effect: 'Allow', Action: 'dynamodb:GetItem' });
    expect(ref(dynamo[0]?.Resource)).toBe(tableArn);
    // When a key was last used: its own item only.
    expect(dynamo[1]).toMatchObject({
      Effect: 'Allow',
      Action: 'dynamodb:UpdateItem',
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['APIKEY#*'] } },
    });
    expect(ref(dynamo[1]?.Resource)).toBe(tableArn);
    expect(new Set(allActions('authorizer'))).toEqual(
      new Set([
        ...baseline,
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:Encrypt',
        'kms:GenerateDataKey',
        'kms:GenerateDataKeyWithoutPlaintext',
      ]),
    );
    const kms = statementsOf('authorizer').find((statement) => actionsOf(statement).includes('kms:Decrypt'));
    expect(kms?.Condition).toEqual({ StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } });
  });

  it('send-message reads and writes items, publishes events, reads the secret, sends SMS and email: nothing else', () => {
    expect(new Set(allActions('send-message'))).toEqual(
      new Set([
        ...baseline,
        ...tableItemActions,
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:Encrypt',
        'kms:GenerateDataKey',
        'kms:GenerateDataKeyWithoutPlaintext',
        ...publishEvents,
        'secretsmanager:GetSecretValue',
        'ses:SendEmail',
        'ses:SendRawEmail',
        'sns:Publish',
      ]),
    );
  });

  it('send-message may publish SMS to phone numbers but never to an SNS topic', () => {
    const publish = statementsOf('send-message').filter((statement) => actionsOf(statement).includes('sns:Publish'));
    expect(publish).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }),
        expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Resource: 'arn:aws:sns:*:*:*' }),
      ]),
    );
    expect(publish).toHaveLength(2);
    for (const handler of ['messages', 'customers', 'templates', 'openapi', 'authorizer'] as const) {
      expect(allActions(handler)).not.toContain('sns:Publish');
    }
  });

  it('send-message may send email only as the configured domain identity, through the configuration set', () => {
    const ses = statementsOf('send-message').filter((statement) =>
      actionsOf(statement).some((a) => a.startsWith('ses:')),
    );
    expect(ses).toHaveLength(1);
    expect(actionsOf(ses[0] as PolicyStatementJson).sort()).toEqual(['ses:SendEmail', 'ses:SendRawEmail']);
    const resources = ref(ses[0]?.Resource);
    expect(resources).toContain('arn:aws:ses:eu-west-1:123456789012:identity/mail.bank.example');
    expect(resources).toContain('arn:aws:ses:eu-west-1:123456789012:configuration-set/');
    expect(resources).not.toContain('*');
  });

  it('table access names the table and each index: no index/* and no Scan', () => {
    for (const handler of ['send-message', 'messages', 'customers', 'templates', 'delivery-status'] as const) {
      const table = statementsOf(handler).filter((statement) => actionsOf(statement).includes('dynamodb:Query'));
      expect(table, handler).toHaveLength(1);
      expect(actionsOf(table[0] as PolicyStatementJson).sort()).toEqual(tableItemActions);
      const resources = ref(table[0]?.Resource);
      expect(resources).toContain('/index/gsi1');
      expect(resources).toContain('/index/gsi2');
      expect(resources).not.toContain('*');
    }
  });

  it('inbound SMS reads and writes base-table items, publishes events, reads the secret, sends SMS, pushes to chat and dead-letters: nothing else', () => {
    expect(allActions('inbound-sms').sort()).toEqual(
      [
        ...baseline,
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:Encrypt',
        'kms:GenerateDataKey',
        'kms:GenerateDataKeyWithoutPlaintext',
        ...publishEvents,
        'secretsmanager:GetSecretValue',
        'kms:Decrypt', // the secret's, through Secrets Manager only
        'sns:Publish',
        'execute-api:ManageConnections',
      ].sort(),
    );
  });

  it('inbound SMS touches the base table only: no index, no batch, no Scan', () => {
    const table = statementsOf('inbound-sms').filter((statement) =>
      actionsOf(statement).some((a) => a.startsWith('dynamodb:')),
    );
    expect(table).toHaveLength(1);
    expect(ref(table[0]?.Resource)).toBe(tableArn);
    const kms = statementsOf('inbound-sms').find((statement) => actionsOf(statement).includes('kms:Encrypt'));
    expect(kms?.Condition).toEqual({ StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } });
  });

  it('inbound SMS may send messages to its dead-letter queue and the undelivered-events queue, no other', () => {
    const sqs = statementsOf('inbound-sms').filter((statement) =>
      actionsOf(statement).some((a) => a.startsWith('sqs:')),
    );
    // One statement (CDK merges grants of the same action), naming both queues.
    expect(sqs).toEqual([expect.objectContaining({ Effect: 'Allow', Action: 'sqs:SendMessage' })]);
    expect(new Set([sqs[0]?.Resource].flat().map(ref))).toEqual(new Set([ref(queueArn), ref(undeliveredEventsArn)]));
  });

  it('only the functions that publish events may send to the undelivered-events queue, and to no other queue', () => {
    for (const handler of handlerNames) {
      const publishes = eventPublishers.includes(handler);
      expect(allActions(handler).includes('events:PutEvents'), handler).toBe(publishes);
      // Their own dead-letter queue too: above, and in inbound-email.test.ts; the webhook sender's own queues in
      // test/cdk/webhooks.test.ts.
      const ownQueues = ['inbound-sms', 'inbound-email', 'delivery-status', 'webhook-sender'];
      if (ownQueues.includes(handler)) continue;
      const sqs = statementsOf(handler).filter((statement) => actionsOf(statement).some((a) => a.startsWith('sqs:')));
      expect(sqs, handler).toEqual(
        publishes
          ? [expect.objectContaining({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: undeliveredEventsArn })]
          : [],
      );
    }
  });

  it('inbound SMS may publish auto-replies to phone numbers but never to an SNS topic', () => {
    const publish = statementsOf('inbound-sms').filter((statement) => actionsOf(statement).includes('sns:Publish'));
    expect(publish).toEqual([
      expect.objectContaining({ Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }),
      expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Resource: 'arn:aws:sns:*:*:*' }),
    ]);
  });

  it('messages, customers and templates only touch the table', () => {
    for (const handler of ['messages', 'customers', 'templates'] as const) {
      const extra = allActions(handler).filter(
        (action) => !action.startsWith('dynamodb:') && !action.startsWith('kms:'),
      );
      expect(extra.sort(), handler).toEqual([...baseline].sort());
    }
  });

  it('openapi and pages get nothing beyond their own logs and traces: no table, no secret', () => {
    for (const handler of ['openapi', 'pages'] as const) {
      expect(allActions(handler).sort(), handler).toEqual([...baseline].sort());
    }
  });

  it('conversations reads and writes base-table items, publishes events, reads the secret, sends SMS and email, pushes to chat', () => {
    expect(allActions('conversations').sort()).toEqual(
      [
        ...baseline,
        ...baseTableItemActions,
        ...dataKeyActions,
        ...publishEvents,
        'secretsmanager:GetSecretValue',
        'kms:Decrypt',
        'ses:SendEmail',
        'ses:SendRawEmail',
        'sns:Publish',
        'execute-api:ManageConnections',
        // The attention list, through the status index.
        'dynamodb:Query',
      ].sort(),
    );
    const publish = statementsOf('conversations').filter((statement) => actionsOf(statement).includes('sns:Publish'));
    expect(publish).toEqual([
      expect.objectContaining({ Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }),
      expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Resource: 'arn:aws:sns:*:*:*' }),
    ]);
    const ses = statementsOf('conversations').filter((statement) => actionsOf(statement).includes('ses:SendEmail'));
    expect(ref(ses.map((statement) => statement.Resource))).toContain('identity/mail.bank.example');
  });

  it('callbacks reads and writes base-table items, queries the status index and publishes events: nothing else', () => {
    expect(allActions('callbacks').sort()).toEqual(
      [...baseline, ...baseTableItemActions, ...dataKeyActions, ...publishEvents, 'dynamodb:Query'].sort(),
    );
  });

  it.each([
    ['ws-connect', ['secretsmanager:GetSecretValue', 'kms:Decrypt']],
    ['ws-message', ['execute-api:ManageConnections']],
    ['ws-disconnect', []],
    // One-click unsubscribe: verifies the signed token, records consent, announces it.
    ['unsubscribe', ['secretsmanager:GetSecretValue', 'kms:Decrypt']],
    // The step-up link: verifies the signed token, completes the verification, records the answer, announces it.
    ['confirm', ['secretsmanager:GetSecretValue', 'kms:Decrypt']],
  ] as const)('%s reads and writes base-table items and publishes events, plus %j', (handler, extra) => {
    expect(allActions(handler).sort()).toEqual(
      [...baseline, ...baseTableItemActions, ...dataKeyActions, ...publishEvents, ...extra].sort(),
    );
  });

  it('the callback queue and the attention list may Query the status index (gsi2) and nothing else beside the base table', () => {
    for (const handler of ['conversations', 'callbacks'] as const) {
      const table = statementsOf(handler).filter((statement) =>
        actionsOf(statement).some((a) => a.startsWith('dynamodb:')),
      );
      expect(table, handler).toHaveLength(2);
      expect(ref(table[0]?.Resource), handler).toBe(tableArn);
      const index = table[1];
      expect(actionsOf(index as never), handler).toEqual(['dynamodb:Query']);
      expect(JSON.stringify(index?.Resource), handler).toContain('/index/gsi2');
    }
  });

  it('every chat and inbound handler touches the base table only: no index, no batch, no Scan', () => {
    for (const handler of [
      'ws-connect',
      'ws-message',
      'ws-disconnect',
      'inbound-sms',
      'unsubscribe',
      'confirm',
    ] as const) {
      const table = statementsOf(handler).filter((statement) =>
        actionsOf(statement).some((a) => a.startsWith('dynamodb:')),
      );
      expect(table, handler).toHaveLength(1);
      expect(ref(table[0]?.Resource), handler).toBe(tableArn);
    }
  });

  it('pushes to chat only by POST to @connections of the WebSocket API’s stage, and only where a handler pushes', () => {
    const connections = ref({
      'Fn::Join': [
        '',
        [
          'arn:aws:execute-api:eu-west-1:123456789012:',
          { Ref: logicalIdOf(stack, stack.gateway.webSocketApi.api) },
          '/chat/POST/@connections/*',
        ],
      ],
    });
    for (const handler of handlerNames) {
      const manage = statementsOf(handler).filter((statement) =>
        actionsOf(statement).some((a) => a.startsWith('execute-api:')),
      );
      if (['conversations', 'ws-message', 'inbound-sms', 'inbound-email'].includes(handler)) {
        expect(manage, handler).toEqual([
          expect.objectContaining({ Effect: 'Allow', Action: 'execute-api:ManageConnections' }),
        ]);
        expect(ref(manage[0]?.Resource), handler).toBe(connections);
      } else {
        expect(manage, handler).toEqual([]);
      }
    }
  });

  it('only send-message, conversations, inbound email and delivery status send email; only the first two, inbound SMS and delivery status publish SMS', () => {
    for (const handler of handlerNames) {
      const actions = allActions(handler);
      expect(actions.includes('ses:SendEmail'), handler).toBe(
        ['send-message', 'conversations', 'inbound-email', 'delivery-status'].includes(handler),
      );
      expect(actions.includes('sns:Publish'), handler).toBe(
        ['send-message', 'conversations', 'inbound-sms', 'delivery-status'].includes(handler),
      );
    }
  });

  it('no Allow statement but X-Ray, SMS, chat connections and the stored inbound mail uses a wildcard resource', () => {
    const wildcards = handlerNames.flatMap((handler) =>
      statementsOf(handler)
        .filter((statement) => statement.Effect === 'Allow' && ref(statement.Resource).includes('*'))
        .map((statement) => `${actionsOf(statement).join(',')} ${ref(statement.Resource).replace(/"Ref":"\w+"/g, '')}`),
    );
    expect(new Set(wildcards)).toEqual(
      new Set([
        'xray:PutTelemetryRecords,xray:PutTraceSegments "*"',
        'sns:Publish "*"',
        'execute-api:ManageConnections {"Fn::Join":["",["arn:aws:execute-api:eu-west-1:123456789012:",{},"/chat/POST/@connections/*"]]}',
        `s3:GetObject {"Fn::Join":["",[{"Fn::GetAtt":["${logicalIdOf(stack, stack.gateway.inboundEmailReceiving.bucket)}","Arn"]},"/inbound/*"]]}`,
      ]),
    );
  });
});
