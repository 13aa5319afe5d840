import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import * as envNames from '../functions/config/env-names.ts';
import { type HttpHandlerName, httpRoutes, webSocketRoutes } from '../functions/routes.ts';
import { DeadLetterQueue } from './dead-letter-queue.ts';
import { ParleyDeliveryStatus } from './delivery-status.ts';
import { ParleyEmail } from './email.ts';
import { ParleyEvents } from './events.ts';
import { type ApiThrottle, ParleyHttpApi } from './http-api.ts';
import { ParleyInboundEmail } from './inbound-email.ts';
import { InboundSmsTopic } from './inbound-sms-topic.ts';
import { ParleyMonitoring } from './monitoring.ts';
import { ParleyFunction, type ParleyFunctionProps } from './parley-function.ts';
import { ParleyTable } from './table.ts';
import { TokenSecret } from './token-secret.ts';
import { ParleyWebhooks } from './webhooks.ts';
import { ParleyWebSocketApi, type WebSocketHandlerName } from './websocket-api.ts';

export type { ApiThrottle } from './http-api.ts';
export type { WebSocketHandlerName } from './websocket-api.ts';

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
  /**
   * Send every alarm to this topic of the embedding app instead of a topic of Parley's own; leave `alarmEmail` out
   * then (subscribe on your topic). Its policy, and its key's if it is encrypted, must let CloudWatch
   * (`cloudwatch.amazonaws.com`) publish.
   * @default a new KMS-encrypted, TLS-only topic
   */
  readonly existingAlarmTopic?: sns.ITopic;
  /** Failed sends (the `MessagesFailed` metric) in 5 minutes that raise an alarm. @default 10 */
  readonly messagesFailedAlarmThreshold?: number;
  /** Name of the EventBridge bus backends subscribe to; unique per account and region. @default 'parley' */
  readonly eventBusName?: string;
  /**
   * Publish Parley's events (`source: "parley"`) to this bus of the embedding app instead of creating one; leave
   * `eventBusName` out then. The functions get `events:PutEvents` on it.
   * @default a new bus named `eventBusName`
   */
  readonly existingEventBus?: events.IEventBus;
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
  /**
   * Throttling of the chat's WebSocket stage (connects and frames), for all clients together.
   * @default 50 requests/s, bursts of 100
   */
  readonly webSocketThrottle?: ApiThrottle;
  /** How long a chat link, and the session it opens, stays valid. @default 24 hours */
  readonly chatSessionTtl?: Duration;
  /**
   * A WebSocket stage writes its access log through the account's API Gateway CloudWatch role, one per account and
   * region (HTTP APIs need none). Leave false where the account has one already (the deployment fails with
   * "CloudWatch Logs role ARN must be set in account settings" where it has none); true creates a role with the
   * AWS-managed `AmazonAPIGatewayPushToCloudWatchLogs` policy and sets it for the whole account and region. The
   * role and the setting are retained when the stack is deleted: other APIs may log through them.
   * @default false
   */
  readonly setApiGatewayLoggingRole?: boolean;
  /**
   * Create an SES receipt rule set of Parley's own for the reply domain's rule (see `ParleyInboundEmail`). False
   * only with `existingReceiptRuleSetName`.
   * @default true, unless `existingReceiptRuleSetName` is given
   */
  readonly createReceiptRuleSet?: boolean;
  /**
   * Make Parley's receipt rule set the active one. SES has one active rule set per account and region, so this
   * replaces the one active now (its rules stop receiving); deleting the stack leaves none active.
   * @default false: activate it yourself with `aws ses set-active-receipt-rule-set --rule-set-name
   * <InboundEmailRuleSetName>`
   */
  readonly activateReceiptRuleSet?: boolean;
  /**
   * Add the reply domain's rule to this receipt rule set (the account's active one, typically) instead of creating a
   * set.
   * @default none: a rule set of Parley's own
   */
  readonly existingReceiptRuleSetName?: string;
  /**
   * Record SMS delivery status too (email status is always on). SNS reports an SMS's delivery only in its delivery
   * status logs, a setting of the whole account and region: true sets it (SNS `SetSMSAttributes`: a logging role of
   * the stack's and 100% success sampling, so every SMS the account sends, Parley's or not, is logged to CloudWatch
   * Logs and paid for as log ingestion), creates the two `sns/<region>/<account>/DirectPublishToPhoneNumber[/Failure]`
   * log groups and streams both to `delivery-status`. Deleting the stack switches the logs off again (the role is
   * cleared, sampling set to 0) and leaves the log groups.
   * @default false
   */
  readonly smsDeliveryStatusLogs?: boolean;
  /**
   * With `smsDeliveryStatusLogs`: the two SNS SMS log groups exist already (SNS creates them on the first SMS it logs,
   * so they do wherever delivery status logging was ever on, or a deleted stack left them), so take them by name
   * instead of creating them, which would fail the deploy. Their retention is left as it is.
   * @default false: the stack creates them with `logRetention`
   */
  readonly existingSmsDeliveryStatusLogGroups?: boolean;
  /** Retention of the function logs and the API access log. @default three months */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Folder with the Lambda sources (`handlers/<name>.ts`), inside this package.
   * @default this package's `functions/`
   */
  readonly sourceDir?: string;
}

