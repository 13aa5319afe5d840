import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { deliveryOrderKey, type WebhookDelivery } from '../../domain/webhook-delivery.ts';
import type { WebhookQueue } from './sqs-webhook-sender.ts';

/**
 * The webhook sender's FIFO delivery queue and its FIFO dead-letter queue. A message's group is the delivery's order
 * key (one endpoint, one customer), its deduplication id the delivery id, so an event fanned out twice within SQS's
 * five-minute window is queued once.
 */
export class SqsWebhookQueue implements WebhookQueue {
  constructor(
    private readonly deliveryQueueUrl: string,
    private readonly deadLetterQueueUrl: string,
    private readonly sqs: SQSClient = new SQSClient({}),
  ) {}

  async enqueue(deliveries: readonly WebhookDelivery[]): Promise<void> {
    for (let start = 0; start < deliveries.length; start += 10) {
      const batch = deliveries.slice(start, start + 10);
      const { Failed } = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.deliveryQueueUrl,
          Entries: batch.map((delivery, index) => ({
            Id: String(index),
            MessageBody: JSON.stringify(delivery),
            MessageGroupId: deliveryOrderKey(delivery),
            MessageDeduplicationId: delivery.deliveryId,
          })),
        }),
      );
      // The whole event is retried: the entries that did go are deduplicated then.
      if (Failed && Failed.length > 0) throw new Error(`SQS refused ${Failed.length} webhook deliveries`);
    }
  }

  async delay(receiptHandle: string, seconds: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.deliveryQueueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }

  async deadLetter(delivery: WebhookDelivery, reason: string): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.deadLetterQueueUrl,
        MessageBody: JSON.stringify(delivery),
        MessageGroupId: deliveryOrderKey(delivery),
        MessageDeduplicationId: delivery.deliveryId,
        MessageAttributes: { reason: { DataType: 'String', StringValue: reason.slice(0, 256) } },
      }),
    );
  }
}
