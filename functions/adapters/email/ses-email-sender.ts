import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import type { EmailSender } from '../../domain/ports.ts';
import { classifyProviderError, singleAttempt } from '../provider-errors.ts';

/** SES message tag values allow letters, digits, `_`, `-`, `.` and `@` only. */
const tagValue = (value: string) => value.replace(/[^A-Za-z0-9_.@-]/g, '_').slice(0, 256);

/**
 * Outbound email through SES `SendEmail`, tracked by a configuration set, replies routed by the Reply-To token.
 * Parley's message and tenant ids go as message tags, so a status event can name the message (DESIGN section 11).
 */
export class SesEmailSender implements EmailSender {
  constructor(
    private readonly configurationSet: string,
    private readonly ses: SESClient = new SESClient(singleAttempt),
  ) {}

  async sendEmail(input: Parameters<EmailSender['sendEmail']>[0]): Promise<{ providerMessageId: string }> {
    const tags = [
      ...(input.messageId ? [{ Name: 'parley-message-id', Value: tagValue(input.messageId) }] : []),
      ...(input.tenantId ? [{ Name: 'parley-tenant-id', Value: tagValue(input.tenantId) }] : []),
    ];
    let MessageId: string | undefined;
    try {
      ({ MessageId } = await this.ses.send(
        new SendEmailCommand({
          Source: input.from,
          Destination: { ToAddresses: [input.to] },
          ReplyToAddresses: [input.replyTo],
          ConfigurationSetName: this.configurationSet,
          ...(tags.length > 0 && { Tags: tags }),
          Message: {
            Subject: { Data: input.subject, Charset: 'UTF-8' },
            Body: {
              Text: { Data: input.text, Charset: 'UTF-8' },
              ...(input.html !== undefined && { Html: { Data: input.html, Charset: 'UTF-8' } }),
            },
          },
        }),
      ));
    } catch (error) {
      throw classifyProviderError(error);
    }
    if (!MessageId) throw classifyProviderError(new Error('SES answered without a MessageId'));
    return { providerMessageId: MessageId };
  }
}