/** Every function of the route tables: one per HTTP handler and one per WebSocket route. */
export type GatewayHandlerName = HttpHandlerName | WebSocketHandlerName;

/**
 * What a function may touch, and so which settings it gets; absent is no. A new handler in a route table does not
 * compile until it is listed in `accessByHandler`.
 */
interface Access {
  /** Item reads and writes on the table and each index (`items`), or on the base table only (`baseTableItems`). */
  readonly table?: 'items' | 'baseTableItems';
  /**
   * Publishes events: `PutEvents` on the bus and, for the events EventBridge keeps refusing, `SendMessage` on the
   * undelivered-events queue (`PARLEY_EVENTS_DLQ_URL`). One need, so no function can publish without the queue.
   */
  readonly putEvents?: boolean;
  /** Reads the token secret that signs reply addresses and chat links. */
  readonly tokens?: boolean;
  /** Publishes SMS to phone numbers. */
  readonly sms?: boolean;
  /**
   * Sends email, through the configuration set, with a `Reply-To` at the reply domain and `List-Unsubscribe` links
   * to the reply domain and the HTTP API's unsubscribe route.
   */
  readonly email?: boolean;
  /** Pushes frames to chat connections (`PostToConnection`). */
  readonly pushChat?: boolean;
  /** Starts chat sessions, whose links point at the chat page. */
  readonly startChat?: boolean;
  /** Lists by status (the callback queue, the attention list) through the status index, beside base-table items. */
  readonly statusIndex?: boolean;
}

// Read off the handlers. The chat handlers never query an index, so they get the base table alone; the callback
// queue and the attention list are paged through the status index (gsi2) only.
const accessByHandler: Record<GatewayHandlerName, Access> = {
  'send-message': { table: 'items', putEvents: true, tokens: true, sms: true, email: true },
  messages: { table: 'items' },
  customers: { table: 'items' },
  templates: { table: 'items' },
  // The tenant item (settings, keywords) and, to check an auto-reply template, the tenant's templates.
  'tenant-settings': { table: 'baseTableItems' },
  // Agent replies go out by chat, SMS or email; a chat session's link may be texted.
  conversations: {
    table: 'baseTableItems',
    putEvents: true,
    tokens: true,
    sms: true,
    email: true,
    pushChat: true,
    startChat: true,
    statusIndex: true,
  },
  callbacks: { table: 'baseTableItems', putEvents: true, statusIndex: true },
  pages: {},
  openapi: {},
  // One-click unsubscribe: reads the token's tenant, address or message, records consent, announces it.
  unsubscribe: { table: 'baseTableItems', putEvents: true, tokens: true },
  // The step-up link: reads the verification, completes it, records the answer, announces it.
  confirm: { table: 'baseTableItems', putEvents: true, tokens: true },
  // Registers endpoints (the URL policy resolves their names), rotates secrets, lists attempts: its own items only.
  webhooks: { table: 'baseTableItems' },
  'ws-connect': { table: 'baseTableItems', putEvents: true, tokens: true },
  'ws-message': { table: 'baseTableItems', putEvents: true, pushChat: true },
  'ws-disconnect': { table: 'baseTableItems', putEvents: true },
};

/** Answers by SMS only; CHAT texted in starts a chat session. */
const inboundSmsAccess: Access = {
  table: 'baseTableItems',
  putEvents: true,
  tokens: true,
  sms: true,
  startChat: true,
  // What a chatting customer texts is pushed to their chat.
  pushChat: true,
};

/**
 * Replies by email (threaded); CHAT mailed in starts a chat session, whose link goes by email; what a chatting
 * customer mails is pushed to their chat. Beside this, its own grant on the stored mail (`grantReadMail`).
 */
