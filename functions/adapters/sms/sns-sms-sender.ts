import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { SmsSender } from '../../domain/ports.ts';
import { classifyProviderError, singleAttempt } from '../provider-errors.ts';

/**
 * Outbound SMS through SNS `Publish` to a phone number from the tenant's number: `Transactional`, or `Promotional`
 * for marketing. One attempt per call (the client must not retry on its own: DESIGN section 11). The default client
 * is built on the first SMS, not at init: a function that sends both channels may never need this one.
 */
export class SnsSmsSender implements SmsSender {
  constructor(private sns?: SNSClient) {}

  async sendSms(input: Parameters<SmsSender['sendSms']>[0]): Promise<{ providerMessageId: string }> {
    this.sns ??= new SNSClient(singleAttempt);
    const client = this.sns;
    let MessageId: string | undefined;
    try {
      ({ MessageId } = await client.send(
        new PublishCommand({
          PhoneNumber: input.to,
          Message: input.body,
          MessageAttributes: {
            'AWS.SNS.SMS.SMSType': {
              DataType: 'String',
              StringValue: input.promotional ? 'Promotional' : 'Transactional',
            },
            'AWS.MM.SMS.OriginationNumber': { DataType: 'String', StringValue: input.from },
          },
        }),
      ));
    } catch (error) {
      throw classifyProviderError(error);
    }
    // An answer without an id still means SNS took it: its outcome is what is unknown.
    if (!MessageId) throw classifyProviderError(new Error('SNS answered without a MessageId'));
    return { providerMessageId: MessageId };
  }
}
