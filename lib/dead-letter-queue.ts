import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * Where an event-driven function's failed events land (design section 10: a failure is never silent). Encrypted,
 * TLS-only, kept for the 14-day maximum; pair it with `ParleyMonitoring.alarmOnDeadLetterQueue`. SQS-managed
 * encryption rather than a customer-managed key, so SNS and Lambda may send to it without a key policy.
 *
 * Name it as a Lambda function's `deadLetterQueue`, and cdk-nag's AwsSolutions-SQS3 (every queue has a DLQ) sees it
 * is one. Used only another way (an SNS subscription's, a Lambda destination), acknowledge SQS3 where it is used.
 */
export class DeadLetterQueue extends Construct {
  readonly queue: sqs.Queue;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
  }

  /**
   * `sqs:SendMessage` on this queue only, for a handler that dead-letters an event itself. Narrower than
   * `Queue.grantSendMessages`, which adds `GetQueueAttributes` and `GetQueueUrl`.
   */
  grantSendMessage(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: ['sqs:SendMessage'], resourceArns: [this.queue.queueArn] });
  }
}
