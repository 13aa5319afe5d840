import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * The SNS topic two-way SMS arrives on (design section 2). Set its ARN, stack output `InboundSmsTopicArn`, as the
 * two-way SMS destination of each origination number in AWS End User Messaging SMS. Encrypted with its own
 * customer-managed key, TLS-only, and published to only by End User Messaging SMS acting for this account.
 */
export class InboundSmsTopic extends Construct {
  readonly topic: sns.Topic;
  /** Customer-managed, rotated yearly; End User Messaging SMS may use it to encrypt what it publishes. */
  readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'Parley inbound SMS topic',
      enableKeyRotation: true,
    });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Parley inbound SMS',
      masterKey: this.key,
      enforceSSL: true,
    });

    // A service publishes to an encrypted topic only when the key and the topic both let it. The conditions keep the
    // grant to this account's numbers and pools, never another account's (the confused deputy).
    const stack = Stack.of(this);
    const endUserMessaging = new iam.ServicePrincipal('sms-voice.amazonaws.com');
    const fromThisAccountsNumbers = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'sms-voice', resource: '*' }) },
    };
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [endUserMessaging],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: fromThisAccountsNumbers,
      }),
    );
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [endUserMessaging],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromThisAccountsNumbers,
      }),
    );
  }

  /**
   * Delivers every inbound SMS to the function, invoked asynchronously. What SNS cannot hand over (the invoke
   * permission gone, the function deleted, server errors past SNS's retries) lands on the dead-letter queue, whose
   * policy the subscription extends to let this topic send.
   */
  subscribe(fn: lambda.IFunction, deadLetterQueue: sqs.IQueue): void {
    this.topic.addSubscription(new subscriptions.LambdaSubscription(fn, { deadLetterQueue }));
  }
}
