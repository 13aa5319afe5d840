import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DeadLetterQueue } from '../../lib/dead-letter-queue.ts';
import { ParleyFunction } from '../../lib/parley-function.ts';
import {
  featureFlags,
  functionLogicalId,
  type HandlerName,
  handlerNames,
  logicalIdOf,
  stubSourceDir,
  synthGateway,
} from './gateway-app.ts';

const { stack, template } = synthGateway();
const functions = Object.values(template.findResources('AWS::Lambda::Function'));

const environmentOf = (handlerName: HandlerName): Record<string, unknown> =>
  template.toJSON().Resources[functionLogicalId(stack, handlerName)].Properties.Environment.Variables;

describe('Lambda functions', () => {
  it('are one per distinct handler of the route table, plus the authorizer and inbound SMS', () => {
    expect(handlerNames).toEqual([
      'send-message',
      'messages',
      'customers',
      'templates',
      'openapi',
      'authorizer',
      'inbound-sms',
    ]);
    expect(functions).toHaveLength(handlerNames.length);
    for (const name of handlerNames) expect(environmentOf(name)).toBeDefined();
  });

  it('all run Node.js 24 on arm64 with active tracing, JSON logs and a 10 s timeout', () => {
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.any(String) } },
        Timeout: 10,
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

  it('only send-message and customers get the email settings and the token secret', () => {
    const emailAndTokens = ['PARLEY_SES_CONFIGURATION_SET', 'PARLEY_REPLY_DOMAIN', 'PARLEY_TOKEN_SECRET_ARN'];
    for (const name of ['send-message', 'customers'] as const) {
      expect(environmentOf(name)).toMatchObject({
        PARLEY_SES_CONFIGURATION_SET: { Ref: expect.stringMatching(/ConfigurationSet/) },
        PARLEY_REPLY_DOMAIN: 'reply.bank.example',
        PARLEY_TOKEN_SECRET_ARN: { Ref: expect.stringMatching(/TokenSecret/) },
      });
    }
    for (const name of ['messages', 'templates', 'openapi', 'authorizer', 'inbound-sms'] as const) {
      for (const variable of emailAndTokens) expect(environmentOf(name)).not.toHaveProperty(variable);
    }
  });

  it('inbound SMS also knows its dead-letter queue, and leaves the cache TTL to its default', () => {
    const queueId = logicalIdOf(stack, stack.gateway.inboundSmsDeadLetters.queue);
    expect(environmentOf('inbound-sms')).toEqual({
      POWERTOOLS_SERVICE_NAME: 'parley',
      PARLEY_TABLE_NAME: { Ref: expect.stringMatching(/Table/) },
      PARLEY_EVENT_BUS_NAME: { Ref: expect.stringMatching(/Bus/) },
      PARLEY_DEAD_LETTER_QUEUE_URL: { Ref: queueId },
    });
    for (const name of handlerNames.filter((handler) => handler !== 'inbound-sms')) {
      expect(environmentOf(name)).not.toHaveProperty('PARLEY_DEAD_LETTER_QUEUE_URL');
    }
  });

  it('inbound SMS retries a failed event twice, then dead-letters it; HTTP functions have no async settings', () => {
    const queueId = logicalIdOf(stack, stack.gateway.inboundSmsDeadLetters.queue);
    const inbound = functionLogicalId(stack, 'inbound-sms');
    expect(template.toJSON().Resources[inbound].Properties.DeadLetterConfig).toEqual({
      TargetArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: inbound },
      MaximumRetryAttempts: 2,
    });
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    const withDeadLetters = functions.filter((fn) => fn.Properties.DeadLetterConfig !== undefined);
    expect(withDeadLetters).toHaveLength(1);
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
