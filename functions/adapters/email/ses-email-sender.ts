import type * as Ses from '@aws-sdk/client-ses';
import type { SESClient } from '@aws-sdk/client-ses';
import { ProviderRejectedError } from '../../domain/errors.ts';
import type { EmailSender } from '../../domain/ports.ts';
import { classifyProviderError, singleAttempt } from '../provider-errors.ts';
import { buildOutboundEmail, type OutboundEmail, UnsafeHeaderError } from './outbound-mime.ts';

/** What the sender needs of `@aws-sdk/client-ses`. */
export type SesSdk = Pick<typeof Ses, 'SESClient' | 'SendRawEmailCommand'>;

/** SES message tag values allow letters, digits, `_`, `-`, `.` and `@` only. */
const tagValue = (value: string) => value.replace(/[^A-Za-z0-9_.@-]/g, '_').slice(0, 256);

/**
 * Outbound email through SES `SendRawEmail`, tracked by a configuration set, replies routed by the Reply-To token.
 * Raw, because `SendEmail` cannot set `List-Unsubscribe` or the thread headers (DESIGN section 12). Parley's message
 * and tenant ids go as message tags, so a status event can name the message (DESIGN section 11). The default client
 * is built on the first email, not at init.
 *
 * The SDK package comes from `sdk`: a function that sends email on most requests hands in the statically imported
 * one; one whose emails are the rare path (inbound-email: most mail answers a prompt or reaches a person, and gets no
 * reply) loads it on the first email (functions/lazy-packages.ts), so its init does not read the client.
 */
export class SesEmailSender implements EmailSender {
  constructor(
    private readonly configurationSet: string,
    private readonly sdk: () => SesSdk,
    private ses?: SESClient,
  ) {}

  async sendEmail(input: OutboundEmail): Promise<{ providerMessageId: string }> {
    const tags = [
      ...(input.messageId ? [{ Name: 'parley-message-id', Value: tagValue(input.messageId) }] : []),
      ...(input.tenantId ? [{ Name: 'parley-tenant-id', Value: tagValue(input.tenantId) }] : []),
    ];
    let data: Buffer;
    try {
      data = await buildOutboundEmail(input);
    } catch (error) {
      // Nothing went to SES, and the same message never could: refused for good, not worth another try.
      if (error instanceof UnsafeHeaderError) throw new ProviderRejectedError('unsafe_header', error);
      throw error;
    }
    const { SESClient, SendRawEmailCommand } = this.sdk();
    this.ses ??= new SESClient(singleAttempt);
    const client = this.ses;
    let MessageId: string | undefined;
    try {
      ({ MessageId } = await client.send(
        new SendRawEmailCommand({
          Source: input.from,
          Destinations: [input.to],
          RawMessage: { Data: data },
          ConfigurationSetName: this.configurationSet,
          ...(tags.length > 0 && { Tags: tags }),
        }),
      ));
    } catch (error) {
      throw classifyProviderError(error);
    }
    if (!MessageId) throw classifyProviderError(new Error('SES answered without a MessageId'));
    return { providerMessageId: MessageId };
  }
}
