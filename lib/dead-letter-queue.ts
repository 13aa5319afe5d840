import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * Where an event-driven function's failed events land (design section 10: a failure is never silent). Encrypted,
 * TLS-only, kept for the 14-day maximum; pair it with `ParleyMonitoring.alarmOnDeadLetterQueue`.
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
    Validations.of(this.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of a Lambda function: nothing consumes it automatically, ' +
        'an alarm fires on its first message and an operator redrives it, so a further DLQ would add nothing.',
    });
  }
}