const inboundEmailAccess: Access = {
  table: 'baseTableItems',
  putEvents: true,
  tokens: true,
  email: true,
  startChat: true,
  pushChat: true,
};

/**
 * Records each message's delivery status (SES events, SNS SMS delivery logs): it finds an SMS by its destination
 * number through gsi1, so the table and every index; a failed message may be sent again on the other channel, so
 * SMS, email and the token secret (reply addresses); and it announces the status, so events.
 */
const deliveryStatusAccess: Access = { table: 'items', putEvents: true, tokens: true, sms: true, email: true };

/** The API that integrates a function: it learns that API's own URL from its events, never from its settings. */
type IntegratedInto = 'http' | 'webSocket' | 'none';

/** The pages function's HTML and the files the pages include, shipped beside its bundle (see `ParleyGateway`). */
const pageFiles = ['web/chat.html', 'web/agent.html', 'web/common.css', 'web/common.js'];
const pagesDir = '/var/task';

const pascalCase = (name: string): string =>
  name.replace(/(^|-)([a-z])/g, (_match, _dash: string, letter: string) => letter.toUpperCase());

/**
 * A whole Parley gateway: the single table, the HTTP API with its authorizer and one function per handler, the
 * chat's WebSocket API, the inbound SMS topic and its function, inbound email (SES receipt rule, mail bucket,
 * topic) and its function, delivery status (the SES event topic, opted in the SMS delivery status logs) and its
 * function, the event bus, outbound email settings, the token secret, the alarms and the ops dashboard. Use it from your own CDK app, or deploy `ParleyStack`.
 *
 * The chat page and the agent console (`GET /chat`, `GET /agent`) are two small HTML files served by the pages
 * function on the HTTP API itself, not from S3 behind CloudFront: same origin as the API they call, so no CORS;
 * each response carries its own Content-Security-Policy (inline script and style allowed by hash, connections only
 * to the API and the WebSocket URL, no framing), which a static bucket could only approximate with a CloudFront
 * response-headers policy kept in step with the pages' hashes; and no bucket, distribution or origin access to
 * secure and pay for. The HTML ships in that function's bundle, read once per container.
 */
export class ParleyGateway extends Construct {
  readonly table: ParleyTable;
  readonly events: ParleyEvents;
  readonly email: ParleyEmail;
  readonly tokenSecret: TokenSecret;
  readonly monitoring: ParleyMonitoring;
  readonly httpApi: ParleyHttpApi;
  /** The chat: `$connect`, `$default`, `$disconnect`; its URL is the stack output `WebSocketUrl`. */
  readonly webSocketApi: ParleyWebSocketApi;
  readonly authorizer: ParleyFunction;
  /** One function per handler name of the route tables, HTTP and WebSocket. */
  readonly functions: Readonly<Record<GatewayHandlerName, ParleyFunction>>;
  /** Two-way SMS from End User Messaging arrives here; its ARN is the stack output `InboundSmsTopicArn`. */
  readonly inboundSmsTopic: InboundSmsTopic;
  /** Subscribed to the inbound SMS topic. */
  readonly inboundSms: ParleyFunction;
  /** Every inbound SMS nobody processed, whichever step gave up on it; alarmed on. */
  readonly inboundSmsDeadLetters: DeadLetterQueue;
  /**
   * Mail to the reply domain: the SES receipt rule, the bucket the raw messages are stored in and the topic SES
   * notifies; stack outputs `InboundEmailRuleSetName`, `InboundEmailMxRecord`.
   */
  readonly inboundEmailReceiving: ParleyInboundEmail;
  /** Subscribed to the inbound email topic; reads the stored message. */
  readonly inboundEmail: ParleyFunction;
  /** Every inbound email notification nobody processed, whichever step gave up on it; alarmed on. */
  readonly inboundEmailDeadLetters: DeadLetterQueue;
  /** The SES event topic and, with `smsDeliveryStatusLogs`, the SMS logging setting, its role and log groups. */
  readonly deliveryStatusSources: ParleyDeliveryStatus;
  /** Subscribed to the SES event topic and, with `smsDeliveryStatusLogs`, to the SMS delivery status logs. */
  readonly deliveryStatus: ParleyFunction;
  /** Every delivery status report nobody processed, whichever step gave up on it; alarmed on. */
  readonly deliveryStatusDeadLetters: DeadLetterQueue;
  /**
   * Events EventBridge kept refusing after the functions' retries, one message per PutEvents call with the entries
   * as sent (`entries`) and why each failed (`errors`); replay with `aws events put-events --entries`. Alarmed on.
   */
  readonly undeliveredEvents: DeadLetterQueue;
  /** Signed webhooks: the bus rule, the event and FIFO delivery queues, `webhook-sender`, its dead-letter queues. */
  readonly webhooks: ParleyWebhooks;
  private readonly replyDomain: string;
  private readonly chatSessionTtl: Duration;

