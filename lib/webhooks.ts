import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import * as envNames from '../functions/config/env-names.ts';
import { webhookMaxAttempts } from '../functions/domain/webhooks.ts';
import { DeadLetterQueue } from './dead-letter-queue.ts';
import { ParleyFunction } from './parley-function.ts';
import type { ParleyTable } from './table.ts';

export interface ParleyWebhooksProps {
  /** The bus Parley publishes on: every `source: "parley"` event goes to the tenants' webhooks. */
  readonly bus: events.IEventBus;
  readonly table: ParleyTable;
  /** Settings every function gets (the table and the bus). */
  readonly environment: Record<string, string>;
  readonly sourceDir?: string;
  readonly logRetention?: logs.RetentionDays;
}

/** The sender's timeout: one attempt is a DNS lookup and a POST of at most 5 s; a fan-out is a Query and a send. */
const senderTimeout = Duration.seconds(20);

/**
 * Signed webhooks (DESIGN section 15): an EventBridge rule puts Parley's events on a queue; the `webhook-sender`
 * function fans each out to the tenant's endpoints on a FIFO queue, one message per (event, endpoint), grouped by
 * endpoint and customer; the same function makes one attempt per FIFO message. A failed attempt keeps its message
 * out of sight for the retry schedule's wait (SQS visibility timeout, at most 12 h; the schedule's longest wait is
 * 10 h), and its group (that endpoint's events about that customer) waits behind it, so events of one customer
 * arrive in order. After the last attempt, or a 410, the sender puts the delivery on the webhook dead-letter queue,
 * which is alarmed on.
 *
 * Why not EventBridge Scheduler for the backoff: a schedule per failed attempt is an API call and an IAM role to
 * pass, and order per customer would have to be rebuilt by hand; the FIFO group already holds later events back.
 * Why two queues: a rule's SQS target can only set a fixed `MessageGroupId`, so the group per endpoint and customer
 * is set by the fan-out.
 */
export class ParleyWebhooks extends Construct {
  readonly sender: ParleyFunction;
  /** Parley's events, as the rule delivers them. */
  readonly eventQueue: sqs.Queue;
  /** One message per (event, endpoint), FIFO by endpoint and customer. */
  readonly deliveryQueue: sqs.Queue;
  /** Deliveries given up on: no 2xx after every attempt, or a 410. Alarm on it. */
  readonly deadLetters: sqs.Queue;
  /** Events the fan-out could not process, or the rule could not queue. Alarm on it. */
  readonly eventDeadLetters: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: ParleyWebhooksProps) {
    super(scope, id);

    this.eventDeadLetters = new DeadLetterQueue(this, 'EventDeadLetters');
    this.eventQueue = new sqs.Queue(this, 'EventQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(senderTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.eventDeadLetters.queue, maxReceiveCount: 5 },
    });

    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deliveryQueue = new sqs.Queue(this, 'DeliveryQueue', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Longer than every attempt's wait added up (about 17.6 h), with room for a backlog behind a slow endpoint.
      retentionPeriod: Duration.days(4),
      visibilityTimeout: Duration.seconds(senderTimeout.toSeconds() * 6),
      // The sender dead-letters after its last attempt itself; this catches a message that keeps crashing it.
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: webhookMaxAttempts + 3 },
    });

    this.sender = new ParleyFunction(this, 'Sender', {
      handlerName: 'webhook-sender',
      description: 'Parley: webhook-sender (signed webhooks: fan-out and delivery attempts)',
      environment: props.environment,
      sourceDir: props.sourceDir,
      logRetention: props.logRetention,
      timeout: senderTimeout,
    });
    this.sender
      .addEnvironment(envNames.webhookDeliveryQueueUrl, this.deliveryQueue.queueUrl)
      .addEnvironment(envNames.webhookDeadLetterQueueUrl, this.deadLetters.queueUrl);
    props.table.grantWebhookItems(this.sender.fn);
    iam.Grant.addToPrincipal({
      grantee: this.sender.fn,
      actions: ['sqs:SendMessage'],
      resourceArns: [this.deliveryQueue.queueArn, this.deadLetters.queueArn],
    });
    this.sender.fn.addEventSource(
      new SqsEventSource(this.eventQueue, { batchSize: 10, reportBatchItemFailures: true }),
    );
    // One message at a time per invocation: a failed attempt must not hold up the other groups of a batch, nor
    // count as an attempt for the messages of its own group behind it.
    this.sender.fn.addEventSource(
      new SqsEventSource(this.deliveryQueue, { batchSize: 1, reportBatchItemFailures: true }),
    );

    new events.Rule(this, 'Rule', {
      eventBus: props.bus,
      description: "Parley's events to the tenants' webhooks",
      eventPattern: { source: ['parley'] },
      targets: [
        new targets.SqsQueue(this.eventQueue, {
          deadLetterQueue: this.eventDeadLetters.queue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
  }
}
