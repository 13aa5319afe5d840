import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as destinations from 'aws-cdk-lib/aws-logs-destinations';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { nagFinding } from './inbound-email.ts';

export interface ParleyDeliveryStatusProps {
  /** The configuration set every send names (`ParleyEmail.configurationSet`): its events are the email statuses. */
  readonly configurationSet: ses.IConfigurationSet;
  /** The `delivery-status` function: subscribed to the SES event topic and, with SMS logs on, to both log groups. */
  readonly fn: lambda.IFunction;
  /** Where SNS puts the SES events it cannot hand to the function. */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * Turn on SNS's SMS delivery status logs for the whole account and region, every success sampled, and subscribe
   * the function to them (see `ParleyGatewayProps.smsDeliveryStatusLogs`).
   * @default false: email statuses only
   */
  readonly smsDeliveryStatusLogs?: boolean;
  /**
   * The two SNS log groups exist already: subscribe to them by name instead of creating them (their retention is
   * left as it is). Only with `smsDeliveryStatusLogs`.
   * @default false: the stack creates both
   */
  readonly existingSmsDeliveryStatusLogGroups?: boolean;
  /** Retention of the log groups the stack creates, and of the settings call's own log. @default three months */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The email events the configuration set publishes: every outcome a message can have at SES and after it. Opens and
 * clicks are left out: they are engagement, not delivery, and would mean tracking pixels and rewritten links.
 */
export const deliveryStatusEmailEvents: readonly ses.EmailSendingEvent[] = [
  ses.EmailSendingEvent.SEND,
  ses.EmailSendingEvent.DELIVERY,
  ses.EmailSendingEvent.BOUNCE,
  ses.EmailSendingEvent.COMPLAINT,
  ses.EmailSendingEvent.REJECT,
  ses.EmailSendingEvent.DELIVERY_DELAY,
  ses.EmailSendingEvent.RENDERING_FAILURE,
];

/**
 * The names SNS writes SMS delivery status logs under, for messages published straight to a phone number (how
 * Parley sends): successes in the first, failures in `/Failure`. Fixed by SNS, one pair per account and region.
 */
export const smsDeliveryStatusLogGroupNames = (stack: Stack): { success: string; failure: string } => {
  const success = `sns/${stack.region}/${stack.account}/DirectPublishToPhoneNumber`;
  return { success, failure: `${success}/Failure` };
};

/**
 * The AWS side of delivery status (design section 13). Email: the configuration set publishes each message's SES
 * events to an SNS topic of its own (KMS, TLS-only, published to only by SES for this one configuration set), which
 * starts `delivery-status`. SMS, opt-in: SNS has no per-message status callback for SMS, only its delivery status
 * logs in CloudWatch Logs, which are an account-and-region-wide setting; with them on, a subscription filter on
 * each of the two log groups streams every entry to the same function.
 */
export class ParleyDeliveryStatus extends Construct {
  /** Customer-managed, rotated yearly: encrypts the SES event topic. */
  readonly key: kms.Key;
  /** SES publishes the configuration set's events here; `delivery-status` subscribes. */
  readonly topic: sns.Topic;
  readonly eventDestination: ses.ConfigurationSetEventDestination;
  /** With SMS logs on: the role SNS writes the delivery status logs with. */
  readonly smsLoggingRole?: iam.Role;
  /** With SMS logs on: successful deliveries (every one: 100% sampled) and failures, created or existing. */
  readonly smsLogGroups?: { readonly success: logs.ILogGroup; readonly failure: logs.ILogGroup };
  /** With SMS logs on: the account setting that turns the logs on. */
  readonly smsAttributes?: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: ParleyDeliveryStatusProps) {
    super(scope, id);
    if (props.existingSmsDeliveryStatusLogGroups && !props.smsDeliveryStatusLogs) {
      throw new Error('existingSmsDeliveryStatusLogGroups applies only with smsDeliveryStatusLogs');
    }
    const stack = Stack.of(this);

    this.key = new kms.Key(this, 'Key', {
      description: 'Parley delivery status (SES event topic)',
      enableKeyRotation: true,
    });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Parley email delivery status',
      masterKey: this.key,
      enforceSSL: true,
    });
    // The event destination adds the topic's statement itself (sns:Publish for ses.amazonaws.com, conditioned on
    // this account and this configuration set's ARN); the key needs the same, as SES encrypts what it publishes.
    const configurationSetArn = stack.formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: props.configurationSet.configurationSetName,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'SesPublishesDeliveryStatus',
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': configurationSetArn },
        },
      }),
    );
    this.eventDestination = new ses.ConfigurationSetEventDestination(this, 'EventDestination', {
      configurationSet: props.configurationSet,
      destination: ses.EventDestination.snsTopic(this.topic),
      events: [...deliveryStatusEmailEvents],
    });
    // The destination already waits for the topic policy; it waits for the key too (whose policy is part of the key
    // resource), so SES never publishes before it may encrypt.
    const keyResource = this.key.node.tryFindChild('Resource');
    if (keyResource) this.eventDestination.node.addDependency(keyResource);
    // What SNS cannot hand to the function (the invoke permission gone, server errors past its retries) lands on the
    // dead-letter queue, whose policy the subscription extends to let this topic send.
    this.topic.addSubscription(
      new subscriptions.LambdaSubscription(props.fn, { deadLetterQueue: props.deadLetterQueue }),
    );

    if (props.smsDeliveryStatusLogs) {
      const { role, logGroups, attributes } = this.smsLogs(props);
      this.smsLoggingRole = role;
      this.smsLogGroups = logGroups;
      this.smsAttributes = attributes;
    }
  }

  private smsLogs(props: ParleyDeliveryStatusProps) {
    const stack = Stack.of(this);
    const names = smsDeliveryStatusLogGroupNames(stack);
    const retention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    // SNS creates the groups on the first SMS it logs, so in an account that logged SMS before they exist and
    // creating them fails the deploy: `existingSmsDeliveryStatusLogGroups` takes them by name instead. Created, they
    // are retained with the stack (the default), as every log of Parley's: they are the carriers' delivery records.
    const logGroup = (id: string, logGroupName: string): logs.ILogGroup =>
      props.existingSmsDeliveryStatusLogGroups
        ? logs.LogGroup.fromLogGroupName(this, id, logGroupName)
        : new logs.LogGroup(this, id, { logGroupName, retention });
    const logGroups = {
      success: logGroup('SmsSuccessLogs', names.success),
      failure: logGroup('SmsFailureLogs', names.failure),
    };

    // SNS writes the logs as this role; aws:SourceAccount keeps another account's SNS from using it (the confused
    // deputy). CreateLogGroup is in SNS's documented policy, which it may call before writing; it reaches only these
    // two names, so it can create nothing else.
    const role = new iam.Role(this, 'SmsLoggingRole', {
      assumedBy: new iam.ServicePrincipal('sns.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'Parley: lets SNS write SMS delivery status logs to the two DirectPublishToPhoneNumber log groups',
    });
    const groupArn = (name: string) =>
      stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const policy = new iam.Policy(this, 'SmsLoggingPolicy', {
      statements: [
        new iam.PolicyStatement({
          sid: 'CreateTheSmsDeliveryStatusLogGroups',
          actions: ['logs:CreateLogGroup'],
          resources: [groupArn(names.success), groupArn(names.failure)],
        }),
        new iam.PolicyStatement({
          sid: 'WriteSmsDeliveryStatusLogs',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroups.success.logGroupArn, logGroups.failure.logGroupArn],
        }),
      ],
    });
    role.attachInlinePolicy(policy);
    for (const group of [logGroups.success, logGroups.failure]) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagFinding(this, group.logGroupArn)}]`,
        reason:
          'SNS names each log stream itself (one per delivery batch), so the writes are granted on the streams of ' +
          'this one SNS SMS delivery status log group (<group ARN>:*) and on no other group.',
      });
    }

    for (const [id, group] of [
      ['SmsSuccessToFunction', logGroups.success],
      ['SmsFailureToFunction', logGroups.failure],
    ] as const) {
      // The empty pattern: every entry, success and failure alike, is a status to record.
      new logs.SubscriptionFilter(this, id, {
        logGroup: group,
        destination: new destinations.LambdaDestination(props.fn),
        filterPattern: logs.FilterPattern.allEvents(),
      });
    }

    const attributes = this.setSmsAttributes(role, props.logRetention);
    // The groups first, so SNS writes into them instead of creating its own without a retention.
    for (const group of [logGroups.success, logGroups.failure]) attributes.node.addDependency(group);
    attributes.node.addDependency(policy);
    return { role, logGroups, attributes };
  }

  /**
   * SNS's SMS settings have no CloudFormation resource, so an SDK call sets them: the logging role and a success
   * sampling rate of 100% (failures are always logged), so that every delivered SMS reports its status. On delete
   * the role is cleared and the rate set back to 0, which switches the logs off: the role is deleted with the
   * stack, and the account would otherwise go on naming a role that is gone, every log write failing. What the
   * account had set before the stack is not restored (the call cannot read it first): a setting of the account's
   * own must be set again after the stack is deleted.
   */
  private setSmsAttributes(role: iam.IRole, logRetention: logs.RetentionDays | undefined): cr.AwsCustomResource {
    const stack = Stack.of(this);
    const setAttributes = (attributes: Record<string, string>): cr.AwsSdkCall => ({
      service: 'SNS',
      action: 'SetSMSAttributes',
      parameters: { attributes },
      physicalResourceId: cr.PhysicalResourceId.of(`sms-delivery-status-logs-${stack.region}`),
    });
    const turnOn = setAttributes({
      DeliveryStatusIAMRole: role.roleArn,
      DeliveryStatusSuccessSamplingRate: '100',
    });
    // AwsCustomResource runs every call in one function per stack (a singleton): when another custom resource of
    // the stack created it already (the receipt rule set's activation), this one's policy joins that function's
    // role; otherwise it gets a role and a log group of its own, as that one does.
    const providerExists = stack.node.tryFindChild(
      `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replaceAll('-', '')}`,
    );
    let providerSettings: Pick<cr.AwsCustomResourceProps, 'role' | 'logGroup'> = {};
    if (!providerExists) {
      const providerRole = new iam.Role(this, 'SmsAttributesRole', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: 'Parley: sets the SNS SMS delivery status logging attributes',
      });
      const logGroup = new logs.LogGroup(this, 'SmsAttributesLogs', {
        retention: logRetention ?? logs.RetentionDays.THREE_MONTHS,
      });
      logGroup.grantWrite(providerRole);
      providerSettings = { role: providerRole, logGroup };
    }
    const custom = new cr.AwsCustomResource(this, 'SmsAttributes', {
      onCreate: turnOn,
      onUpdate: turnOn,
      onDelete: {
        ...setAttributes({ DeliveryStatusIAMRole: '', DeliveryStatusSuccessSamplingRate: '0' }),
        // Never a stack that cannot be deleted: should SNS refuse the cleared role, the role is deleted next anyway,
        // and SNS can log as it no longer.
        ignoreErrorCodesMatching: 'InvalidParameter.*',
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['sns:SetSMSAttributes'], resources: ['*'] }),
        // Naming a role in the settings is passing it to SNS.
        new iam.PolicyStatement({
          actions: ['iam:PassRole'],
          resources: [role.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'sns.amazonaws.com' } },
        }),
      ]),
      ...providerSettings,
      installLatestAwsSdk: false,
    });
    const policy = custom.node.tryFindChild('CustomResourcePolicy');
    if (policy) {
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'sns:SetSMSAttributes supports no resource-level permissions (the Service Authorization Reference lists ' +
          'no resource type for it), so IAM requires Resource "*"; iam:PassRole beside it names the one logging role.',
      });
    }
    return custom;
  }
}