  constructor(scope: Construct, id: string, props: ParleyGatewayProps) {
    super(scope, id);
    this.replyDomain = props.replyDomain;
    this.chatSessionTtl = props.chatSessionTtl ?? Duration.hours(24);
    if (this.chatSessionTtl.toSeconds() < 60) throw new Error('chatSessionTtl must be at least one minute');

    this.table = new ParleyTable(this, 'Data');
    this.events = new ParleyEvents(this, 'Events', {
      eventBusName: props.eventBusName,
      existingBus: props.existingEventBus,
      archiveRetention: props.eventArchiveRetention,
    });
    this.undeliveredEvents = new DeadLetterQueue(this, 'UndeliveredEvents');
    Validations.of(this.undeliveredEvents.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue of event publishing: functions send it the events EventBridge kept ' +
        'refusing. Nothing consumes it but an operator replaying them, so there is no failed processing to redrive ' +
        'into another queue; its depth is alarmed on from the first message.',
    });
    this.email = new ParleyEmail(this, 'Email', { emailDomain: props.emailDomain });
    this.tokenSecret = new TokenSecret(this, 'TokenSecret', { encryptionKey: this.table.key });
    this.monitoring = new ParleyMonitoring(this, 'Monitoring', {
      alarmEmail: props.alarmEmail,
      existingTopic: props.existingAlarmTopic,
      messagesFailedAlarmThreshold: props.messagesFailedAlarmThreshold,
    });

    const baseEnvironment = {
      [envNames.tableName]: this.table.table.tableName,
      [envNames.eventBusName]: this.events.bus.eventBusName,
    };
    const newFunction = (
      handlerName: string,
      description: string,
      options: Pick<
        ParleyFunctionProps,
        'deadLetterQueue' | 'retryAttempts' | 'extraFiles' | 'timeout' | 'memorySize'
      > = {},
    ): ParleyFunction => {
      const fn = new ParleyFunction(this, pascalCase(handlerName), {
        handlerName,
        description,
        environment: baseEnvironment,
        sourceDir: props.sourceDir,
        logRetention: props.logRetention,
        ...options,
      });
      this.monitoring.alarmOnFunctionErrors(`${pascalCase(handlerName)}Errors`, fn.fn);
      return fn;
    };

    this.authorizer = newFunction('authorizer', 'Parley: API key authorizer for the HTTP API');
    this.table.grantGetItem(this.authorizer.fn);
    this.table.grantApiKeyUse(this.authorizer.fn);

    const functions = {} as Record<GatewayHandlerName, ParleyFunction>;
    const integratedInto = new Map<GatewayHandlerName, IntegratedInto>();
    const webSocketHandlers = {} as Record<WebSocketHandlerName, lambda.IFunction>;
    for (const { handler: name } of webSocketRoutes) {
      functions[name] = newFunction(name, `Parley: ${name} (WebSocket API)`);
      webSocketHandlers[name] = functions[name].fn;
      integratedInto.set(name, 'webSocket');
    }
    const httpHandlers = {} as Record<HttpHandlerName, lambda.IFunction>;
    for (const name of new Set(httpRoutes.map((route) => route.handler))) {
      functions[name] = newFunction(
        name,
        `Parley: ${name} (HTTP API)`,
        name === 'pages' ? { extraFiles: pageFiles } : {},
      );
      httpHandlers[name] = functions[name].fn;
      integratedInto.set(name, 'http');
    }
    this.functions = functions;

    this.webSocketApi = new ParleyWebSocketApi(this, 'WebSocketApi', {
      routes: webSocketRoutes,
      handlers: webSocketHandlers,
      throttle: props.webSocketThrottle,
      logRetention: props.logRetention,
      setApiGatewayLoggingRole: props.setApiGatewayLoggingRole,
    });
    this.httpApi = new ParleyHttpApi(this, 'HttpApi', {
      routes: httpRoutes,
      handlers: httpHandlers,
      authorizer: this.authorizer.fn,
      authorizerCacheTtl: props.authorizerCacheTtl,
      throttle: props.throttle,
      logRetention: props.logRetention,
    });
    this.monitoring.alarmOnServerErrors('HttpApi5xx', this.httpApi.stage);

