import { type Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type HttpHandlerName, httpRoutes } from '../functions/routes.ts';
import { DeadLetterQueue } from './dead-letter-queue.ts';
import { ParleyEmail } from './email.ts';
import { ParleyEvents } from './events.ts';
import { type ApiThrottle, ParleyHttpApi } from './http-api.ts';
import { InboundSmsTopic } from './inbound-sms-topic.ts';
import { ParleyMonitoring } from './monitoring.ts';
import { ParleyFunction, type ParleyFunctionProps } from './parley-function.ts';
import { ParleyTable } from './table.ts';
import { TokenSecret } from './token-secret.ts';

export type { ApiThrottle } from './http-api.ts';

export interface ParleyGatewayProps {
  /**
   * The domain outbound email is sent from, verified as an SES identity in the deployment's account and region.
   * The send functions may send only as `identity/<emailDomain>`, so every tenant's `emailFrom` must be an address
   * at this domain.
   */
  readonly emailDomain: string;
  /** The domain of the `Reply-To` addresses that carry a conversation token, e.g. `reply.example.com`. */
  readonly replyDomain: string;
  /** Where alarms are mailed (the SNS subscription must be confirmed from that mailbox). @default no subscription */
  readonly alarmEmail?: string;
  /** Name of the EventBridge bus backends subscribe to; unique per account and region. @default 'parley' */
  readonly eventBusName?: string;
  /** Archive every Parley event for this long, for replay. @default no archive */
  readonly eventArchiveRetention?: Duration;
  /**
   * How long API Gateway caches the authorizer's answer for one Authorization header (0 disables the cache; at
   * most 1 hour). A revoked API key keeps working on AWS until its cache entry expires: up to this long.
   * @default 5 minutes
   */
  readonly authorizerCacheTtl?: Duration;
  /** Throttling of the HTTP API's default stage, for all clients together. @default 100 requests/s, bursts of 200 */
  readonly throttle?: ApiThrottle;
  /** Retention of the function logs and the API access log. @default three months */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Folder with the Lambda sources (`handlers/<name>.ts`), inside this package.
   * @default this package's `functions/`
   */
  readonly sourceDir?: string;
}

/** What each HTTP function may touch; a new handler in the route table does not compile until it is listed here. */
interface Access {
  /** Item reads and writes on the table. */
  readonly table: boolean;
  readonly putEvents: boolean;
  /** Reads the token secret and gets the email settings. */
  readonly tokens: boolean;
  /** Publishes SMS and sends email. */
  readonly send: boolean;
}

const accessByHandler: Record<HttpHandlerName, Access> = {
  'send-message': { table: true, putEvents: true, tokens: true, send: true },
  messages: { table: true, putEvents: false, tokens: false, send: false },
  customers: { table: true, putEvents: true, tokens: true, send: false },
  templates: { table: true, putEvents: false, tokens: false, send: false },
  openapi: { table: false, putEvents: false, tokens: false, send: false },
};

const pascalCase = (name: string): string =>
  name.replace(/(^|-)([a-z])/g, (_match, _dash: string, letter: string) => letter.toUpperCase());

/**
 * A whole Parley gateway: the single table, the HTTP API with its authorizer and one function per handler, the
 * inbound SMS topic and its function, the event bus, outbound email settings, the token secret and the alarms. Use
 * it from your own CDK app, or deploy `ParleyStack`.
 */
