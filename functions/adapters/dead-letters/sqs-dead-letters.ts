import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

/** An event Parley cannot process, kept whole on a dead-letter queue (with an alarm) instead of retried forever. */
export interface DeadLetterSink {
  send(input: { reason: string; source: string; payload: string }): Promise<void>;
}

export class SqsDeadLetters implements DeadLetterSink {
  constructor(
    private readonly queueUrl: string,
    private readonly sqs: SQSClient = new SQSClient({}),
  ) {}

  async send(input: { reason: string; source: string; payload: string }): Promise<void> {
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