    for (const [name, fn] of Object.entries(functions) as [GatewayHandlerName, ParleyFunction][]) {
      this.grantAccess(fn, accessByHandler[name], integratedInto.get(name) ?? 'none');
    }
    // The page points the browser at the other API, the WebSocket one: no cycle.
    functions.pages.addEnvironment(envNames.wsUrl, this.webSocketApi.url).addEnvironment(envNames.pagesDir, pagesDir);

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
    this.inboundSms.addEnvironment(envNames.deadLetterQueueUrl, deadLetterQueue.queueUrl);
    this.grantAccess(this.inboundSms, inboundSmsAccess, 'none');
    this.inboundSmsDeadLetters.grantSendMessage(this.inboundSms.fn);
    this.inboundSmsTopic.subscribe(this.inboundSms.fn, deadLetterQueue);
    this.monitoring.alarmOnDeadLetterQueue('InboundSmsDeadLetters', deadLetterQueue);
    this.monitoring.alarmOnDeadLetterQueue('UndeliveredEvents', this.undeliveredEvents.queue);

    // The inbound SMS shape: one dead-letter queue for the handler's malformed records, what Lambda gave up on and
    // what SNS could not deliver.
    this.inboundEmailDeadLetters = new DeadLetterQueue(this, 'InboundEmailDeadLetters');
    const emailDeadLetterQueue = this.inboundEmailDeadLetters.queue;
    this.inboundEmailReceiving = new ParleyInboundEmail(this, 'InboundEmailReceiving', {
      replyDomain: props.replyDomain,
      createReceiptRuleSet: props.createReceiptRuleSet,
      activateReceiptRuleSet: props.activateReceiptRuleSet,
      existingReceiptRuleSetName: props.existingReceiptRuleSetName,
      logRetention: props.logRetention,
    });
    this.inboundEmail = newFunction('inbound-email', 'Parley: inbound email (SES receipt notifications)', {
      deadLetterQueue: emailDeadLetterQueue,
      retryAttempts: 2,
      // SES receives mail up to 40 MB: reading and parsing one that size takes seconds and a few times its size in
      // memory, well beyond the 10 s and 1 GB that suit the other functions.
      timeout: Duration.seconds(60),
      memorySize: 2048,
    });
    this.inboundEmail.addEnvironment(envNames.deadLetterQueueUrl, emailDeadLetterQueue.queueUrl);
    this.grantAccess(this.inboundEmail, inboundEmailAccess, 'none');
    this.inboundEmailReceiving.grantReadMail(this.inboundEmail);
    this.inboundEmailDeadLetters.grantSendMessage(this.inboundEmail.fn);
    this.inboundEmailReceiving.subscribe(this.inboundEmail.fn, emailDeadLetterQueue);
    this.monitoring.alarmOnDeadLetterQueue('InboundEmailDeadLetters', emailDeadLetterQueue);

    // The inbound shape again: one dead-letter queue for the handler's malformed reports, what Lambda gave up on and
    // what SNS could not deliver. Both sources invoke the function asynchronously (SNS for the SES events, CloudWatch
    // Logs for the SMS log batches), so Lambda's two retries and this queue cover either.
    this.deliveryStatusDeadLetters = new DeadLetterQueue(this, 'DeliveryStatusDeadLetters');
    const statusDeadLetterQueue = this.deliveryStatusDeadLetters.queue;
    this.deliveryStatus = newFunction(
      'delivery-status',
      'Parley: delivery status (SES events, SNS SMS delivery logs)',
      {
        deadLetterQueue: statusDeadLetterQueue,
        retryAttempts: 2,
      },
    );
    this.deliveryStatus.addEnvironment(envNames.deadLetterQueueUrl, statusDeadLetterQueue.queueUrl);
    this.grantAccess(this.deliveryStatus, deliveryStatusAccess, 'none');
    this.deliveryStatusDeadLetters.grantSendMessage(this.deliveryStatus.fn);
    this.deliveryStatusSources = new ParleyDeliveryStatus(this, 'DeliveryStatusSources', {
      configurationSet: this.email.configurationSet,
      fn: this.deliveryStatus.fn,
      deadLetterQueue: statusDeadLetterQueue,
      smsDeliveryStatusLogs: props.smsDeliveryStatusLogs,
      existingSmsDeliveryStatusLogGroups: props.existingSmsDeliveryStatusLogGroups,
      logRetention: props.logRetention,
    });
    this.monitoring.alarmOnDeadLetterQueue('DeliveryStatusDeadLetters', statusDeadLetterQueue);
    this.monitoring.alarmOnEmailBounceRate('EmailBounceRate', this.email.configurationSet);
    this.monitoring.alarmOnEmailComplaintRate('EmailComplaintRate', this.email.configurationSet);
    this.monitoring.alarmOnSmsDeliveryFailureRate('SmsDeliveryFailureRate');
    this.webhooks = new ParleyWebhooks(this, 'WebhookDelivery', {
      bus: this.events.bus,
      table: this.table,
      environment: baseEnvironment,
      sourceDir: props.sourceDir,
      logRetention: props.logRetention,
    });
    this.monitoring.alarmOnFunctionErrors('WebhookSenderErrors', this.webhooks.sender.fn);
    this.monitoring.alarmOnDeadLetterQueue('WebhookDeadLetters', this.webhooks.deadLetters);
    this.monitoring.alarmOnDeadLetterQueue('WebhookEventDeadLetters', this.webhooks.eventDeadLetters.queue);

