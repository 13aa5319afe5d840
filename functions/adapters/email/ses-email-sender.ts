import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import type { EmailSender } from '../../domain/ports.ts';
import { classifyProviderError } from '../provider-errors.ts';

/** Outbound email through SES `SendEmail`, tracked by a configuration set, replies routed by the Reply-To token. */
export class SesEmailSender implements EmailSender {
  constructor(
    private readonly configurationSet: string,
    private readonly ses: SESClient = new SESClient({}),
  ) {}

  async sendEmail(input: {
    to: string;
    from: string;
    replyTo: string;
    subject: string;
    text: string;
    html?: string;
  }): Promise<{ providerMessageId: string }> {
    try {
      const { MessageId } = await this.ses.send(
        new SendEmailCommand({
          Source: input.from,
          Destination: { ToAddresses: [input.to] },
          ReplyToAddresses: [input.replyTo],
          ConfigurationSetName: this.configurationSet,
          Message: {
            Subject: { Data: input.subject, Charset: 'UTF-8' },
            Body: {
              Text: { Data: input.text, Charset: 'UTF-8' },
              ...(input.html !== undefined && { Html: { Data: input.html, Charset: 'UTF-8' } }),
            },
          },
        }),
      );
      if (!MessageId) throw new Error('SES answered without a MessageId');
      return { providerMessageId: MessageId };
    } catch (error) {
      throw classifyProviderError(error);
    }
  }
}
