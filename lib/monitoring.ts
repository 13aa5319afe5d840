import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface ParleyMonitoringProps {
  /** Subscribed to the alarm topic; AWS mails a confirmation link first. @default no subscription */
  readonly alarmEmail?: string;
}

/**
 * Alarms and where they go: one KMS-encrypted, TLS-only SNS topic. Alarms fire on the first occurrence (a failed
 * send or a dead-lettered inbound message is a customer left waiting) and treat missing data as fine.
 */
export class ParleyMonitoring extends Construct {
  readonly topic: sns.Topic;
  private readonly action: actions.SnsAction;

  constructor(scope: Construct, id: string, props: ParleyMonitoringProps = {}) {
    super(scope, id);
    const key = new kms.Key(this, 'Key', {
      description: 'Parley alarm topic',
      enableKeyRotation: true,
    });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Parley alarms',
      masterKey: key,
      enforceSSL: true,
    });

    // CloudWatch publishes to an encrypted topic only when the key and the topic both let it, for this account.
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
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [cloudwatchPrincipal],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromThisAccount,
      }),
    );

    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    this.action = new actions.SnsAction(this.topic);
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

  private alarm(id: string, metric: cloudwatch.IMetric, options: { alarmDescription: string }): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      alarmDescription: options.alarmDescription,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    return alarm;
  }
}
