import { describe, expect, it } from 'vitest';
import { parseInboundEmail as receivedMail } from '../../functions/adapters/email/inbound-email.ts';
import { isWellFormedText } from '../../functions/domain/text.ts';

const mime = (headers: Record<string, string>, body: string, contentType = 'text/plain; charset=utf-8') =>
  [
    ...Object.entries({
      From: 'Ada Lovelace <Ada@Example.com>',
      To: 'reply+demo-bank.token.sig@reply.demo-bank.example',
      Subject: 'Re: Card alert',
      'Message-ID': '<CAF=reply-1@mail.gmail.com>',
      'In-Reply-To': '<0100018f-alert@email.amazonses.com>',
      References: '<0100018f-alert@email.amazonses.com>',
      'MIME-Version': '1.0',
      'Content-Type': contentType,
      ...headers,
    }).map(([k, v]) => `${k}: ${v}`),
    '',
    body,
  ].join('\r\n');

const alertQuote = '> Demo Bank: card 4242 was used for $84.10 at ACME.\r\n> Reply Y if this was you, N if not.';

/** Replies as mail clients write them, and the text a person would say the customer wrote. */
const corpus: [string, string, string][] = [
  [
    'Gmail, top-posted',
    mime({}, `N\r\n\r\nOn Mon, 2 Jun 2025 at 11:00, Demo Bank <alerts@demo-bank.example> wrote:\r\n${alertQuote}`),
    'N',
  ],
  [
    'Apple Mail with signature',
    mime({}, `Y\r\n\r\nSent from my iPhone\r\n\r\n> On 2 Jun 2025, at 11:00, Demo Bank wrote:\r\n${alertQuote}`),
    'Y',
  ],
  [
    'Outlook block',
    mime(
      {},
      'No, that was not me\r\n\r\n________________________________\r\nFrom: Demo Bank <alerts@demo-bank.example>\r\nSent: Monday, June 2, 2025 11:00\r\nSubject: Card alert\r\n\r\nReply Y if this was you',
    ),
    'No, that was not me',
  ],
  [
    'German quote header',
    mime({}, `Nein\r\n\r\nAm 02.06.2025 um 11:00 schrieb Demo Bank <alerts@demo-bank.example>:\r\n${alertQuote}`),
    'Nein',
  ],
  [
    'French quote header',
    mime({}, `N\r\n\r\nLe lun. 2 juin 2025 à 11:00, Demo Bank <alerts@demo-bank.example> a écrit :\r\n${alertQuote}`),
    'N',
  ],
  [
    'Spanish quote header',
    mime(
      {},
      `N\r\n\r\nEl lun, 2 jun 2025 a las 11:00, Demo Bank (<alerts@demo-bank.example>) escribió:\r\n${alertQuote}`,
    ),
    'N',
  ],
  ['bottom-posted', mime({}, `${alertQuote}\r\n\r\nN`), 'N'],
  [
    'quoted-printable',
    mime({ 'Content-Transfer-Encoding': 'quoted-printable' }, 'Ja, das war ich =E2=80=94 danke\r\n\r\n> Reply Y'),
    'Ja, das war ich — danke',
  ],
  [
    'ISO-8859-1',
    mime(
      { 'Content-Transfer-Encoding': 'quoted-printable' },
      'Oui, c=E9tait moi\r\n',
      'text/plain; charset=iso-8859-1',
    ),
    'Oui, cétait moi',
  ],
  [
    'HTML only',
    mime(
      {},
      '<div>N</div><div><br></div><blockquote><div>Reply Y if this was you</div></blockquote>',
      'text/html; charset=utf-8',
    ),
    'N',
  ],
];

describe('a received mail', () => {
  it.each(corpus)('%s: the reply is what the customer wrote', async (_client, raw, expected) => {
    const mail = await receivedMail(raw);
    expect(mail.reply).toBe(expected);
    expect(mail.firstLine).toBe(expected.split('\n')[0]);
  });

  it('reads the ids, the sender lower-cased and the subject on one line', async () => {
    const mail = await receivedMail(mime({ Subject: 'Re: Card\r\n alert' }, 'N'));
    expect(mail).toMatchObject({
      messageId: 'CAF=reply-1@mail.gmail.com',
      inReplyTo: ['0100018f-alert@email.amazonses.com'],
      references: ['0100018f-alert@email.amazonses.com'],
      from: 'ada@example.com',
    });
    expect(mail.subject).not.toMatch(/[\r\n]/);
  });

  it.each([
    ['Auto-Submitted', { 'Auto-Submitted': 'auto-replied' }],
    ['Precedence', { Precedence: 'bulk' }],
    ['an out-of-office subject', { Subject: 'Out of Office: Card alert' }],
  ])('marks automatic mail (%s)', async (_why, headers) => {
    expect((await receivedMail(mime(headers, 'I am away until Monday.'))).automatic).toBeDefined();
  });

  it('does not mark a person’s mail automatic, nor Auto-Submitted: no', async () => {
    expect((await receivedMail(mime({ 'Auto-Submitted': 'no' }, 'N'))).automatic).toBeUndefined();
  });

  it('drops NUL and lone surrogates, and keeps at most 256 KB of text from a huge body', async () => {
    const mail = await receivedMail(mime({}, `N\u0000\ud83d here\r\n${'x'.repeat(300_000)}`));
    expect(mail.text.includes('\u0000')).toBe(false);
    expect(isWellFormedText(mail.text)).toBe(true);
    expect(mail.text.length).toBeLessThanOrEqual(256 * 1024);
    expect(mail.firstLine.startsWith('N')).toBe(true);
  });
});