export class ParleyGateway extends Construct {
  readonly table: ParleyTable;
  readonly events: ParleyEvents;
  readonly email: ParleyEmail;
  readonly tokenSecret: TokenSecret;
  readonly monitoring: ParleyMonitoring;
  readonly httpApi: ParleyHttpApi;
  readonly authorizer: ParleyFunction;
  /** One function per handler name of the route table. */
  readonly functions: Readonly<Record<HttpHandlerName, ParleyFunction>>;
  /** Two-way SMS from End User Messaging arrives here; its ARN is the stack output `InboundSmsTopicArn`. */
  readonly inboundSmsTopic: InboundSmsTopic;
  /** Subscribed to the inbound SMS topic. */
  readonly inboundSms: ParleyFunction;
  /** Every inbound SMS nobody processed, whichever step gave up on it; alarmed on. */
  readonly inboundSmsDeadLetters: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: ParleyGatewayProps) {
    super(scope, id);

    this.table = new ParleyTable(this, 'Data');
    this.events = new ParleyEvents(this, 'Events', {
      eventBusName: props.eventBusName,
      archiveRetention: props.eventArchiveRetention,
    });
    this.email = new ParleyEmail(this, 'Email', { emailDomain: props.emailDomain });
    this.tokenSecret = new TokenSecret(this, 'TokenSecret', { encryptionKey: this.table.key });
    this.monitoring = new ParleyMonitoring(this, 'Monitoring', {
      alarmEmail: props.alarmEmail,
    });

    const baseEnvironment = {
      PARLEY_TABLE_NAME: this.table.table.tableName,
      PARLEY_EVENT_BUS_NAME: this.events.bus.eventBusName,
    };
    const newFunction = (
      handlerName: string,
      description: string,
      asyncInvocation: Pick<ParleyFunctionProps, 'deadLetterQueue' | 'retryAttempts'> = {},
    ): ParleyFunction => {
      const fn = new ParleyFunction(this, pascalCase(handlerName), {
        handlerName,
        description,
        environment: baseEnvironment,
        sourceDir: props.sourceDir,
        logRetention: props.logRetention,
        ...asyncInvocation,
      });
      this.monitoring.alarmOnFunctionErrors(`${pascalCase(handlerName)}Errors`, fn.fn);
      return fn;
    };

    this.authorizer = newFunction('authorizer', 'Parley: API key authorizer for the HTTP API');
    this.table.grantGetItem(this.authorizer.fn);

    const functions = {} as Record<HttpHandlerName, ParleyFunction>;
    const handlers = {} as Record<HttpHandlerName, lambda.IFunction>;
    for (const name of new Set(httpRoutes.map((route) => route.handler))) {
      const fn = newFunction(name, `Parley: ${name} (HTTP API)`);
      this.grantAccess(fn, accessByHandler[name]);
      if (accessByHandler[name].tokens) {
        fn.addEnvironment('PARLEY_SES_CONFIGURATION_SET', this.email.configurationSet.configurationSetName)
          .addEnvironment('PARLEY_REPLY_DOMAIN', props.replyDomain)
          .addEnvironment('PARLEY_TOKEN_SECRET_ARN', this.tokenSecret.secret.secretArn);
      }
      functions[name] = fn;
      handlers[name] = fn.fn;
    }
    this.functions = functions;

    this.httpApi = new ParleyHttpApi(this, 'HttpApi', {
      routes: httpRoutes,
      handlers,
      authorizer: this.authorizer.fn,
      authorizerCacheTtl: props.authorizerCacheTtl,
      throttle: props.throttle,
      logRetention: props.logRetention,
    });
    this.monitoring.alarmOnServerErrors('HttpApi5xx', this.httpApi.stage);

    // One dead-letter queue for the whole inbound path: the handler's malformed records, the events Lambda gave up
    // on after its retries and what SNS could not deliver. Each message holds the SNS record or event with
    // attributes saying why, and is replayed the same way (publish it again), so one alarm and one place to look.
    this.inboundSmsDeadLetters = new DeadLetterQueue(this, 'InboundSmsDeadLetters');
    const deadLetterQueue = this.inboundSmsDeadLetters.queue;
    this.inboundSmsTopic = new InboundSmsTopic(this, 'InboundSmsTopic');
    this.inboundSms = newFunction('inbound-sms', 'Parley: inbound SMS (two-way SMS topic)', {
      deadLetterQueue,
      retryAttempts: 2,
    });
    this.inboundSms.addEnvironment('PARLEY_DEAD_LETTER_QUEUE_URL', deadLetterQueue.queueUrl);
    this.table.grantReadWriteBaseTableItems(this.inboundSms.fn);
    this.events.grantPutEvents(this.inboundSms.fn);
    this.inboundSmsDeadLetters.grantSendMessage(this.inboundSms.fn);
    this.grantSmsPublish(this.inboundSms);
    this.inboundSmsTopic.subscribe(this.inboundSms.fn, deadLetterQueue);
    this.monitoring.alarmOnDeadLetterQueue('InboundSmsDeadLetters', deadLetterQueue);
  }

  /** The HTTP API's base URL. */
  get apiUrl(): string {
    return this.httpApi.url;
  }

  private grantAccess(fn: ParleyFunction, access: Access): void {
    if (access.table) this.table.grantReadWriteItems(fn.fn);
    if (access.putEvents) this.events.grantPutEvents(fn.fn);
    if (access.tokens) this.tokenSecret.grantRead(fn.fn);
    if (access.send) {
      this.email.grantSend(fn.fn);
      this.grantSmsPublish(fn);
    }
  }

  /**
   * SMS goes out by SNS `Publish` to a phone number, which IAM can only express as Resource "*". The Deny on every
   * SNS ARN leaves exactly that: phone numbers, never a topic. In its own policy so its acknowledgement covers it
   * alone.
   */
  private grantSmsPublish(fn: ParleyFunction): void {
    const anyTopic = Stack.of(this).formatArn({ service: 'sns', region: '*', account: '*', resource: '*' });
    const policy = new iam.Policy(fn, 'SmsPublishPolicy', {
      statements: [
        new iam.PolicyStatement({ sid: 'PublishSmsToPhoneNumbers', actions: ['sns:Publish'], resources: ['*'] }),
        new iam.PolicyStatement({
          sid: 'NeverPublishToTopics',
          effect: iam.Effect.DENY,
          actions: ['sns:Publish'],
          resources: [anyTopic],
        }),
      ],
    });
    fn.role.attachInlinePolicy(policy);
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'SNS Publish to a phone number has no resource ARN, so IAM requires Resource "*"; the Deny statement on ' +
        'every SNS ARN (arn:<partition>:sns:*:*:*) in the same policy limits it to phone numbers, never a topic.',
    });
  }
}
