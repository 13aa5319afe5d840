import { Duration, Names, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import * as envNames from '../functions/config/env-names.ts';
import type { ParleyFunction } from './parley-function.ts';

export interface ParleyInboundEmailProps {
  /** The domain of the `Reply-To` addresses: the receipt rule takes every recipient at it. */
  readonly replyDomain: string;
  /**
   * Create a receipt rule set of Parley's own to hold the rule. Leave it out (or false) with
   * `existingReceiptRuleSetName`.
   * @default true, unless `existingReceiptRuleSetName` is given
   */
  readonly createReceiptRuleSet?: boolean;
  /**
   * Make Parley's rule set the active one. SES receives with one active rule set per account and region, so this
   * replaces whichever set is active now; deleting the stack deactivates it again (leaving none active).
   * @default false: activate it yourself (`aws ses set-active-receipt-rule-set --rule-set-name <name>`)
   */
  readonly activateReceiptRuleSet?: boolean;
  /**
   * Add the rule to this rule set, usually the account's active one, instead of creating a set. SES inserts the rule
   * first in the set; a rule before it that stops or bounces mail for the reply domain keeps it from Parley.
   * @default none: a rule set of Parley's own
   */
  readonly existingReceiptRuleSetName?: string;
  /** Retention of the activation function's log. @default three months */
  readonly logRetention?: logs.RetentionDays;
}

/** Where SES stores each message: `inbound/<SES message id>`; the function may read this prefix only. */
export const inboundEmailObjectKeyPrefix = 'inbound/';

/** Design section 12: the raw message is kept 30 days. */
const rawMailRetention = Duration.days(30);

/** SES's rule and rule set names: letters, digits, `.`, `_` and `-`, starting and ending alphanumeric, < 64. */
const sesNamePattern = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

/**
 * The AWS side of receiving email (design section 12): a receipt rule for the reply domain whose S3 action stores
 * the raw message in an encrypted bucket and then notifies an SNS topic, which starts `inbound-email`. The S3
 * action rather than an SNS action, which bounces mail over 150 KB; its own topic rather than a second SNS action,
 * so the notification names the stored object and comes only once it is stored.
 *
 * SES is let in by resource policies on the bucket, the topic and their customer-managed key, each conditioned on
 * this account and this one receipt rule's ARN (the confused deputy, and any other rule of the account). The
 * message is encrypted at rest by the bucket's default SSE-KMS, not by the S3 action's KMS option, which is
 * client-side encryption that only the S3 encryption client can read back.
 */
export class ParleyInboundEmail extends Construct {
  /** Customer-managed, rotated yearly: encrypts the stored mail and the topic. */
  readonly key: kms.Key;
  /** The raw messages, under {@link inboundEmailObjectKeyPrefix}, expiring after 30 days. */
  readonly bucket: s3.Bucket;
  /**
   * The mail bucket's server access log: who read or wrote which message. Not logged itself (cdk-nag's S1 exempts
   * a bucket that is another's log target).
   */
  readonly accessLogsBucket: s3.Bucket;
  /** SES notifies it once a message is stored; `inbound-email` subscribes. */
  readonly topic: sns.Topic;
  /** The rule set holding the rule: Parley's own, or the existing one named. */
  readonly ruleSetName: string;
  /** True when the stack created the rule set. */
  readonly ownsRuleSet: boolean;
  readonly rule: ses.ReceiptRule;
  /** `arn:…:ses:<region>:<account>:receipt-rule-set/<set>:receipt-rule/<rule>`, the `aws:SourceArn` SES acts with. */
  readonly ruleArn: string;
  readonly objectKeyPrefix = inboundEmailObjectKeyPrefix;

  constructor(scope: Construct, id: string, props: ParleyInboundEmailProps) {
    super(scope, id);
    const existing = props.existingReceiptRuleSetName;
    const create = props.createReceiptRuleSet ?? existing === undefined;
    if (existing !== undefined && create) {
      throw new Error('Give either existingReceiptRuleSetName or createReceiptRuleSet, not both');
    }
    if (existing === undefined && !create) {
      throw new Error('Inbound email needs a receipt rule set: set createReceiptRuleSet or existingReceiptRuleSetName');
    }
    if (existing !== undefined && props.activateReceiptRuleSet) {
      throw new Error('activateReceiptRuleSet applies to a rule set the stack creates, not existingReceiptRuleSetName');
    }
    if (existing !== undefined && !Token.isUnresolved(existing) && !sesNamePattern.test(existing)) {
      throw new Error(`existingReceiptRuleSetName "${existing}" is not an SES rule set name`);
    }
    this.ownsRuleSet = create;

    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: 'Parley inbound email (stored mail and its notification topic)',
      enableKeyRotation: true,
    });
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      // S3 server access logging delivers only to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(365) }],
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      // One data key per bucket rather than per message: fewer KMS calls, and SES's writes ask KMS less often.
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'inbound-email/',
      lifecycleRules: [{ expiration: rawMailRetention, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Parley inbound email',
      masterKey: this.key,
      enforceSSL: true,
    });

    let ruleSet: ses.IReceiptRuleSet;
    if (existing === undefined) {
      ruleSet = new ses.ReceiptRuleSet(this, 'RuleSet');
    } else {
      ruleSet = ses.ReceiptRuleSet.fromReceiptRuleSetName(this, 'RuleSet', existing);
    }
    this.ruleSetName = ruleSet.receiptRuleSetName;
    // Named at synth, so the policies can name the rule's ARN without waiting on the rule (which waits on them).
    const ruleName = Names.uniqueResourceName(this, { maxLength: 63, separator: '-' });
    this.ruleArn = stack.formatArn({
      service: 'ses',
      resource: 'receipt-rule-set',
      resourceName: `${this.ruleSetName}:receipt-rule/${ruleName}`,
    });

    const sesPrincipal = new iam.ServicePrincipal('ses.amazonaws.com');
    const fromThisRule = {
      StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': this.ruleArn },
    };
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'SesStoresInboundMail',
        principals: [sesPrincipal],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${inboundEmailObjectKeyPrefix}*`)],
        conditions: fromThisRule,
      }),
    );
    // GenerateDataKey for the object (through S3) and the notification; Decrypt for SNS's encrypted publish.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'SesEncryptsInboundMail',
        principals: [sesPrincipal],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: fromThisRule,
      }),
    );
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'SesNotifiesStoredMail',
        principals: [sesPrincipal],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromThisRule,
      }),
    );

    // A hand-made action: aws-ses-actions' S3 action adds its own bucket statement conditioned on the account alone,
    // which would let every receipt rule of the account write here.
    const bucketName = this.bucket.bucketName;
    const topicArn = this.topic.topicArn;
    const storeThenNotify: ses.IReceiptRuleAction = {
      bind: () => ({ s3Action: { bucketName, objectKeyPrefix: inboundEmailObjectKeyPrefix, topicArn } }),
    };
    this.rule = new ses.ReceiptRule(this, 'Rule', {
      ruleSet,
      receiptRuleName: ruleName,
      recipients: [props.replyDomain],
      actions: [storeThenNotify],
      // Verdicts in the notification: mail that fails them is stored and flagged, never acted on (section 12).
      scanEnabled: true,
      enabled: true,
    });
    // SES test-writes to the bucket when the rule is created: the policies must be in place first.
    for (const policy of [this.bucket.policy, this.topic.node.tryFindChild('Policy')]) {
      if (policy) this.rule.node.addDependency(policy);
    }

    if (props.activateReceiptRuleSet) this.activate(props.logRetention);
  }

  /**
   * Delivers every notification to the function, invoked asynchronously; what SNS cannot hand over lands on the
   * dead-letter queue, whose policy the subscription extends to let this topic send.
   */
  subscribe(fn: lambda.IFunction, deadLetterQueue: sqs.IQueue): void {
    this.topic.addSubscription(new subscriptions.LambdaSubscription(fn, { deadLetterQueue }));
  }

  /**
   * `s3:GetObject` on the stored mail's prefix and `kms:Decrypt` of it through S3 only, in a policy of its own so
   * its acknowledgement covers the prefix wildcard alone. Sets `PARLEY_INBOUND_EMAIL_BUCKET`.
   */
  grantReadMail(fn: ParleyFunction): void {
    const stack = Stack.of(this);
    const objects = this.bucket.arnForObjects(`${inboundEmailObjectKeyPrefix}*`);
    const policy = new iam.Policy(fn, 'InboundMailReadPolicy', {
      statements: [
        new iam.PolicyStatement({ sid: 'ReadStoredInboundMail', actions: ['s3:GetObject'], resources: [objects] }),
        new iam.PolicyStatement({
          sid: 'DecryptStoredInboundMailThroughS3',
          actions: ['kms:Decrypt'],
          resources: [this.key.keyArn],
          conditions: {
            StringEquals: {
              'kms:ViaService': `s3.${stack.region}.amazonaws.com`,
              // With a bucket key, S3's encryption context is the bucket's ARN.
              'kms:EncryptionContext:aws:s3:arn': this.bucket.bucketArn,
            },
          },
        }),
      ],
    });
    fn.role.attachInlinePolicy(policy);
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagFinding(this, objects)}]`,
      reason:
        'Each message is stored under a key SES names (its message id), so GetObject is granted on the inbound/ ' +
        'prefix of this one bucket and nothing else: no list, no write, no delete, no other prefix.',
    });
    fn.addEnvironment(envNames.inboundEmailBucket, this.bucket.bucketName);
  }

  /**
   * CloudFormation has no resource for the active rule set, so an SDK call sets it, and on delete clears it (SES
   * refuses to delete the active set). The function runs under a role of its own that writes to its own log group.
   */
  private activate(logRetention: logs.RetentionDays | undefined): void {
    const role = new iam.Role(this, 'ActivationRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Parley: activates the inbound email receipt rule set',
    });
    const logGroup = new logs.LogGroup(this, 'ActivationLogs', {
      retention: logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    logGroup.grantWrite(role);
    const setActive = (parameters: Record<string, string>): cr.AwsSdkCall => ({
      service: 'SES',
      action: 'SetActiveReceiptRuleSet',
      parameters,
      physicalResourceId: cr.PhysicalResourceId.of(this.ruleSetName),
    });
    const activation = new cr.AwsCustomResource(this, 'Activation', {
      onCreate: setActive({ RuleSetName: this.ruleSetName }),
      onUpdate: setActive({ RuleSetName: this.ruleSetName }),
      // No name: no set active. Runs before the rule set is deleted, which depends on nothing of it.
      onDelete: setActive({}),
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['ses:SetActiveReceiptRuleSet'], resources: ['*'] }),
      ]),
      role,
      logGroup,
      installLatestAwsSdk: false,
    });
    activation.node.addDependency(this.rule);
    const policy = activation.node.tryFindChild('CustomResourcePolicy');
    if (policy) {
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ses:SetActiveReceiptRuleSet supports no resource-level permissions (the Service Authorization Reference ' +
          'lists no resource type for it), so IAM requires Resource "*"; it is the only action this role may call.',
      });
    }
  }
}

/** A resource ARN as cdk-nag prints it in a finding id: `<LogicalId.Arn>` for a GetAtt, `<LogicalId>` for a Ref. */
export const nagFinding = (scope: Construct, value: string): string => {
  const flatten = (node: unknown): string => {
    if (typeof node === 'string') return node;
    const cfn = node as { 'Fn::Join'?: [string, unknown[]]; 'Fn::GetAtt'?: [string, string]; Ref?: string };
    if (cfn['Fn::Join']) return cfn['Fn::Join'][1].map(flatten).join(cfn['Fn::Join'][0]);
    if (cfn['Fn::GetAtt']) return `<${cfn['Fn::GetAtt'].join('.')}>`;
    if (cfn.Ref) return `<${cfn.Ref}>`;
    return JSON.stringify(node);
  };
  return flatten(Stack.of(scope).resolve(value));
};
