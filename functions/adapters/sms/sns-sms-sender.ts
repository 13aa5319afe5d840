import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { SmsSender } from '../../domain/ports.ts';
import { classifyProviderError } from '../provider-errors.ts';

/** Outbound SMS through SNS `Publish` to a phone number, as a transactional message from the tenant's number. */
export class SnsSmsSender implements SmsSender {
  constructor(private readonly sns: SNSClient = new SNSClient({})) {}

  async sendSms(input: { to: string; from: string; body: string }): Promise<{ providerMessageId: string }> {
    try {
      const { MessageId } = await this.sns.send(
        new PublishCommand({
          PhoneNumber: input.to,
          Message: input.body,
          MessageAttributes: {
            'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
            'AWS.MM.SMS.OriginationNumber': { DataType: 'String', StringValue: input.from },
          },
        }),
      );
      if (!MessageId) throw new Error('SNS answered without a MessageId');
      return { providerMessageId: MessageId };
    } catch (error) {
      throw classifyProviderError(error);
    }
  }
}
