import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import {
  buildOutboundEmail,
  type OutboundEmail,
  UnsafeHeaderError,
} from '../../functions/adapters/email/outbound-mime.ts';

const email = (overrides: Partial<OutboundEmail> = {}): OutboundEmail => ({
  to: 'ana@example.com',
  from: 'alerts@demo-bank.example',
  replyTo: 'reply+demo-bank.01hz.sig@reply.parley.test',
  subject: 'Did you pay $420.00 at ACME?',
  text: 'Reply Y or N.',
  unsubscribe: {
    mailto: 'unsubscribe+demo-bank.ana=example.com.0123456789abcdef@reply.parley.test',
    url: 'https://api.parley.test/v1/unsubscribe/demo-bank.ana=example.com.0123456789abcdef',
  },
  messageId: 'msg_01HZ0000000000000000000000',
  tenantId: 'demo-bank',
  ...overrides,
});

/** The message as a mail client reads it, with its header lines as written. */
const built = async (input: OutboundEmail) => {
  const raw = (await buildOutboundEmail(input)).toString('utf8');
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
  const mail = await PostalMime.parse(raw);
  const header = (name: string) => mail.headers.find((h) => h.key === name.toLowerCase())?.value;
  return { raw, head, mail, header };
};

describe('the MIME message of an outbound email', () => {
  it('carries From, To, Reply-To, the subject and the text', async () => {
    const { mail } = await built(email());

    expect(mail.from).toEqual({ name: '', address: 'alerts@demo-bank.example' });
    expect(mail.to).toEqual([{ name: '', address: 'ana@example.com' }]);
    expect(mail.replyTo).toEqual([{ name: '', address: 'reply+demo-bank.01hz.sig@reply.parley.test' }]);
    expect(mail.subject).toBe('Did you pay $420.00 at ACME?');
    expect(mail.text?.trim()).toBe('Reply Y or N.');
    expect(mail.html).toBeUndefined();
  });

  it('carries List-Unsubscribe (mailto, then the one-click URL) and List-Unsubscribe-Post (RFC 8058)', async () => {
    const { header } = await built(email());

    expect(header('List-Unsubscribe')).toBe(
      '<mailto:unsubscribe+demo-bank.ana=example.com.0123456789abcdef@reply.parley.test>, ' +
        '<https://api.parley.test/v1/unsubscribe/demo-bank.ana=example.com.0123456789abcdef>',
    );
    expect(header('List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
  });

  it('offers only the URL when the mailto does not fit, and no one-click without the URL', async () => {
    const withoutMailto = await built(email({ unsubscribe: { url: 'https://api.parley.test/v1/unsubscribe/t' } }));
    const withoutUrl = await built(email({ unsubscribe: { mailto: 'unsubscribe+t@reply.parley.test' } }));

    expect(withoutMailto.header('List-Unsubscribe')).toBe('<https://api.parley.test/v1/unsubscribe/t>');
    expect(withoutMailto.header('List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(withoutUrl.header('List-Unsubscribe')).toBe('<mailto:unsubscribe+t@reply.parley.test>');
    expect(withoutUrl.header('List-Unsubscribe-Post')).toBeUndefined();
  });

  it('writes a UTF-8 subject as encoded words that read back the same, the header itself ASCII', async () => {
    const subject = 'Paiement de 42 € chez Café Zoë — confirmez-vous ? 你好 👋';

    const { mail, head } = await built(email({ subject, text: 'Répondez O ou N. 你好 👋' }));

    expect(mail.subject).toBe(subject);
    expect(mail.text?.trim()).toBe('Répondez O ou N. 你好 👋');
    expect(head).toMatch(/^Subject: =\?UTF-8\?/m);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point
    expect(/^[\x00-\x7f]*$/.test(head)).toBe(true);
  });

  it('sends text and HTML as alternatives', async () => {
    const { mail, header } = await built(email({ html: '<p>Reply <b>Y</b> or N.</p>' }));

    expect(header('Content-Type')).toMatch(/^multipart\/alternative/);
    expect(mail.text?.trim()).toBe('Reply Y or N.');
    expect(mail.html?.trim()).toBe('<p>Reply <b>Y</b> or N.</p>');
  });

  it.each([
    ['Subject', { subject: 'Hello\r\nBcc: victim@example.com' }],
    ['Subject', { subject: 'Hello\nX-Injected: 1' }],
    ['Subject', { subject: 'Hello\rX-Injected: 1' }],
    ['Subject', { subject: 'Hello\u0000' }],
    ['From', { from: 'alerts@demo-bank.example\r\nBcc: victim@example.com' }],
    ['To', { to: 'ana@example.com\nBcc: victim@example.com' }],
    ['Reply-To', { replyTo: 'reply@reply.parley.test\r\nX-Injected: 1' }],
    ['List-Unsubscribe', { unsubscribe: { url: 'https://api.parley.test/x>\r\nBcc: victim@example.com' } }],
  ] as const)('refuses a line break or control character in %s (%j)', async (header, overrides) => {
    await expect(buildOutboundEmail(email(overrides))).rejects.toThrow(UnsafeHeaderError);
    await expect(buildOutboundEmail(email(overrides))).rejects.toMatchObject({ header });
  });

  it('keeps a line break in the text a line break of the body, never a header', async () => {
    const { mail, head } = await built(email({ text: 'Line one\r\nBcc: victim@example.com\r\n\r\nLine three' }));

    expect(head).not.toMatch(/^Bcc:/im);
    expect(mail.bcc).toBeUndefined();
    expect(mail.text).toContain('Bcc: victim@example.com');
  });

  it('threads a reply: In-Reply-To, References ending with it, and the subject with Re: once', async () => {
    const thread = {
      inReplyTo: 'CAF=reply-2@mail.example.com',
      references: ['first@parley', 'CAF=reply-2@mail.example.com'],
    };

    const { mail, header } = await built(email({ subject: 'Your statement', thread }));

    expect(mail.inReplyTo).toBe('<CAF=reply-2@mail.example.com>');
    expect(header('References')).toBe('<first@parley> <CAF=reply-2@mail.example.com>');
    expect(mail.subject).toBe('Re: Your statement');
  });

  it.each(['Re: Your statement', 'RE: Your statement', 're:Your statement'])(
    'does not write Re: twice (%j)',
    async (subject) => {
      const { mail } = await built(email({ subject, thread: { inReplyTo: '<a@b>', references: ['<a@b>'] } }));

      expect(mail.subject).toBe(subject);
    },
  );

  it('leaves the subject and the thread headers alone when the email answers nothing', async () => {
    const { mail, header } = await built(email({ subject: 'Re: not a reply, just a subject' }));

    expect(mail.subject).toBe('Re: not a reply, just a subject');
    expect(header('In-Reply-To')).toBeUndefined();
    expect(header('References')).toBeUndefined();
  });

  it('drops thread ids that could not stand in a header, keeping the rest and at most 20', async () => {
    const references = [...Array.from({ length: 30 }, (_, i) => `id-${i}@x`), 'bad id@x', 'evil\r\nBcc: v@x'];

    const { header, head } = await built(email({ thread: { inReplyTo: 'last@x', references } }));

    const ids = header('References')?.split(' ') ?? [];
    expect(ids).toHaveLength(20);
    expect(ids.at(-1)).toBe('<last@x>');
    expect(ids.at(-2)).toBe('<id-29@x>');
    expect(head).not.toMatch(/^Bcc:/im);
  });

  it('sends no thread headers when the id answered is not a message id', async () => {
    const { header, mail } = await built(
      email({ subject: 'Statement', thread: { inReplyTo: 'a b\r\nBcc: v@x', references: ['x@y'] } }),
    );

    expect(header('In-Reply-To')).toBeUndefined();
    expect(header('References')).toBeUndefined();
    expect(mail.subject).toBe('Re: Statement');
  });
});
