import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * Where the functions' own metrics land: Powertools Metrics, `new Metrics({ namespace: 'Parley', serviceName:
 * 'parley' })` in `functions/handlers/http/observability.ts`, which adds the `service` dimension to every metric.
 */
export const parleyMetricNamespace = 'Parley';
export const parleyMetricDimensions: Readonly<Record<string, string>> = { service: 'parley' };

/**
 * The counts the functions publish, each with `addMetric(name, 'Count', n)`. send-message: `MessagesSent`,
 * `MessagesFailed` (replays not counted). inbound-sms: `InboundProcessed`, `InboundDuplicates` (a redelivery of one
 * already handled), `InboundDeadLettered`. Any function that publishes events: `EventsRetried` (entries EventBridge
 * refused and that were sent again), `EventsDeadLettered` (kept on the undelivered-events queue after the retries)
 * and `EventsNotPublished` (lost: that queue refused them too, and the caller got the error).
 */
export type ParleyMetricName =
  | 'MessagesSent'
  | 'MessagesFailed'
  | 'InboundProcessed'
  | 'InboundDuplicates'
  | 'InboundDeadLettered'
  | 'EventsRetried'
  | 'EventsDeadLettered'
  | 'EventsNotPublished';

export interface ParleyMonitoringProps {
  /** Subscribed to the alarm topic; AWS mails a confirmation link first. @default no subscription */
  readonly alarmEmail?: string;
  /**
   * Send the alarms to this topic instead of a new one (then `alarmEmail` must be left out: subscribe on your own
   * topic). Its policy, and its key's if it is encrypted, must let `cloudwatch.amazonaws.com` publish.
   * @default a new KMS-encrypted, TLS-only topic
   */
  readonly existingTopic?: sns.ITopic;
  /** Failed sends (`MessagesFailed`) in 5 minutes that raise the alarm. @default 10 */
  readonly messagesFailedAlarmThreshold?: number;
}

/** What the dashboard shows besides the functions' own metrics. */
export interface ParleyDashboardSources {
  readonly httpStage: apigwv2.IHttpStage;
  readonly webSocketStage: apigwv2.IWebSocketStage;
  /** Every function, by the name its graph lines carry. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Dead-letter queues, by the name their graph lines carry. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** The topic SES notifies of stored inbound mail: its row shows mail received and notifications not delivered. */
  readonly inboundEmailTopic?: sns.ITopic;
  /** The topic SES publishes the configuration set's events to: events received and not delivered. */
  readonly deliveryStatusTopic?: sns.ITopic;
  /** The configuration set whose reputation (bounce and complaint rates) is graphed beside its alarms. */
  readonly configurationSet?: ses.IConfigurationSet;
}

/**
 * Design section 13's reputation alarms, as fractions (SES publishes `Reputation.*` between 0 and 1): half of the
 * rates at which SES puts an account under review (5% bounces, 0.1% complaints), so there is time to act first.
 */
export const emailBounceRateAlarmThreshold = 0.025;
export const emailComplaintRateAlarmThreshold = 0.0005;
/** SMS: this percentage of delivery reports failed in 15 minutes, counted once there are enough reports. */
export const smsDeliveryFailureRateAlarmThreshold = 10;
/** Fewer reports than this in 15 minutes never raise the SMS alarm: two failures out of five are no trend. */
export const smsDeliveryFailureRateMinimumReports = 20;

const fifteenMinutes = Duration.minutes(15);

const fiveMinutes = Duration.minutes(5);

/**
 * Alarms and where they go: one KMS-encrypted, TLS-only SNS topic, or the embedding app's own. Alarms treat
 * missing data as fine and fire on the first occurrence (a dead-lettered inbound message is a customer left waiting,
 * a missed event a backend out of step), except failed sends: a channel turns some down one by one (a bad number, a
 * bounced address), so that one fires on a count in 5 minutes; and delivery, watched as rates (SES's bounce and
 * complaint rates, the share of failed SMS delivery reports) against what the providers tolerate. The one dashboard, named after the stack and its
 * region (a dashboard name is unique across all of the account's regions), shows the functions' own metrics, both
 * APIs, every function and the dead-letter queues.
 */
export class ParleyMonitoring extends Construct {
  readonly topic: sns.ITopic;
  readonly dashboard: cloudwatch.Dashboard;
  /** On any `EventsNotPublished`: events neither the bus nor the undelivered-events queue took. */
  readonly eventsNotPublishedAlarm: cloudwatch.Alarm;
  /** On `MessagesFailed` reaching `messagesFailedAlarmThreshold` in 5 minutes. */
  readonly messagesFailedAlarm: cloudwatch.Alarm;
  private readonly action: actions.SnsAction;

  constructor(scope: Construct, id: string, props: ParleyMonitoringProps = {}) {
    super(scope, id);
    if (props.existingTopic && props.alarmEmail) {
      throw new Error('Give either alarmEmail or an existing alarm topic, not both: subscribe on your own topic');
    }
    this.topic = props.existingTopic ?? this.newTopic();

    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    this.action = new actions.SnsAction(this.topic);

    const messagesFailedThreshold = props.messagesFailedAlarmThreshold ?? 10;
    if (!Number.isInteger(messagesFailedThreshold) || messagesFailedThreshold < 1) {
      throw new Error('messagesFailedAlarmThreshold must be a whole number of at least 1');
    }
    this.eventsNotPublishedAlarm = this.alarm('EventsNotPublished', this.parleyMetric('EventsNotPublished'), {
      alarmDescription:
        'Parley: events not published, neither to the event bus nor to the undelivered-events queue; a backend ' +
        'missed them (see the function logs)',
    });
    this.messagesFailedAlarm = this.alarm('MessagesFailed', this.parleyMetric('MessagesFailed'), {
      alarmDescription: `Parley: ${messagesFailedThreshold} or more failed sends in 5 minutes`,
      threshold: messagesFailedThreshold,
    });

    const stack = Stack.of(this);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${stack.stackName}-${stack.region}`,
    });
    const parley = (...names: ParleyMetricName[]) => names.map((name) => this.parleyMetric(name));
    this.dashboard.addWidgets(
      widget('Outbound messages', parley('MessagesSent', 'MessagesFailed'), 8, [
        { value: messagesFailedThreshold, label: 'MessagesFailed alarm' },
      ]),
      widget('Inbound SMS', parley('InboundProcessed', 'InboundDuplicates', 'InboundDeadLettered'), 8),
      widget(
        'Events retried, dead-lettered, lost',
        parley('EventsRetried', 'EventsDeadLettered', 'EventsNotPublished'),
        8,
        [{ value: 1, label: 'EventsNotPublished alarm' }],
      ),
    );
  }

  /** CloudWatch publishes to an encrypted topic only when the key and the topic both let it, for this account. */
  private newTopic(): sns.Topic {
    const key = new kms.Key(this, 'Key', {
      description: 'Parley alarm topic',
      enableKeyRotation: true,
    });
    const topic = new sns.Topic(this, 'Topic', {
      displayName: 'Parley alarms',
      masterKey: key,
      enforceSSL: true,
    });
    const cloudwatchPrincipal = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    const fromThisAccount = { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } };
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [cloudwatchPrincipal],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: fromThisAccount,
      }),
    );
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [cloudwatchPrincipal],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: fromThisAccount,
      }),
    );
    return topic;
  }

  /** A count the functions publish, summed over 5 minutes. */
  parleyMetric(metricName: ParleyMetricName): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: parleyMetricNamespace,
      metricName,
      dimensionsMap: { ...parleyMetricDimensions },
      statistic: 'Sum',
      period: fiveMinutes,
    });
  }

  /** The dashboard rows after the functions' own metrics: the HTTP API, the chat, the functions, the queues. */
  addDashboardWidgets(sources: ParleyDashboardSources): void {
    const http = sources.httpStage;
    const sum = { statistic: 'Sum', period: fiveMinutes };
    this.dashboard.addWidgets(
      widget('HTTP API requests and errors', [
        http.metricCount({ ...sum, label: 'requests' }),
        http.metricClientError({ ...sum, label: '4xx' }),
        http.metricServerError({ ...sum, label: '5xx' }),
      ]),
      widget('HTTP API latency (ms)', [
        http.metricLatency({ statistic: 'p50', period: fiveMinutes, label: 'p50' }),
        http.metricLatency({ statistic: 'p99', period: fiveMinutes, label: 'p99' }),
      ]),
    );
    const ws = sources.webSocketStage;
    this.dashboard.addWidgets(
      widget('Chat (WebSocket) connects and messages', [
        ws.metric('ConnectCount', { ...sum, label: 'connects' }),
        ws.metric('MessageCount', { ...sum, label: 'messages' }),
      ]),
      widget('Chat (WebSocket) errors', [
        ws.metric('IntegrationError', { ...sum, label: 'integration errors' }),
        ws.metric('ExecutionError', { ...sum, label: 'execution errors' }),
        ws.metric('ClientError', { ...sum, label: 'client errors' }),
      ]),
    );
    const functions = Object.entries(sources.functions);
    this.dashboard.addWidgets(
      widget(
        'Function errors',
        functions.map(([name, fn]) => fn.metricErrors({ ...sum, label: name })),
        8,
      ),
      widget(
        'Function throttles',
        functions.map(([name, fn]) => fn.metricThrottles({ ...sum, label: name })),
        8,
      ),
      widget(
        'Function duration p95 (ms)',
        functions.map(([name, fn]) => fn.metricDuration({ statistic: 'p95', period: fiveMinutes, label: name })),
        8,
      ),
    );
    this.dashboard.addWidgets(
      widget(
        'Dead-letter queue depth',
        Object.entries(sources.deadLetterQueues).map(([name, queue]) =>
          queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: fiveMinutes, label: name }),
        ),
        12,
        [{ value: 1, label: 'alarm' }],
      ),
    );
    const emailTopic = sources.inboundEmailTopic;
    if (emailTopic) {
      this.dashboard.addWidgets(
        widget('Inbound email (SES notifications)', [
          emailTopic.metricNumberOfMessagesPublished({ ...sum, label: 'received' }),
          emailTopic.metricNumberOfNotificationsFailed({ ...sum, label: 'not delivered' }),
        ]),
      );
    }
    const statusTopic = sources.deliveryStatusTopic;
    if (statusTopic) {
      this.dashboard.addWidgets(
        widget('Email delivery status (SES events)', [
          statusTopic.metricNumberOfMessagesPublished({ ...sum, label: 'events' }),
          statusTopic.metricNumberOfNotificationsFailed({ ...sum, label: 'not delivered' }),
        ]),
      );
    }
    const configurationSet = sources.configurationSet;
    this.dashboard.addWidgets(
      ...(configurationSet
        ? [
            widget('Email bounce rate', [reputationMetric('Reputation.BounceRate', configurationSet)], 8, [
              { value: emailBounceRateAlarmThreshold, label: 'alarm' },
            ]),
            widget('Email complaint rate', [reputationMetric('Reputation.ComplaintRate', configurationSet)], 8, [
              { value: emailComplaintRateAlarmThreshold, label: 'alarm' },
            ]),
          ]
        : []),
      widget('SMS delivery failures (%)', [smsDeliveryFailureRate()], 8, [
        { value: smsDeliveryFailureRateAlarmThreshold, label: 'alarm' },
      ]),
    );
  }

  /** Any invocation error (an unhandled exception, a timeout, an init failure) of the function. */
  alarmOnFunctionErrors(id: string, fn: lambda.IFunction): cloudwatch.Alarm {
    return this.alarm(id, fn.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }), {
      alarmDescription: `Parley: ${id} function errors`,
    });
  }

  /** Any 5xx answered by the HTTP API: a handler's `internal` error, an integration or authorizer failure. */
  alarmOnServerErrors(id: string, stage: apigwv2.IHttpStage): cloudwatch.Alarm {
    return this.alarm(id, stage.metricServerError({ period: Duration.minutes(1), statistic: 'Sum' }), {
      alarmDescription: 'Parley: HTTP API 5xx responses',
    });
  }

  /** A message waiting in a dead-letter queue: an event nobody processed. */
  alarmOnDeadLetterQueue(id: string, queue: sqs.IQueue): cloudwatch.Alarm {
    const visible = queue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: 'Maximum',
    });
    return this.alarm(id, visible, { alarmDescription: `Parley: messages in dead-letter queue ${id}` });
  }

  /**
   * SES's bounce rate for the configuration set reaching {@link emailBounceRateAlarmThreshold}. The configuration set
   * has reputation metrics on, so SES publishes `Reputation.BounceRate` with the dimension `ses:configuration-set`
   * (its name) for Parley's mail alone, beside the account-wide series without a dimension that SES's enforcement
   * reads. The rate is SES's own, over a representative volume of recent mail, so its maximum is taken as it is.
   */
  alarmOnEmailBounceRate(id: string, configurationSet: ses.IConfigurationSet): cloudwatch.Alarm {
    return this.alarm(id, reputationMetric('Reputation.BounceRate', configurationSet), {
      alarmDescription: `Parley: email bounce rate at or over ${emailBounceRateAlarmThreshold * 100}% (configuration set)`,
      threshold: emailBounceRateAlarmThreshold,
    });
  }

  /** SES's complaint rate for the configuration set reaching {@link emailComplaintRateAlarmThreshold}; as above. */
  alarmOnEmailComplaintRate(id: string, configurationSet: ses.IConfigurationSet): cloudwatch.Alarm {
    return this.alarm(id, reputationMetric('Reputation.ComplaintRate', configurationSet), {
      alarmDescription: `Parley: email complaint rate at or over ${emailComplaintRateAlarmThreshold * 100}% (configuration set)`,
      threshold: emailComplaintRateAlarmThreshold,
    });
  }

  /**
   * The share of SMS delivery reports that were failures, in percent, reaching
   * {@link smsDeliveryFailureRateAlarmThreshold} over 15 minutes with at least
   * {@link smsDeliveryFailureRateMinimumReports} reports. Parley publishes SMS straight to phone numbers, not to a
   * topic, so `NumberOfNotificationsFailed` (a topic's deliveries to its subscriptions, by `TopicName`) never counts
   * them; `SMSSuccessRate` is the metric SNS publishes from the carriers' delivery reports, one sample per SMS (1
   * delivered, 0 failed), so its average is the success rate and its sample count the number of reports. SNS
   * collects it whether or not delivery status logs are on. Account-wide (no dimension): every SMS the account sends
   * counts, Parley's or not.
   */
  alarmOnSmsDeliveryFailureRate(id: string): cloudwatch.Alarm {
    return this.alarm(id, smsDeliveryFailureRate(), {
      alarmDescription:
        `Parley: ${smsDeliveryFailureRateAlarmThreshold}% or more of SMS delivery reports failed in 15 minutes ` +
        `(at least ${smsDeliveryFailureRateMinimumReports} reports)`,
      threshold: smsDeliveryFailureRateAlarmThreshold,
    });
  }

  private alarm(
    id: string,
    metric: cloudwatch.IMetric,
    options: { alarmDescription: string; threshold?: number },
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      alarmDescription: options.alarmDescription,
      threshold: options.threshold ?? 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    return alarm;
  }
}

