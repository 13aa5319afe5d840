import type { SQSClient } from '@aws-sdk/client-sqs';
import { loadOnFirstUse } from '../../lazy-packages.ts';

/** An event Parley cannot process, kept whole on a dead-letter queue (with an alarm) instead of retried forever. */
export interface DeadLetterSink {
  send(input: { reason: string; source: string; payload: string }): Promise<void>;
}

/**
 * A dead letter is the rare path, so the SQS client is loaded and built on the first one, not at init
 * (functions/lazy-packages.ts): about 25 KB less in every function that publishes events.
 */
export class SqsDeadLetters implements DeadLetterSink {
  constructor(
    private readonly queueUrl: string,
    private sqs?: SQSClient,
  ) {}

  async send(input: { reason: string; source: string; payload: string }): Promise<void> {
    const { SendMessageCommand, SQSClient } = loadOnFirstUse('@aws-sdk/client-sqs');
    this.sqs ??= new SQSClient({});
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: input.payload,
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: input.reason.slice(0, 256) },
          source: { DataType: 'String', StringValue: input.source },
        },
      }),
    );
  }
}
