import { readFileSync } from 'node:fs';
import type { SESReceipt } from 'aws-lambda';
import EmailReplyParser from 'email-reply-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { htmlToText } from '../../functions/adapters/email/html-to-text.ts';
import {
  type AutomaticReason,
  MAX_RAW_BYTES,
  MAX_TEXT_BYTES,
  type ParsedEmail,
  parseInboundEmail,
  type SesReceiptVerdicts,
  UnparseableEmailError,
} from '../../functions/adapters/email/inbound-email.ts';
import {
  firstLineOf,
  REPLY_PARSER_MAX_CHARS,
  tidyText,
  trimReply,
} from '../../functions/adapters/email/reply-trimmer.ts';
import { isWellFormedText, textProblem } from '../../functions/domain/text.ts';

/** A fixture as it arrives over SMTP: CRLF line ends. */
const fixture = (name: string): Buffer => {
  const text = readFileSync(new URL(`../fixtures/email/${name}`, import.meta.url), 'utf8');
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf8');
};

const alertId = '0100018fd2a1b2c3-4e5f6a7b-1234-4cde-9abc-def012345678-000000@email.amazonses.com';

/** A minimal mail around `body`, with extra header lines. */
const mail = (body: string, extraHeaders: string[] = [], contentType = 'text/plain; charset=utf-8'): string =>
  [
    'From: Ada Lovelace <ada@example.com>',
    'To: reply+token@reply.demo-bank.example',
    'Subject: Re: Card alert',
    'Message-ID: <m1@example.com>',
    'MIME-Version: 1.0',
    `Content-Type: ${contentType}`,
    ...extraHeaders,
    '',
    body,
  ].join('\r\n');

const fiveMegabytes = 5 * 1024 * 1024;

