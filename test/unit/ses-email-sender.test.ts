import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { SesEmailSender } from '../../functions/adapters/email/ses-email-sender.ts';
import {
  ProviderOutcomeUnknownError,
  ProviderRejectedError,
  ProviderUnavailableError,
} from '../../functions/domain/errors.ts';
import { loadOnFirstUse } from '../../functions/lazy-packages.ts';
import type { EmailInput } from './fakes.ts';

/** An SES client that records each command and answers as told: the adapter takes its client, nothing is patched. */
const fakeSes = (answer: () => Promise<unknown> = async () => ({ MessageId: 'ses-1' })) => {
  const commands: unknown[] = [];
  const client = {
    send: async (command: unknown) => {
      commands.push(command);
      return answer();
    },
  } as unknown as SESClient;
  return { client, commands };
};

const sdk = () => ({ SESClient, SendRawEmailCommand });

const input: EmailInput = {
  to: 'ana@example.com',
  from: 'alerts@demo-bank.example',
  replyTo: 'reply+demo-bank.x.y@reply.parley.test',
  subject: 'Card alert',
  text: 'Was this you?',
  unsubscribe: { url: 'https://api.parley.test/v1/unsubscribe/t' },
  messageId: 'msg_01HZ0000000000000000000000',
  tenantId: 'demo-bank',
};

const sdkError = (name: string, httpStatusCode: number, fault: 'client' | 'server') =>
  Object.assign(new Error(`${name} happened`), { name, $fault: fault, $metadata: { httpStatusCode } });

describe('the SES email sender', () => {
  it('sends one SendRawEmail with the source, the recipient, the configuration set and the id tags', async () => {
    const ses = fakeSes();

    const result = await new SesEmailSender('parley-events', sdk, ses.client).sendEmail(input);

    expect(result).toEqual({ providerMessageId: 'ses-1' });
    expect(ses.commands).toHaveLength(1);
    const command = ses.commands[0] as SendRawEmailCommand;
    expect(command).toBeInstanceOf(SendRawEmailCommand);
    expect(command.input).toMatchObject({
      Source: 'alerts@demo-bank.example',
      Destinations: ['ana@example.com'],
      ConfigurationSetName: 'parley-events',
      Tags: [
        { Name: 'parley-message-id', Value: 'msg_01HZ0000000000000000000000' },
        { Name: 'parley-tenant-id', Value: 'demo-bank' },
      ],
    });
    const mail = await PostalMime.parse(command.input.RawMessage?.Data as Uint8Array);
    expect(mail.subject).toBe('Card alert');
    expect(mail.headers.find((h) => h.key === 'list-unsubscribe')?.value).toBe(
      '<https://api.parley.test/v1/unsubscribe/t>',
    );
  });

  it.each([
    ['MessageRejected', 400, 'client', ProviderRejectedError],
    ['Throttling', 400, 'client', ProviderUnavailableError],
    ['ServiceUnavailable', 503, 'server', ProviderUnavailableError],
    ['InternalFailure', 500, 'server', ProviderOutcomeUnknownError],
  ] as const)('sorts %s (%i) as the other providers are sorted', async (name, status, fault, expected) => {
    const ses = fakeSes(async () => {
      throw sdkError(name, status, fault);
    });

    await expect(new SesEmailSender('set', sdk, ses.client).sendEmail(input)).rejects.toBeInstanceOf(expected);
  });

  it('refuses a header with a line break for good, without calling SES', async () => {
    const ses = fakeSes();

    await expect(
      new SesEmailSender('set', sdk, ses.client).sendEmail({ ...input, subject: 'Hi\r\nBcc: victim@example.com' }),
    ).rejects.toBeInstanceOf(ProviderRejectedError);
    expect(ses.commands).toEqual([]);
  });

  it('sends as well with the SDK package loaded on first use, as inbound-email gives it', async () => {
    const ses = fakeSes();

    const result = await new SesEmailSender('set', () => loadOnFirstUse('@aws-sdk/client-ses'), ses.client).sendEmail(
      input,
    );

    expect(result).toEqual({ providerMessageId: 'ses-1' });
    const command = ses.commands[0] as SendRawEmailCommand;
    expect(command.constructor.name).toBe('SendRawEmailCommand');
    expect(command.input).toMatchObject({ Source: 'alerts@demo-bank.example', ConfigurationSetName: 'set' });
  });

  it('treats an answer without a MessageId as an unknown outcome', async () => {
    const ses = fakeSes(async () => ({}));

    await expect(new SesEmailSender('set', sdk, ses.client).sendEmail(input)).rejects.toBeInstanceOf(
      ProviderOutcomeUnknownError,
    );
  });
});