    this.monitoring.addDashboardWidgets({
      httpStage: this.httpApi.stage,
      webSocketStage: this.webSocketApi.stage,
      functions: Object.fromEntries(
        Object.entries({
          authorizer: this.authorizer,
          ...functions,
          'inbound-sms': this.inboundSms,
          'inbound-email': this.inboundEmail,
          'delivery-status': this.deliveryStatus,
          'webhook-sender': this.webhooks.sender,
        }).map(([name, fn]) => [name, fn.fn]),
      ),
      deadLetterQueues: {
        'inbound SMS': deadLetterQueue,
        'inbound email': emailDeadLetterQueue,
        'delivery status': statusDeadLetterQueue,
        'undelivered events': this.undeliveredEvents.queue,
        'webhook deliveries': this.webhooks.deadLetters,
        'webhook events': this.webhooks.eventDeadLetters.queue,
      },
      inboundEmailTopic: this.inboundEmailReceiving.topic,
      deliveryStatusTopic: this.deliveryStatusSources.topic,
      configurationSet: this.email.configurationSet,
    });
  }

  /** The HTTP API's base URL. */
  get apiUrl(): string {
    return this.httpApi.url;
  }

  /** The chat's WebSocket URL, `wss://…/chat`. */
  get webSocketUrl(): string {
    return this.webSocketApi.url;
  }

  /**
   * The grants and settings an access entry stands for. A function never gets the URL of the API that integrates
   * it (the function would depend on the API whose routes depend on the function); it reads it off its events.
   */
  private grantAccess(fn: ParleyFunction, access: Access, integratedInto: IntegratedInto): void {
    if (access.table === 'items') this.table.grantReadWriteItems(fn.fn);
    if (access.table === 'baseTableItems') this.table.grantReadWriteBaseTableItems(fn.fn);
    if (access.statusIndex) this.table.grantQueryIndex(fn.fn, 'gsi2');
    if (access.putEvents) {
      this.events.grantPutEvents(fn.fn);
      this.undeliveredEvents.grantSendMessage(fn.fn);
      fn.addEnvironment(envNames.eventsDlqUrl, this.undeliveredEvents.queue.queueUrl);
    }
    if (access.tokens) {
      this.tokenSecret.grantRead(fn.fn);
      fn.addEnvironment(envNames.tokenSecretArn, this.tokenSecret.secret.secretArn);
    }
    if (access.sms) this.grantSmsPublish(fn);
    if (access.email) {
      this.email.grantSend(fn.fn);
      fn.addEnvironment(envNames.sesConfigurationSet, this.email.configurationSet.configurationSetName);
      fn.addEnvironment(envNames.replyDomain, this.replyDomain);
      if (integratedInto !== 'http') fn.addEnvironment(envNames.publicUrl, this.httpApi.endpoint);
    }
    if (access.pushChat) {
      this.webSocketApi.grantPostToConnection(fn);
      if (integratedInto !== 'webSocket') fn.addEnvironment(envNames.wsCallbackUrl, this.webSocketApi.callbackUrl);
    }
    if (access.startChat) {
      fn.addEnvironment(envNames.chatSessionTtlMs, String(this.chatSessionTtl.toMilliseconds()));
      if (integratedInto !== 'http') fn.addEnvironment(envNames.publicUrl, this.httpApi.endpoint);
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
