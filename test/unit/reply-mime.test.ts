import fc from 'fast-check';
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { addressesIn, buildReplyMime, readHeaders } from '../../local/reply-mime.ts';

const reply = (overrides: Partial<Parameters<typeof buildReplyMime>[0]> = {}) =>
  buildReplyMime({
    from: 'Ana Lima <ana@example.com>',
    to: 'reply+demo-bank.msg.sig@reply.parley.localhost',
    subject: 'Re: Did you pay $420.00 at ACME?',
    text: 'N',
    messageId: '<abc123@example.com>',
    date: new Date('2025-06-02T11:05:00Z'),
    inReplyTo: '<0100abc@email.amazonses.com>',
    references: ['<0100abc@email.amazonses.com>'],
    ...overrides,
  });

describe('the reply a local mail client builds', () => {
  it('threads, quotes the original below "On <date>, <from> wrote:" and parses back', async () => {
    const raw = reply({
      quote: {
        from: 'alerts@demo-bank.example',
        at: new Date('2025-06-02T11:00:00Z'),
        text: 'We saw a card payment.\n\nReply Y if this was you, N if not.',
      },
    });
    expect(raw).not.toMatch(/[^\r]\n/);
    const mail = await PostalMime.parse(raw);
    expect(mail.from).toMatchObject({ name: 'Ana Lima', address: 'ana@example.com' });
    expect(mail.inReplyTo).toBe('<0100abc@email.amazonses.com>');
    expect(mail.messageId).toBe('<abc123@example.com>');
    expect(mail.text?.replace(/\r\n/g, '\n')).toBe(
      'N\n\nOn Mon, 02 Jun 2025 11:00:00 +0000, alerts@demo-bank.example wrote:\n' +
        '> We saw a card payment.\n>\n> Reply Y if this was you, N if not.\n',
    );
  });

  it('carries any text and subject intact: quoted-printable lines and encoded words', async () => {
    const oneLine = fc.string({ unit: 'grapheme', maxLength: 200 }).map((s) => s.replace(/[\p{Cc}\u2028\u2029]/gu, ''));
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme', maxLength: 400 }),
        oneLine.filter((s) => s.trim() === s && !/\s{2}/.test(s)),
        async (text, subject) => {
          const clean = text.replace(/[\p{Cc}]/gu, (c) => (c === '\n' ? '\n' : ''));
          const raw = reply({ text: clean, subject });
          for (const line of raw.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
          const mail = await PostalMime.parse(raw);
          expect(mail.subject ?? '').toBe(subject);
          // The message's last line break ends the body, as in any mail.
          expect((mail.text ?? '').replace(/\r\n/g, '\n')).toBe(`${clean}\n`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('lets given headers replace the built ones and add others', async () => {
    const raw = reply({ headers: { 'Auto-Submitted': 'auto-replied', 'Message-ID': '<other@example.com>' } });
    const headers = readHeaders(Buffer.from(raw)) ?? [];
    expect(headers.filter((h) => h.name.toLowerCase() === 'message-id').map((h) => h.value)).toEqual([
      '<other@example.com>',
    ]);
    expect(headers).toContainEqual({ name: 'Auto-Submitted', value: 'auto-replied' });
  });
});

describe('reading a raw message', () => {
  it('unfolds headers and stops at the body; a text that is no message has none', () => {
    const raw = Buffer.from('Subject: a\r\n  long one\r\nTo: "B, C" <b@x.example>, d@y.example\r\n\r\nFrom: body\r\n');
    const headers = readHeaders(raw);
    expect(headers).toEqual([
      { name: 'Subject', value: 'a long one' },
      { name: 'To', value: '"B, C" <b@x.example>, d@y.example' },
    ]);
    expect(addressesIn(headers?.[1]?.value)).toEqual(['b@x.example', 'd@y.example']);
    expect(readHeaders(Buffer.from('hello there\r\n'))).toBeUndefined();
  });
});