/** A Gmail-shaped reply with a 5 MB PDF attached, made here rather than kept in the repository. */
const withLargeAttachment = (): string => {
  const pdf = Buffer.alloc(fiveMegabytes, 0x20);
  pdf.write('%PDF-1.7\n', 0, 'latin1');
  const base64 = pdf.toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    'From: Ada Lovelace <ada.lovelace@example.com>',
    'To: Demo Bank <reply+b7Kq2f.tok1@reply.demo-bank.example>',
    'Subject: Re: Your statement request',
    'Message-ID: <CALarge=5mb@mail.gmail.com>',
    `In-Reply-To: <${alertId}>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="mixed-5mb"',
    '',
    '--mixed-5mb',
    'Content-Type: multipart/alternative; boundary="alt-5mb"',
    '',
    '--alt-5mb',
    'Content-Type: text/plain; charset="UTF-8"',
    '',
    'Here is the receipt you asked for.',
    '',
    'On Mon, 2 Jun 2025 at 11:00, Demo Bank <alerts@demo-bank.example> wrote:',
    '> Please send us the receipt.',
    '',
    '--alt-5mb',
    'Content-Type: text/html; charset="UTF-8"',
    '',
    '<div>Here is the receipt you asked for.</div>',
    '--alt-5mb--',
    '--mixed-5mb',
    'Content-Type: application/pdf; name="receipt.pdf"',
    'Content-Disposition: attachment; filename="receipt.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    base64,
    '--mixed-5mb--',
    '',
  ].join('\r\n');
};

interface CorpusCase {
  /** A file under test/fixtures/email, or a mail made by the test. */
  source: string | (() => string);
  /** What a person reading the mail takes for the customer's new text. */
  reply: string;
  automatic?: AutomaticReason;
  /** What the trimmer gives today where it differs from `reply`: pinned so that any change shows. */
  knownMiss?: string;
}

const corpus: CorpusCase[] = [
  { source: '01-gmail-web-n-above-card-alert.eml', reply: 'N' },
  {
    source: '02-gmail-wrapped-attribution.eml',
    reply: 'Hi,\n\nYes, that was me. I was in Tesco this morning.\n\nCould you also send me my balance?\n\nThanks\nAda',
  },
  { source: '03-gmail-android-y.eml', reply: 'Y' },
  { source: '04-outlook-desktop-original-message.eml', reply: 'N' },
  { source: '05-outlook-desktop-html-from-sent-block.eml', reply: 'That was me \u2013 I was buying groceries.' },
  { source: '06-outlook-web-underscore-rule.eml', reply: 'Y' },
  { source: '07-outlook-ios.eml', reply: 'N' },
  { source: '08-outlook-german-von-gesendet.eml', reply: 'Nein, das war ich nicht. Bitte sperren Sie die Karte.' },
  { source: '09-apple-mail-macos.eml', reply: 'Yes, it was me.' },
  { source: '10-iphone-mail-y.eml', reply: 'Y' },
  { source: '11-samsung-email-original-message.eml', reply: 'N' },
  { source: '12-thunderbird-bottom-posted.eml', reply: 'N - I have never shopped at that Tesco.' },
  { source: '13-inline-answers.eml', reply: 'Hi,\n\nanswers below.\n\nN\n\nPlease keep sending them.' },
  { source: '14-gmail-french-a-ecrit.eml', reply: 'Non, ce n\u2019\u00e9tait pas moi.' },
  { source: '15-spanish-iso-8859-1.eml', reply: 'S\u00ed, fui yo. Gracias por avisar.' },
  { source: '16-gmail-dutch-schreef.eml', reply: 'Nee, dat was ik niet.' },
  { source: '17-portuguese-base64.eml', reply: 'Sim, fui eu.' },
  { source: '18-italian-ha-scritto.eml', reply: 'No, non sono stato io.' },
  { source: '19-german-am-schrieb-latin1.eml', reply: 'Ja, das war ich. Sch\u00f6nen Tag noch!' },
  { source: '20-gmail-forwarded-with-note.eml', reply: "Can you check this? I don't recognise the payment." },
  { source: '21-apple-mail-forward.eml', reply: 'FYI \u2013 not me.' },
  { source: '22-stop-dash-dash-signature.eml', reply: 'STOP' },
  { source: '23-ipad-keyword-bal.eml', reply: 'BAL' },
  {
    source: '24-exchange-out-of-office.eml',
    reply:
      'Thank you for your email. I am currently out of the office until Monday 9 June with limited access to email.\n\n' +
      'For urgent matters please contact reception on 020 7946 0001.\n\nAda Lovelace',
    automatic: 'auto_submitted',
  },
  {
    source: '25-german-out-of-office-subject.eml',
    reply:
      'Vielen Dank f\u00fcr Ihre Nachricht. Ich bin bis einschlie\u00dflich 9. Juni nicht im B\u00fcro und habe keinen ' +
      'Zugriff auf meine E-Mails.\n\nIn dringenden F\u00e4llen wenden Sie sich bitte an meine Kollegin.',
    automatic: 'out_of_office',
  },
  {
    source: '26-french-out-of-office-body.eml',
    reply:
      'Bonjour,\n\nJe suis absente du bureau jusqu\u2019au 9 juin inclus. Je traiterai votre message \u00e0 mon retour.',
    automatic: 'out_of_office',
  },
  {
    source: '27-delivery-status-notification.eml',
    reply:
      'This is the mail system at host mx.example.net.\n\n' +
      "I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients. It's attached below.\n\n" +
      '<ada.old@example.net>: host mx.example.net[192.0.2.25] said: 550 5.1.1\n' +
      '    <ada.old@example.net>: Recipient address rejected: User unknown',
    automatic: 'delivery_report',
  },
  { source: '28-html-only-outlook.eml', reply: 'N' },
  { source: '29-html-only-blockquote-base64.eml', reply: 'Yes that was me \u{1f44d}' },
  { source: '30-yahoo-android.eml', reply: 'Y' },
  { source: '31-outlook-android-german.eml', reply: 'Ja' },
  { source: '32-sign-off-and-iphone.eml', reply: "No that wasn't me, please cancel the card." },
  { source: '33-thanks-name-kept.eml', reply: 'Yes that was me.\n\nThanks,\nAda' },
  { source: '34-no-quote-plain.eml', reply: 'y' },
  { source: '35-gmail-own-signature.eml', reply: 'Please call me back this afternoon about this payment.' },
  {
    source: '36-corporate-disclaimer.eml',
    reply: 'N',
    knownMiss:
      'N\n\nAda Lovelace | Senior Analyst\nAnalytical Engines Ltd\n\nThis email and any attachments are confidential and ' +
      'intended solely for the addressee. If you have received it in error, please notify the sender and delete it. ' +
      'Analytical Engines Ltd is registered in England and Wales, No. 01234567.',
  },
  {
    source: '37-outlook-signature-block.eml',
    reply: 'Y',
    knownMiss: 'Y\n\nAda Lovelace\nSenior Analyst | Analytical Engines Ltd\nT: +44 20 7946 0000 | M: +44 7700 900123',
  },
  { source: '38-polish-pisze.eml', reply: 'Tak, to ja.' },
  { source: '39-japanese-gmail.eml', reply: '\u306f\u3044\u3001\u79c1\u3067\u3059\u3002' },
  { source: '40-outlook-french-de-envoye.eml', reply: "Oui, c'est bien moi." },
  { source: '41-outlook-spanish-enviado-el.eml', reply: 'No he sido yo, bloqueen la tarjeta por favor.' },
  {
    source: '42-free-text-header-lookalike.eml',
    reply: 'On second thought: please call me about this payment.\nFrom: my mobile, any time after 5pm.',
  },
  { source: '43-quote-only-no-new-text.eml', reply: '' },
  { source: withLargeAttachment, reply: 'Here is the receipt you asked for.' },
];

/** The share of the corpus trimmed exactly today: a change that trims worse fails here. */
const MIN_EXACT_SHARE = 42 / 44;

const nameOf = (entry: CorpusCase) =>
  typeof entry.source === 'string' ? entry.source : 'reply with a 5 MB attachment';
const rawOf = (entry: CorpusCase) => (typeof entry.source === 'string' ? fixture(entry.source) : entry.source());

const parsedCorpus = new Map<CorpusCase, Promise<ParsedEmail>>();
const parseCase = (entry: CorpusCase): Promise<ParsedEmail> => {
  let parsed = parsedCorpus.get(entry);
  if (!parsed) {
    parsed = parseInboundEmail(rawOf(entry));
    parsedCorpus.set(entry, parsed);
  }
  return parsed;
};

/** Every returned text field obeys DESIGN section 10: well-formed, no controls, one-line fields on one line. */
const expectSafeFields = (parsed: ParsedEmail) => {
  for (const text of [parsed.text, parsed.reply]) {
    expect(textProblem(text)).toBeUndefined();
    expect(text).not.toMatch(/\r/);
  }
  for (const line of [
    parsed.subject,
    parsed.firstLine,
    parsed.fromName ?? '',
    ...[...parsed.to, ...parsed.cc].map((recipient) => recipient.name ?? ''),
    ...parsed.attachments.map((attachment) => attachment.filename ?? ''),
  ]) {
    expect(textProblem(line, { oneLine: true })).toBeUndefined();
  }
  for (const id of [parsed.messageId ?? 'none', ...parsed.inReplyTo, ...parsed.references]) {
    expect(id).toMatch(/^[^\s<>]+$/);
  }
};

describe('inbound email', () => {
  describe('reply trimming on the corpus', () => {
    it.each(corpus.map((entry) => [nameOf(entry), entry] as const))('%s', async (_name, entry) => {
      const parsed = await parseCase(entry);

      expect(parsed.reply).toBe(entry.knownMiss ?? entry.reply);
      expect(parsed.firstLine).toBe(firstLineOf(entry.knownMiss ?? entry.reply));
      expect(parsed.automatic).toBe(entry.automatic);
      expect(parsed.untrusted).toBe(entry.automatic ? 'automatic' : undefined);
      expectSafeFields(parsed);
    });

    it('trims at least the share of the corpus it trimmed when last measured', async () => {
      const results = await Promise.all(corpus.map(async (entry) => ({ entry, parsed: await parseCase(entry) })));
      const exact = results.filter(({ entry, parsed }) => parsed.reply === entry.reply);
      // What email-reply-parser alone makes of the same texts, for comparison.
      const parserAlone = results.filter(
        ({ entry, parsed }) => tidyText(new EmailReplyParser().parseReply(parsed.text)) === entry.reply,
      );
      const share = exact.length / corpus.length;
      console.log(
        `inbound email corpus: ${exact.length}/${corpus.length} replies trimmed exactly (${(share * 100).toFixed(1)}%); ` +
          `email-reply-parser alone: ${parserAlone.length}/${corpus.length}; misses: ` +
          results
            .filter(({ entry, parsed }) => parsed.reply !== entry.reply)
            .map(({ entry }) => nameOf(entry))
            .join(', '),
      );

      expect(share).toBeGreaterThanOrEqual(MIN_EXACT_SHARE);
    });
  });

  describe('headers', () => {
    it('reads ids without brackets, the sender lower-cased with its name, recipients, subject and date', async () => {
      const parsed = await parseInboundEmail(fixture('06-outlook-web-underscore-rule.eml'));

      expect(parsed.messageId).toBe('AM0PR10MB3123ABCDEF0123456789ABCDEF01@AM0PR10MB3123.EURPRD10.PROD.OUTLOOK.COM');
      expect(parsed.inReplyTo).toEqual([alertId]);
      expect(parsed.references).toEqual([alertId]);
      expect(parsed.from).toBe('ada.lovelace@outlook.example');
      expect(parsed.fromName).toBe('Ada Lovelace');
      expect(parsed.to).toEqual([{ address: 'reply+b7kq2f.tok1@reply.demo-bank.example', name: 'Demo Bank' }]);
      expect(parsed.cc).toEqual([]);
      expect(parsed.subject).toBe('Re: Card alert: \u00a342.50 at TESCO STORES');
      expect(parsed.date).toBe('2025-06-02T10:03:10.000Z');
      expect(parsed.unsafe).toEqual([]);
    });

    it('decodes encoded-word names and subjects in UTF-8 and ISO-8859-1', async () => {
      const french = await parseInboundEmail(fixture('14-gmail-french-a-ecrit.eml'));
      const spanish = await parseInboundEmail(fixture('15-spanish-iso-8859-1.eml'));

      expect(french.fromName).toBe('Ad\u00e8le Dupont');
      expect(spanish.fromName).toBe('Jos\u00e9 Mu\u00f1oz');
      expect(spanish.subject).toBe('Re: Alerta de tarjeta');
      expect(spanish.text).toContain(
        'El lun, 2 jun 2025 a las 11:00, Demo Bank (<alerts@demo-bank.example>) escribi\u00f3:',
      );
    });

    it('keeps the last ids of a long References chain and drops ids that are not ids', async () => {
      const ids = Array.from({ length: 60 }, (_, index) => `<thread-${index}@example.com>`);
      const parsed = await parseInboundEmail(
        mail('Y', [
          `References: ${ids.join('\r\n ')}`,
          'In-Reply-To: <thread-59@example.com> (Demo Bank\'s message of "Mon, 2 Jun")',
          'Cc: "Bob, Jr." <BOB@Example.com>, Team: carol@example.com, dave@example.com;, not an address',
        ]),
      );

      expect(parsed.references).toHaveLength(50);
      expect(parsed.references[0]).toBe('thread-10@example.com');
      expect(parsed.references.at(-1)).toBe('thread-59@example.com');
      expect(parsed.inReplyTo).toEqual(['thread-59@example.com']);
      expect(parsed.cc).toEqual([
        { address: 'bob@example.com', name: 'Bob, Jr.' },
        { address: 'carol@example.com' },
        { address: 'dave@example.com' },
      ]);
    });

    it('leaves out a Message-ID, sender and date it cannot use', async () => {
      const parsed = await parseInboundEmail(
        ['From: undisclosed', 'Message-ID: <>', 'Date: the day before yesterday', 'Subject: hi', '', 'Y'].join('\r\n'),
      );

      expect(parsed.messageId).toBeUndefined();
      expect(parsed.from).toBeUndefined();
      expect(parsed.date).toBeUndefined();
      expect(parsed.reply).toBe('Y');
    });
  });

  describe('bodies', () => {
    it('turns an HTML-only mail into readable text, with its quote marked', async () => {
      const outlook = await parseInboundEmail(fixture('28-html-only-outlook.eml'));
      const apple = await parseInboundEmail(fixture('29-html-only-blockquote-base64.eml'));

      expect(outlook.text).toContain('From: Demo Bank <alerts@demo-bank.example>\nSent: Monday, June 2, 2025 11:00 AM');
      expect(outlook.text).not.toMatch(/<\/?(p|div|b|br|hr|html|body|style)\b|font-family|\{/i);
      expect(apple.text).toContain('> On 2 Jun 2025, at 11:00, Demo Bank <alerts@demo-bank.example> wrote:');
      expect(apple.text).toContain('> Reply Y if this was you, or N if it was not.');
    });

    it('summarises a 5 MB attachment without keeping its content', async () => {
      const parsed = await parseInboundEmail(withLargeAttachment());

      expect(parsed.attachments).toEqual([
        { filename: 'receipt.pdf', mimeType: 'application/pdf', size: fiveMegabytes, inline: false },
      ]);
      expect(JSON.stringify(parsed).length).toBeLessThan(2_000);
    });

    it('keeps a forwarded mail attached as message/rfc822 out of the text', async () => {
      const parsed = await parseInboundEmail(fixture('27-delivery-status-notification.eml'));

      expect(parsed.text).not.toContain('forwarded-copy@example.com');
      expect(parsed.attachments.map((attachment) => attachment.mimeType)).toEqual([
        'message/delivery-status',
        'message/rfc822',
      ]);
    });

    it('normalises CR and CRLF line ends to LF', async () => {
      const parsed = await parseInboundEmail(
        ['From: a@example.com', 'Subject: x', '', 'Yes\rthat was me\r\n\r\nOn Mon, X wrote:\r> old'].join('\n'),
      );

      expect(parsed.text).toBe('Yes\nthat was me\n\nOn Mon, X wrote:\n> old');
      expect(parsed.reply).toBe('Yes\nthat was me');
    });
  });

  describe('hostile input', () => {
    it('removes NUL and other control characters and repairs lone surrogates', async () => {
      const parsed = await parseInboundEmail(
        mail('ST=00OP=07=1B\r\n\r\n&#xD800; and =C2=85 and =EF=BF=BE', ['Content-Transfer-Encoding: quoted-printable']),
      );
      const fromHtml = await parseInboundEmail(mail('<p>Y&#0;&#xD800;</p>', [], 'text/html; charset=utf-8'));

      expect(parsed.firstLine).toBe('STOP');
      expect(parsed.text).toBe('STOP\n\n&#xD800; and \n and');
      expect(fromHtml.reply).toBe('Y\ufffd\ufffd');
      expect(isWellFormedText(fromHtml.text)).toBe(true);
    });

    it('keeps every returned one-line field on one line, so no header can be injected through it', async () => {
      const encoded = (text: string) => `=?UTF-8?B?${Buffer.from(text).toString('base64')}?=`;
      const parsed = await parseInboundEmail(
        [
          `From: ${encoded('Ada\r\nBcc: victim@example.com')} <ada@example.com>`,
          `Subject: ${encoded('Re: Card\r\nBcc: victim@example.com\u2028\u0000\tX')}`,
          'Message-ID: <a\r\n b@example.com>',
          'MIME-Version: 1.0',
          'Content-Type: multipart/mixed; boundary="b"',
          '',
          '--b',
          'Content-Type: text/plain',
          '',
          'Y',
          '--b',
          `Content-Type: text/plain; name="${encoded('x\r\nContent-Type: text/html')}"`,
          'Content-Disposition: attachment',
          '',
          'data',
          '--b--',
        ].join('\r\n'),
      );

      expect(parsed.subject).toBe('Re: Card Bcc: victim@example.com X');
      expect(parsed.fromName).toBe('Ada Bcc: victim@example.com');
      expect(parsed.attachments[0]?.filename).toBe('x Content-Type: text/html');
      expect(parsed.messageId).toBeUndefined();
      expectSafeFields(parsed);
    });

    it(`keeps at most ${MAX_TEXT_BYTES} bytes of text, cut on a whole character`, async () => {
      const parsed = await parseInboundEmail(mail(`Y\r\n${'\u00e9\u{1f600}'.repeat(200_000)}`));

      expect(parsed.textTruncated).toBe(true);
      expect(Buffer.byteLength(parsed.text, 'utf8')).toBeLessThanOrEqual(MAX_TEXT_BYTES);
      expect(Buffer.byteLength(parsed.text, 'utf8')).toBeGreaterThan(MAX_TEXT_BYTES - 8);
      expect(isWellFormedText(parsed.text)).toBe(true);
      expect(parsed.firstLine).toBe('Y');
    });

    it('caps a huge HTML-only body too', async () => {
      const parsed = await parseInboundEmail(
        mail(`<p>N</p>${'<div>spam spam</div>'.repeat(200_000)}`, [], 'text/html'),
      );

      expect(parsed.textTruncated).toBe(true);
      expect(Buffer.byteLength(parsed.text, 'utf8')).toBeLessThanOrEqual(MAX_TEXT_BYTES);
      expect(parsed.firstLine).toBe('N');
    });

    // email-reply-parser backtracks for minutes on these when it is handed them whole.
    it.each([
      ['Danish-looking lines', 'abc. skrev x\n'],
      ['Dutch-looking lines', 'Op schreef x\n'],
      ['Polish-looking lines', 'W dniu pisze x\n'],
      ['Chinese-looking lines', '\u5728 \u5199\u9053 x\n'],
      ['long attribution-looking lines', `On ${'a '.repeat(400)}\n`],
      ['one huge line', `On ${'a at on '.repeat(30_000)}`],
      ['many sign-offs', 'Regards\n'],
    ])('trims %s of the largest kept size in one pass', async (_name, unit) => {
      const body = `Y\n\n${unit.repeat(Math.ceil(MAX_TEXT_BYTES / unit.length))}`;

      const reply = trimReply(body);

      expect(firstLineOf(reply)).toBe('Y');
    });

    it('refuses a mail over the SES size limit', async () => {
      await expect(parseInboundEmail(new Uint8Array(MAX_RAW_BYTES + 1))).rejects.toBeInstanceOf(UnparseableEmailError);
    });

    it('refuses MIME nested past the parser limit with a named error', async () => {
      const depth = 300;
      const open = Array.from(
        { length: depth },
        (_, index) => `Content-Type: multipart/mixed; boundary="b${index}"\r\n\r\n--b${index}\r\n`,
      ).join('');

      await expect(parseInboundEmail(`From: a@example.com\r\n${open}\r\nY`)).rejects.toBeInstanceOf(
        UnparseableEmailError,
      );
    });

    it('keeps the first line on one line when the reply has a tab in it (found by the property below)', async () => {
      const parsed = await parseInboundEmail('\r\n\u00a1\t\u00a1');
      expect(parsed.firstLine).toBe('\u00a1 \u00a1');
      expectSafeFields(parsed);
    });

    it('returns safe fields for any input', async () => {
      const piece = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.constantFrom(
          '\r\n',
          '\r\n\r\n',
          'Subject: ',
          'From: ',
          'Content-Type: multipart/mixed; boundary=x\r\n',
          'Content-Type: text/html\r\n',
          '--x\r\n',
          '=?UTF-8?B?AA0K?=',
          '<blockquote>',
          '> ',
          '\u0000',
          '\ud800',
        ),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(piece, { maxLength: 30 }), async (pieces) => {
          const parsed = await parseInboundEmail(pieces.join(''));
          expectSafeFields(parsed);
          expect(parsed.firstLine).toBe(firstLineOf(parsed.reply));
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('trimReply', () => {
    const lineOf = fc.constantFrom(
      '> Reply Y if this was you',
      'On Mon, 2 Jun 2025 at 11:00, Demo Bank <alerts@demo-bank.example> wrote:',
      'Am Mo., 2. Juni 2025 um 11:00 Uhr schrieb Demo Bank <alerts@demo-bank.example>:',
      '-----Original Message-----',
      'From: Demo Bank <alerts@demo-bank.example>',
      'Sent: Monday',
      '________________________________',
      '-- ',
      'Sent from my iPhone',
      'Kind regards',
      'Ada',
      '',
      'Cheers',
      'From: Ada <ada@example.com>',
      'Op ma 2 jun. 2025 om 11:00 schreef Demo Bank:',
    );

    it('never loses new text at the top, whatever history follows it', () => {
      fc.assert(
        fc.property(
          fc.constantFrom('Y', 'N', 'STOP', 'Please call me', 'Cheers', 'Regards'),
          fc.array(fc.oneof(lineOf, fc.string({ maxLength: 30 })), { maxLength: 25 }),
          (answer, history) => {
            expect(firstLineOf(trimReply(`${answer}\n\n${history.join('\n')}`))).toBe(answer);
          },
        ),
        { numRuns: 500 },
      );
    });

    it('keeps new text below the quote (bottom-posting)', () => {
      expect(trimReply('On Mon, Demo Bank wrote:\n> Reply Y if this was you\n> Thanks\n\nN\n\n-- \nAda')).toBe('N');
    });

    it('passes a new text longer than the reply parser takes through its own filters only', () => {
      const long = `${'A long complaint. '.repeat(REPLY_PARSER_MAX_CHARS / 10)}\n\nKind regards\nAda`;

      expect(trimReply(`${long}\n\nOn Mon, 2 Jun 2025, Demo Bank wrote:\n> alert`)).toBe(
        'A long complaint. '.repeat(REPLY_PARSER_MAX_CHARS / 10).trim(),
      );
    });
  });

  describe('automatic mail', () => {
    it.each([
      [['Auto-Submitted: auto-replied'], 'auto_submitted'],
      [['Auto-Submitted: auto-generated; owner-email="ada@example.com"'], 'auto_submitted'],
      [['Auto-Submitted: no'], undefined],
      [['Precedence: bulk'], 'precedence'],
      [['Precedence: list'], 'precedence'],
      [['Precedence: junk'], 'precedence'],
      [['Precedence: auto_reply'], 'precedence'],
      [['Precedence: first-class'], undefined],
      [['X-Autoreply: yes'], 'auto_reply_header'],
      [['X-Autorespond: Out of office'], 'auto_reply_header'],
      [['X-Autoreply: no'], undefined],
      [['Return-Path: <>'], 'mailer_daemon'],
    ] as const)('%j is %s', async (headers, expected) => {
      const parsed = await parseInboundEmail(mail('Y', [...headers]));

      expect(parsed.automatic).toBe(expected);
    });

    it.each([
      ['MAILER-DAEMON@mx.example.net', 'mailer_daemon'],
      ['postmaster@example.net', 'mailer_daemon'],
      ['ada@example.com', undefined],
    ] as const)('a mail from %s is %s', async (from, expected) => {
      const parsed = await parseInboundEmail(mail('Y').replace('Ada Lovelace <ada@example.com>', from));

      expect(parsed.automatic).toBe(expected);
    });

    it.each([
      'Automatic reply: Card alert',
      'Out of Office: Card alert',
      'AUTO: Ada Lovelace is out of the office (returning 09/06/2025)',
      'Automatische Antwort: Card alert',
      'Réponse automatique : Card alert',
      'Respuesta automática: Card alert',
      'Automatisch antwoord: Card alert',
      'Resposta automática: Card alert',
      'Risposta automatica: Card alert',
    ])('the subject %j is an out-of-office', async (subject) => {
      const parsed = await parseInboundEmail(mail('Thank you for your message.').replace('Re: Card alert', subject));

      expect(parsed.automatic).toBe('out_of_office');
    });

    it.each([
      ['I am out of the office until 9 June.', 'out_of_office'],
      ["I'm currently away from the office.", 'out_of_office'],
      ['This is an automatic reply.', 'out_of_office'],
      ['Ich bin bis zum 9. Juni nicht im Büro.', 'out_of_office'],
      ['Estoy fuera de la oficina hasta el lunes.', 'out_of_office'],
      ['Ik ben tot en met 9 juni afwezig.', 'out_of_office'],
      ['Estou ausente até dia 9.', 'out_of_office'],
      ['Sono fuori ufficio fino al 9 giugno.', 'out_of_office'],
      ['Y - I am on holiday in Spain, that was me.', undefined],
      ['N. I am out of the office this week, but it was not me.', undefined],
      ['Is this an office address?', undefined],
    ] as const)('the reply %j is %s', async (body, expected) => {
      const parsed = await parseInboundEmail(mail(body));

      expect(parsed.automatic).toBe(expected);
    });

    it('takes a disposition report (a read receipt) for automatic mail', async () => {
      const parsed = await parseInboundEmail(
        mail(
          '--r\r\nContent-Type: text/plain\r\n\r\nYour message was read.\r\n--r\r\nContent-Type: message/disposition-notification\r\n\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n--r--',
          [],
          'multipart/report; report-type=disposition-notification; boundary="r"',
        ),
      );

      expect(parsed.automatic).toBe('delivery_report');
    });
  });

  describe('SES verdicts', () => {
    const verdicts = (spam: string, virus: string, dmarc: string, dmarcPolicy?: string): SesReceiptVerdicts =>
      ({
        spamVerdict: { status: spam },
        virusVerdict: { status: virus },
        dmarcVerdict: { status: dmarc },
        ...(dmarcPolicy && { dmarcPolicy }),
      }) as SesReceiptVerdicts;

    it.each([
      [verdicts('PASS', 'PASS', 'PASS'), [], undefined],
      [verdicts('FAIL', 'PASS', 'PASS'), ['spam'], 'spam'],
      [verdicts('PASS', 'FAIL', 'PASS'), ['virus'], 'virus'],
      [verdicts('PASS', 'PASS', 'FAIL', 'none'), ['dmarc_fail'], 'dmarc_fail'],
      [verdicts('PASS', 'PASS', 'FAIL', 'reject'), ['dmarc_fail'], 'dmarc_fail'],
      [verdicts('FAIL', 'FAIL', 'FAIL', 'quarantine'), ['virus', 'spam', 'dmarc_fail'], 'virus'],
      [verdicts('GRAY', 'GRAY', 'GRAY'), [], undefined],
      [verdicts('PROCESSING_FAILED', 'PROCESSING_FAILED', 'PROCESSING_FAILED'), [], undefined],
      [verdicts('DISABLED', 'DISABLED', 'DISABLED'), [], undefined],
      [{}, [], undefined],
    ] as const)('%j gives %j', async (receipt, unsafe, untrusted) => {
      const parsed = await parseInboundEmail(mail('Y'), receipt);

      expect(parsed.unsafe).toEqual(unsafe);
      expect(parsed.untrusted).toBe(untrusted);
    });

    it('takes the receipt object of an SES notification as it is', async () => {
      const receipt: SESReceipt = {
        timestamp: '2025-06-02T10:01:12.000Z',
        processingTimeMillis: 420,
        recipients: ['reply+token@reply.demo-bank.example'],
        spamVerdict: { status: 'PASS' },
        virusVerdict: { status: 'PASS' },
        spfVerdict: { status: 'PASS' },
        dkimVerdict: { status: 'PASS' },
        dmarcVerdict: { status: 'FAIL' },
        dmarcPolicy: 'reject',
        action: { type: 'S3', bucketName: 'inbound', objectKey: 'mail/1' },
      };

      const parsed = await parseInboundEmail(mail('Y'), receipt);

      expect(parsed.unsafe).toEqual(['dmarc_fail']);
    });

    it('puts a failed verdict before the mail being automatic', async () => {
      const parsed = await parseInboundEmail(
        mail('Y', ['Auto-Submitted: auto-replied']),
        verdicts('FAIL', 'PASS', 'PASS'),
      );

      expect(parsed.automatic).toBe('auto_submitted');
      expect(parsed.untrusted).toBe('spam');
    });
  });

  describe('htmlToText', () => {
    it.each([
      ['<p>a</p><p>b</p>', 'a\n\nb'],
      ['a<br>b<br><br>c', 'a\nb\n\nc'],
      ['<div>a</div><div><br></div><div>b</div>', 'a\n\nb'],
      ['<style>p { color: red }</style><script>alert(1)</script><!-- hidden -->shown', 'shown'],
      ['&amp;&lt;&gt;&quot;&#39;&eacute;&Eacute;&nbsp;&euro;&hellip;&#x1F600;&unknown;', '&<>"\'éÉ €…😀&unknown;'],
      ['<ul><li>one</li><li>two</li></ul>', '- one\n- two'],
      ['a<blockquote>b<blockquote>c</blockquote></blockquote>d', 'a\n> b\n>> c\nd'],
      ['<pre>  two  spaces\n  kept</pre>', '  two  spaces\n  kept'],
      ['1 < 2 and <b>bold</b>', '1 < 2 and bold'],
      ['<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>', 'a b\nc'],
      ['<img src="x.png" alt="Logo"> text', 'Logo text'],
      ['unclosed <b', 'unclosed <b'],
    ])('%j reads %j', (html, text) => {
      expect(htmlToText(html)).toBe(text);
    });

    it.each([
      ['unclosed tags', '<a '.repeat(100_000)],
      ['unclosed comments', '<!--'.repeat(100_000)],
      ['unclosed styles', '<style>'.repeat(100_000)],
      ['deep quotes', `${'<blockquote>'.repeat(20_000)}x`],
      ['ampersands', '&'.repeat(300_000)],
    ])('turns %s into text in one pass', (_name, html) => {
      expect(typeof htmlToText(html)).toBe('string');
    });
  });
});