/** An SES reputation metric of the configuration set, its maximum over 15 minutes. */
const reputationMetric = (metricName: string, configurationSet: ses.IConfigurationSet): cloudwatch.Metric =>
  new cloudwatch.Metric({
    namespace: 'AWS/SES',
    metricName,
    dimensionsMap: { 'ses:configuration-set': configurationSet.configurationSetName },
    statistic: 'Maximum',
    period: fifteenMinutes,
  });

/** Failed SMS delivery reports in percent over 15 minutes; 0 while there are too few reports to tell. */
const smsDeliveryFailureRate = (): cloudwatch.MathExpression => {
  const smsSuccessRate = (statistic: string) =>
    new cloudwatch.Metric({ namespace: 'AWS/SNS', metricName: 'SMSSuccessRate', statistic, period: fifteenMinutes });
  return new cloudwatch.MathExpression({
    expression: `IF(reports >= ${smsDeliveryFailureRateMinimumReports}, 100 * (1 - delivered), 0)`,
    usingMetrics: { delivered: smsSuccessRate('Average'), reports: smsSuccessRate('SampleCount') },
    period: fifteenMinutes,
    label: 'SMS delivery failures (%)',
  });
};

/** A line graph from zero, a third (8) or half (12) of the dashboard's 24 columns wide. */
const widget = (
  title: string,
  left: cloudwatch.IMetric[],
  width = 12,
  leftAnnotations?: cloudwatch.HorizontalAnnotation[],
): cloudwatch.GraphWidget =>
  new cloudwatch.GraphWidget({ title, left, width, height: 6, leftAnnotations, leftYAxis: { min: 0 } });
