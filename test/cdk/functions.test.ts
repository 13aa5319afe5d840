import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { httpRoutes, webSocketRoutes } from '../../functions/routes.ts';
import { DeadLetterQueue } from '../../lib/dead-letter-queue.ts';
import { ParleyFunction } from '../../lib/parley-function.ts';
import {
  dependencyCycle,
  featureFlags,
  functionLogicalId,
  type HandlerName,
  handlerNames,
  logicalIdOf,
  policyStatementsOf,
  stubSourceDir,
  synthGateway,
} from './gateway-app.ts';

const { stack, template } = synthGateway();
const functions = Object.values(template.findResources('AWS::Lambda::Function'));

const environmentOf = (handlerName: HandlerName): Record<string, unknown> =>
  template.toJSON().Resources[functionLogicalId(stack, handlerName)].Properties.Environment.Variables;

const allowsPutEvents = (handlerName: HandlerName): boolean =>
  policyStatementsOf(stack, template, handlerName).some(
    (statement) => statement.Effect === 'Allow' && [statement.Action].flat().includes('events:PutEvents'),
  );

describe('Lambda functions', () => {
  it('are one per distinct handler of the route tables, plus the authorizer, inbound SMS, inbound email and delivery status', () => {
    expect(handlerNames).toEqual([
      'send-message',
      'messages',
      'customers',
      'templates',
      'conversations',
      'callbacks',
      'tenant-settings',
      'webhooks',
      'openapi',
      'pages',
      'unsubscribe',
      'confirm',
      'ws-connect',
      'ws-message',
      'ws-disconnect',
      'authorizer',
      'inbound-sms',
      'inbound-email',
      'delivery-status',
      'webhook-sender',
    ]);
    expect(functions).toHaveLength(handlerNames.length);
    for (const name of handlerNames) expect(environmentOf(name)).toBeDefined();
  });

  it('all run Node.js 24 on arm64 with active tracing, JSON logs and a 10 s timeout (inbound-email: 60 s, webhook-sender: 20 s)', () => {
    for (const fn of functions) {
      const mail = fn === template.toJSON().Resources[functionLogicalId(stack, 'inbound-email')];
      const webhooks = fn === template.toJSON().Resources[functionLogicalId(stack, 'webhook-sender')];
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.any(String) } },
        Timeout: mail ? 60 : webhooks ? 20 : 10,
        MemorySize: mail ? 2048 : 1024,
      });
      expect(fn.Properties.Environment.Variables.AWS_NODEJS_CONNECTION_REUSE_ENABLED).toBeUndefined();
    }
  });

  it('each log to their own log group with a retention', () => {
    const logGroups = template.findResources('AWS::Logs::LogGroup');
    for (const fn of functions) {
      const logGroup = logGroups[fn.Properties.LoggingConfig.LogGroup.Ref];
      expect(logGroup?.Properties.RetentionInDays).toBe(90);
    }
  });

  it('may write logs only to that group: no AWSLambdaBasicExecutionRole', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('all know the table, the bus and the service name', () => {
    for (const name of handlerNames) {
      expect(environmentOf(name)).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'parley',
        PARLEY_TABLE_NAME: { Ref: expect.stringMatching(/Table/) },
        PARLEY_EVENT_BUS_NAME: { Ref: expect.stringMatching(/Bus/) },
      });
    }
  });

  it.each<[HandlerName, string[]]>([
    [
      'send-message',
      ['PARLEY_EVENTS_DLQ_URL', 'PARLEY_TOKEN_SECRET_ARN', 'PARLEY_SES_CONFIGURATION_SET', 'PARLEY_REPLY_DOMAIN'],
    ],
    ['messages', []],
    ['customers', []],
    ['templates', []],
    [
      'conversations',
      [
        'PARLEY_EVENTS_DLQ_URL',
        'PARLEY_TOKEN_SECRET_ARN',
        'PARLEY_SES_CONFIGURATION_SET',
        'PARLEY_REPLY_DOMAIN',
        'PARLEY_WS_CALLBACK_URL',
        'PARLEY_CHAT_SESSION_TTL_MS',
      ],
    ],
    ['callbacks', ['PARLEY_EVENTS_DLQ_URL']],
    ['pages', ['PARLEY_WS_URL', 'PARLEY_PAGES_DIR']],
    ['openapi', []],
    ['webhooks', []],
    ['webhook-sender', ['PARLEY_WEBHOOK_DELIVERY_QUEUE_URL', 'PARLEY_WEBHOOK_DLQ_URL']],
    ['unsubscribe', ['PARLEY_EVENTS_DLQ_URL', 'PARLEY_TOKEN_SECRET_ARN']],
    ['confirm', ['PARLEY_EVENTS_DLQ_URL', 'PARLEY_TOKEN_SECRET_ARN']],
    ['ws-connect', ['PARLEY_EVENTS_DLQ_URL', 'PARLEY_TOKEN_SECRET_ARN']],
    ['ws-message', ['PARLEY_EVENTS_DLQ_URL']],
    ['ws-disconnect', ['PARLEY_EVENTS_DLQ_URL']],
    ['authorizer', []],
    [
      'inbound-sms',
      [
        'PARLEY_DEAD_LETTER_QUEUE_URL',
        'PARLEY_EVENTS_DLQ_URL',
        'PARLEY_TOKEN_SECRET_ARN',
        'PARLEY_CHAT_SESSION_TTL_MS',
        'PARLEY_PUBLIC_URL',
        'PARLEY_WS_CALLBACK_URL',
      ],
    ],
    [
      'inbound-email',
      [
        'PARLEY_DEAD_LETTER_QUEUE_URL',
        'PARLEY_EVENTS_DLQ_URL',
        'PARLEY_TOKEN_SECRET_ARN',
        'PARLEY_SES_CONFIGURATION_SET',
        'PARLEY_REPLY_DOMAIN',
        'PARLEY_CHAT_SESSION_TTL_MS',
        'PARLEY_PUBLIC_URL',
        'PARLEY_WS_CALLBACK_URL',
        'PARLEY_INBOUND_EMAIL_BUCKET',
      ],
    ],
    [
      'delivery-status',
      [
        'PARLEY_DEAD_LETTER_QUEUE_URL',
        'PARLEY_EVENTS_DLQ_URL',
        'PARLEY_TOKEN_SECRET_ARN',
        'PARLEY_SES_CONFIGURATION_SET',
        'PARLEY_REPLY_DOMAIN',
        'PARLEY_PUBLIC_URL',
      ],
    ],
  ])('%s gets exactly the settings it reads, beyond the table and the bus: %j', (name, settings) => {
    expect(Object.keys(environmentOf(name)).sort()).toEqual(
      ['POWERTOOLS_SERVICE_NAME', 'PARLEY_TABLE_NAME', 'PARLEY_EVENT_BUS_NAME', ...settings].sort(),
    );
  });

  it('name the token secret, the configuration set and the reply domain by reference', () => {
    for (const name of ['send-message', 'conversations'] as const) {
      expect(environmentOf(name)).toMatchObject({
        PARLEY_SES_CONFIGURATION_SET: { Ref: expect.stringMatching(/ConfigurationSet/) },
        PARLEY_REPLY_DOMAIN: 'reply.bank.example',
        PARLEY_TOKEN_SECRET_ARN: { Ref: expect.stringMatching(/TokenSecret/) },
      });
    }
  });

  it('point conversations at the WebSocket management endpoint and inbound SMS at the page URL', () => {
    const webSocketApiId = logicalIdOf(stack, stack.gateway.webSocketApi.api);
    const httpApiId = logicalIdOf(stack, stack.gateway.httpApi.api);
    expect(environmentOf('conversations').PARLEY_WS_CALLBACK_URL).toEqual({
      'Fn::Join': [
        '',
        ['https://', { Ref: webSocketApiId }, '.execute-api.eu-west-1.', { Ref: 'AWS::URLSuffix' }, '/chat'],
      ],
    });
    // The endpoint, not the stage URL: no trailing slash, as chat links are `<url>/chat#<token>`.
    expect(environmentOf('inbound-sms').PARLEY_PUBLIC_URL).toEqual({ 'Fn::GetAtt': [httpApiId, 'ApiEndpoint'] });
    for (const name of ['conversations', 'inbound-sms'] as const) {
      expect(environmentOf(name).PARLEY_CHAT_SESSION_TTL_MS).toBe('86400000');
    }
  });

  it('serve the pages from the bundle, pointed at the wss:// URL of the WebSocket stage', () => {
    const webSocketApiId = logicalIdOf(stack, stack.gateway.webSocketApi.api);
    expect(environmentOf('pages')).toMatchObject({
      PARLEY_PAGES_DIR: '/var/task',
      PARLEY_WS_URL: {
        'Fn::Join': [
          '',
          ['wss://', { Ref: webSocketApiId }, '.execute-api.eu-west-1.', { Ref: 'AWS::URLSuffix' }, '/chat'],
        ],
      },
    });
  });

  it('never name the API that integrates them, so the template has no dependency cycle', () => {
    const webSocketApiId = logicalIdOf(stack, stack.gateway.webSocketApi.api);
    const httpApiId = logicalIdOf(stack, stack.gateway.httpApi.api);
    for (const { handler } of webSocketRoutes) {
      expect(JSON.stringify(environmentOf(handler)), handler).not.toContain(webSocketApiId);
    }
    for (const { handler } of httpRoutes) {
      expect(JSON.stringify(environmentOf(handler)), handler).not.toContain(httpApiId);
    }
    expect(dependencyCycle(template)).toBeUndefined();
  });

  it('give chat sessions the configured lifetime', () => {
    const { stack: custom, template: customTemplate } = synthGateway({
      gateway: { chatSessionTtl: Duration.hours(2) },
    });
    const conversations = customTemplate.toJSON().Resources[functionLogicalId(custom, 'conversations')];
    expect(conversations.Properties.Environment.Variables.PARLEY_CHAT_SESSION_TTL_MS).toBe('7200000');
    expect(() => synthGateway({ gateway: { chatSessionTtl: Duration.seconds(10) } })).toThrow(/chatSessionTtl/);
  });

  it('every function that publishes events knows the undelivered-events queue, and no other does', () => {
    const queueUrl = { Ref: logicalIdOf(stack, stack.gateway.undeliveredEvents.queue) };
    const publishers = handlerNames.filter((name) => allowsPutEvents(name));
    expect(publishers.sort()).toEqual(
      [
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
      ].sort(),
    );
    for (const name of handlerNames) {
      expect(environmentOf(name).PARLEY_EVENTS_DLQ_URL, name).toEqual(publishers.includes(name) ? queueUrl : undefined);
    }
  });

  it('inbound SMS knows its dead-letter queue, and leaves the cache TTL to its default', () => {
    const queueId = logicalIdOf(stack, stack.gateway.inboundSmsDeadLetters.queue);
    expect(environmentOf('inbound-sms')).toMatchObject({
      PARLEY_DEAD_LETTER_QUEUE_URL: { Ref: queueId },
    });
    expect(environmentOf('inbound-sms')).not.toHaveProperty('PARLEY_CACHE_TTL_MS');
  });

  it('inbound SMS, email and delivery status retry a failed event twice, then dead-letter it; HTTP functions have no async settings', () => {
    const queueId = logicalIdOf(stack, stack.gateway.inboundSmsDeadLetters.queue);
    const inbound = functionLogicalId(stack, 'inbound-sms');
    expect(template.toJSON().Resources[inbound].Properties.DeadLetterConfig).toEqual({
      TargetArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: inbound },
      MaximumRetryAttempts: 2,
    });
    // inbound-email's own: test/cdk/inbound-email.test.ts; delivery-status's: test/cdk/delivery-status.test.ts.
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 3);
    const withDeadLetters = functions.filter((fn) => fn.Properties.DeadLetterConfig !== undefined);
    expect(withDeadLetters).toHaveLength(3);
  });

  it('set no reserved concurrency', () => {
    for (const fn of functions) expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });
});

describe('ParleyFunction for event-driven handlers', () => {
  const app = new App({ context: { ...featureFlags(), 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Events');
  const deadLetters = new DeadLetterQueue(stack, 'InboundDeadLetters');
  new ParleyFunction(stack, 'InboundSms', {
    handlerName: 'messages',
    sourceDir: stubSourceDir(),
    deadLetterQueue: deadLetters.queue,
    retryAttempts: 2,
  });
  const eventTemplate = Template.fromStack(stack);

  it('sends failed events to an encrypted, TLS-only dead-letter queue', () => {
    eventTemplate.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    eventTemplate.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    eventTemplate.hasResourceProperties('AWS::Lambda::Function', {
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('InboundDeadLetters'), 'Arn'] } },
    });
    eventTemplate.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
  });
});
