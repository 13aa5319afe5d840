import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chatFrameSchema } from '../../functions/domain/chat-frame-schema.ts';
import { sendMessageRequestSchema } from '../../functions/domain/contact-schemas.ts';
import { idempotencyKeySchema } from '../../functions/domain/content-schemas.ts';
import { callbackUpdateSchema, replyRequestSchema } from '../../functions/domain/conversation-schemas.ts';
import { conversationQuerySchema, putCustomerRequestSchema } from '../../functions/domain/customer-schemas.ts';
import { InvalidRequestError } from '../../functions/domain/errors.ts';
import { inboundSmsPayloadSchema } from '../../functions/domain/inbound-sms-schema.ts';
import { parseWith } from '../../functions/domain/schemas.ts';
import { putTemplateRequestSchema } from '../../functions/domain/template-schemas.ts';
import { CONTROL_MESSAGE, ONE_LINE_MESSAGE, textProblem, WELL_FORMED_MESSAGE } from '../../functions/domain/text.ts';

const validSend = { customerId: 'cust-42', to: { phone: '+12025550143' }, template: 'card-alert' };

/** The InvalidRequestError a parse throws; fails the test when the input parses. */
const rejection = (schema: Parameters<typeof parseWith>[0], input: unknown, prefix?: string): InvalidRequestError => {
  try {
    parseWith(schema, input, prefix);
  } catch (error) {
    if (error instanceof InvalidRequestError) return error;
    throw error;
  }
  throw new Error('expected the input to be refused');
};

const paths = (error: InvalidRequestError) => (error.details ?? []).map((d) => d.path);

describe('schemas', () => {
  describe('send request', () => {
    it('fills in the defaults', () => {
      // Act
      const request = parseWith(sendMessageRequestSchema, {
        ...validSend,
        prompt: { type: 'confirm' },
      });

      // Assess
      expect(request).toEqual({
        ...validSend,
        channel: 'auto',
        urgency: 'normal',
        category: 'transactional',
        prompt: { type: 'confirm', expiresInSeconds: 3600 },
      });
    });

    it('accepts the full example of the design', () => {
      const request = parseWith(sendMessageRequestSchema, {
        customerId: 'cust-42',
        to: { phone: '+12025550143', email: 'ana@example.com' },
        channel: 'auto',
        template: 'card-transaction-alert',
        data: { amount: '$420.00', merchant: 'ACME', count: 2, urgent: true },
        urgency: 'high',
        category: 'transactional',
        prompt: { type: 'choice', options: [{ key: '1', value: 'block_card' }], expiresInSeconds: 900 },
        reference: 'txn-987',
      });

      expect(request.prompt).toEqual({
        type: 'choice',
        options: [{ key: '1', value: 'block_card' }],
        expiresInSeconds: 900,
      });
    });

    it('refuses an unknown field with a detail naming it', () => {
      const error = rejection(sendMessageRequestSchema, { ...validSend, priority: 'urgent' });

      expect(error.code).toBe('invalid_request');
      expect(error.details).toContainEqual({ path: '(root)', message: 'unknown field(s): priority' });
    });

    it('refuses an unknown field inside a nested object with its path', () => {
      const error = rejection(sendMessageRequestSchema, { ...validSend, to: { phone: '+12025550143', fax: '1' } });

      expect(error.details).toContainEqual({ path: 'to', message: 'unknown field(s): fax' });
    });

    it('refuses a request with both a template and a body', () => {
      const error = rejection(sendMessageRequestSchema, { ...validSend, body: { sms: 'Hi' } });

      expect(error.details).toContainEqual({ path: 'template', message: 'give exactly one of template or body' });
    });

    it('refuses a request with neither a template nor a body', () => {
      const { template: _, ...withoutTemplate } = validSend;

      const error = rejection(sendMessageRequestSchema, withoutTemplate);

      expect(paths(error)).toContain('template');
    });

    it('refuses data with a literal body', () => {
      const { template: _, ...withoutTemplate } = validSend;

      const error = rejection(sendMessageRequestSchema, { ...withoutTemplate, body: { sms: 'Hi' }, data: { a: '1' } });

      expect(paths(error)).toEqual(['data']);
    });

    it('refuses a body without any content', () => {
      const { template: _, ...withoutTemplate } = validSend;

      const error = rejection(sendMessageRequestSchema, { ...withoutTemplate, body: {} });

      expect(paths(error)).toContain('body');
    });

    it.each(['+1202555', '12025550143', '+44 20 7946 0958', '+12025550143 ', 'tel:+12025550143', '+1999555014'])(
      'refuses %j as a phone number at to.phone',
      (phone) => {
        const error = rejection(sendMessageRequestSchema, { ...validSend, to: { phone } });

        expect(paths(error)).toEqual(['to.phone']);
      },
    );

    it.each(['+12025550143', '+442079460958', '+33612345678'])('accepts the E.164 number %s', (phone) => {
      expect(parseWith(sendMessageRequestSchema, { ...validSend, to: { phone } }).to?.phone).toBe(phone);
    });

    it('refuses a malformed email at to.email', () => {
      const error = rejection(sendMessageRequestSchema, { ...validSend, to: { email: 'ana@' } });

      expect(paths(error)).toEqual(['to.email']);
    });

    it('refuses a choice prompt whose keys repeat, case-insensitively', () => {
      const error = rejection(sendMessageRequestSchema, {
        ...validSend,
        prompt: {
          type: 'choice',
          options: [
            { key: 'a', value: 'block_card' },
            { key: 'A', value: 'keep_card' },
          ],
        },
      });

      expect(error.details).toContainEqual({ path: 'prompt.options', message: 'keys must be unique' });
    });

    it('refuses a choice prompt without options', () => {
      const error = rejection(sendMessageRequestSchema, { ...validSend, prompt: { type: 'choice', options: [] } });

      expect(paths(error)).toEqual(['prompt.options']);
    });

    it.each([
      { expiresInSeconds: 1, ok: true },
      { expiresInSeconds: 604_800, ok: true },
      { expiresInSeconds: 0, ok: false },
      { expiresInSeconds: 604_801, ok: false },
      { expiresInSeconds: 1.5, ok: false },
      { expiresInSeconds: '60', ok: false },
    ])('bounds prompt.expiresInSeconds: $expiresInSeconds is accepted=$ok', ({ expiresInSeconds, ok }) => {
      const request = { ...validSend, prompt: { type: 'confirm', expiresInSeconds } };

      if (ok) expect(parseWith(sendMessageRequestSchema, request).prompt?.expiresInSeconds).toBe(expiresInSeconds);
      else expect(paths(rejection(sendMessageRequestSchema, request))).toEqual(['prompt.expiresInSeconds']);
    });

    it.each([
      ['channel', 'fax'],
      ['urgency', 'urgent'],
      ['category', 'promo'],
      ['customerId', ''],
      ['customerId', 'has space'],
      ['template', 'Upper-Case'],
      ['reference', ''],
    ])('refuses %s = %j at that path', (field, value) => {
      const error = rejection(sendMessageRequestSchema, { ...validSend, [field]: value });

      expect(paths(error)).toContain(field);
    });

    it('refuses a template variable that is an object', () => {
      const error = rejection(sendMessageRequestSchema, { ...validSend, data: { amount: { value: 1 } } });

      expect(paths(error)).toEqual(['data.amount']);
    });

    it('refuses a body that is not an object, at (root)', () => {
      expect(paths(rejection(sendMessageRequestSchema, 'hello'))).toEqual(['(root)']);
      expect(paths(rejection(sendMessageRequestSchema, null))).toEqual(['(root)']);
    });

    describe('text fields', () => {
      const literal = { customerId: 'cust-42', to: { phone: '+12025550143' } };
      const email = { subject: 'Your card', text: 'Hello' };
      const choice = (value: string) => ({ type: 'choice', options: [{ key: '1', value }] });

      it.each([
        ['body.sms', { body: { sms: 'emoji cut \ud83d' } }, WELL_FORMED_MESSAGE],
        ['body.sms', { body: { sms: '\ude00 low surrogate first' } }, WELL_FORMED_MESSAGE],
        ['body.sms', { body: { sms: 'nul \u0000 inside' } }, CONTROL_MESSAGE],
        ['body.sms', { body: { sms: 'bell \u0007' } }, CONTROL_MESSAGE],
        ['body.sms', { body: { sms: 'escape \u001b[2J' } }, CONTROL_MESSAGE],
        ['body.sms', { body: { sms: 'C1 \u0085' } }, CONTROL_MESSAGE],
        ['body.sms', { body: { sms: 'delete \u007f' } }, CONTROL_MESSAGE],
        ['body.email.subject', { body: { email: { ...email, subject: 'Hi\r\nBcc: x@evil.test' } } }, ONE_LINE_MESSAGE],
        ['body.email.subject', { body: { email: { ...email, subject: 'Hi\nthere' } } }, ONE_LINE_MESSAGE],
        ['body.email.subject', { body: { email: { ...email, subject: 'Hi\rthere' } } }, ONE_LINE_MESSAGE],
        ['body.email.subject', { body: { email: { ...email, subject: 'tab\there' } } }, ONE_LINE_MESSAGE],
        ['body.email.subject', { body: { email: { ...email, subject: 'line\u2028sep' } } }, ONE_LINE_MESSAGE],
        ['body.email.subject', { body: { email: { ...email, subject: 'cut \ud83d' } } }, WELL_FORMED_MESSAGE],
        ['body.email.text', { body: { email: { ...email, text: 'nul\u0000' } } }, CONTROL_MESSAGE],
        ['body.email.text', { body: { email: { ...email, text: '\ud83d' } } }, WELL_FORMED_MESSAGE],
        ['body.email.html', { body: { email: { ...email, html: '<p>\u0000</p>' } } }, CONTROL_MESSAGE],
        ['body.email.html', { body: { email: { ...email, html: '<p>\udfff</p>' } } }, WELL_FORMED_MESSAGE],
        ['data.name', { template: 'card-alert', data: { name: 'emoji cut \ud83d' } }, WELL_FORMED_MESSAGE],
        ['data.name', { template: 'card-alert', data: { name: 'a\u0000b' } }, CONTROL_MESSAGE],
        ['reference', { template: 'card-alert', reference: 'txn\n987' }, ONE_LINE_MESSAGE],
        ['reference', { template: 'card-alert', reference: 'txn\u0000' }, ONE_LINE_MESSAGE],
        ['reference', { template: 'card-alert', reference: 'txn \ud83d' }, WELL_FORMED_MESSAGE],
        ['prompt.options.0.value', { template: 'card-alert', prompt: choice('block\ncard') }, ONE_LINE_MESSAGE],
        ['prompt.options.0.value', { template: 'card-alert', prompt: choice('\ud83d') }, WELL_FORMED_MESSAGE],
      ])('refuses bad text at %s with one clear detail', (path, fields, message) => {
        const error = rejection(sendMessageRequestSchema, { ...literal, ...fields });

        expect(error.code).toBe('invalid_request');
        expect(error.status).toBe(400);
        expect(error.details).toEqual([{ path, message }]);
      });

      it.each([
        ['an SMS on several lines with emoji', { body: { sms: 'Line 1\nLine 2\r\n\tindented 😀 👍🏽 👨‍👩‍👧 🇬🇧' } }],
        ['an accented SMS', { body: { sms: 'Café crème, ñandú, 中文, اَلْعَرَبِيَّةُ' } }],
        [
          'an email whose text and html span lines',
          { body: { email: { ...email, text: 'a\r\nb\tc', html: '<p>\n</p>' } } },
        ],
        ['a subject with emoji and accents', { body: { email: { ...email, subject: 'Votre carte 💳 — écrite' } } }],
        ['template data on several lines', { template: 'card-alert', data: { address: '1 Main St\nSpringfield' } }],
        ['an empty template value', { template: 'card-alert', data: { name: '' } }],
        ['a reference with unicode', { template: 'card-alert', reference: 'txn-987/ü' }],
      ])('accepts %s', (_, fields) => {
        const request = parseWith(sendMessageRequestSchema, { ...literal, ...fields });

        expect(request).toMatchObject(fields);
      });

      it('refuses any text with a lone surrogate or a control character in the SMS body, at body.sms', () => {
        const bad = fc.constantFrom(
          '\ud800',
          '\udbff',
          '\udc00',
          '\udfff',
          '\u0000',
          '\u0001',
          '\u001f',
          '\u007f',
          '\u009f',
        );
        const safe = fc.string({ unit: 'grapheme', maxLength: 20 }).map((t) => t.replace(/[\p{Cc}]/gu, ''));
        fc.assert(
          fc.property(safe, bad, safe, (before, char, after) => {
            const text = `${before}${char}${after}`;
            fc.pre(text.length <= 1600);
            expect(paths(rejection(sendMessageRequestSchema, { ...literal, body: { sms: text } }))).toEqual([
              'body.sms',
            ]);
          }),
        );
      });

      it('accepts any well-formed text without controls in the SMS body, and keeps it as it is', () => {
        fc.assert(
          fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 100 }), (text) => {
            fc.pre(textProblem(text) === undefined);
            expect(parseWith(sendMessageRequestSchema, { ...literal, body: { sms: text } }).body?.sms).toBe(text);
          }),
        );
      });
    });

    it.each([
      ['sms:+12025550143'],
      ['email:ana@example.com'],
      ['chat:abc'],
      ['SMS:+12025550143'],
      ['Email:ana@example.com'],
    ])('refuses the customerId %j, a prefix reserved for unknown senders', (customerId) => {
      const error = rejection(sendMessageRequestSchema, { ...validSend, customerId });

      expect(error.details).toEqual([
        {
          path: 'customerId',
          message: 'must not start with sms:, email: or chat: (reserved for senders Parley does not know)',
        },
      ]);
    });

    it.each(['cust:sms:1', 'smsuser', 'email-42', 'chat', 'a@sms:x'])('accepts the customerId %j', (customerId) => {
      expect(parseWith(sendMessageRequestSchema, { ...validSend, customerId }).customerId).toBe(customerId);
    });

    it('refuses to: {} (no address at all), at to', () => {
      const error = rejection(sendMessageRequestSchema, { ...validSend, to: {} });

      expect(error.details).toEqual([
        { path: 'to', message: 'give a phone or an email (or leave out to for a known customer)' },
      ]);
    });

    it.each([
      ['a phone only', { phone: '+12025550143' }],
      ['an email only', { email: 'ana@example.com' }],
      ['both', { phone: '+12025550143', email: 'ana@example.com' }],
    ])('accepts to with %s', (_, to) => {
      expect(parseWith(sendMessageRequestSchema, { ...validSend, to }).to).toEqual(to);
    });

    it('accepts a send without to (a known customer)', () => {
      const { to: _, ...withoutTo } = validSend;

      expect(parseWith(sendMessageRequestSchema, withoutTo).to).toBeUndefined();
    });

    it.each([
      { local: 'a'.repeat(64), ok: true },
      { local: 'a'.repeat(65), ok: false },
      { local: `${'a'.repeat(32)}.${'b'.repeat(32)}`, ok: false },
    ])('bounds the local part of to.email at 64 characters: $local.length accepted=$ok', ({ local, ok }) => {
      const request = { ...validSend, to: { email: `${local}@example.com` } };

      if (ok) expect(parseWith(sendMessageRequestSchema, request).to?.email).toBe(`${local}@example.com`);
      else
        expect(rejection(sendMessageRequestSchema, request).details).toEqual([
          { path: 'to.email', message: 'the part before @ must be at most 64 characters (RFC 5321)' },
        ]);
    });

    it('prefixes every path when asked', () => {
      const error = rejection(sendMessageRequestSchema, { ...validSend, to: { phone: '1' } }, 'body');

      expect(paths(error)).toEqual(['body.to.phone']);
    });
  });

  describe('idempotency key', () => {
    it.each(['a', 'order-42/retry:1', ' spaced key ', '~'.repeat(255)])('accepts %j', (key) => {
      expect(parseWith(idempotencyKeySchema, key)).toBe(key);
    });

    it.each(['', 'x'.repeat(256), 'tab\there', 'new\nline', 'café', '\u0000', 'cut \ud83d', 'c1\u0085', 'del\u007f'])(
      'refuses %j',
      (key) => {
        const error = rejection(idempotencyKeySchema, key, 'headers.Idempotency-Key');

        expect(paths(error)).toEqual(['headers.Idempotency-Key']);
      },
    );
  });

  describe('customer PUT', () => {
    it('accepts a full profile', () => {
      const profile = {
        phone: '+12025550143',
        email: 'ana@example.com',
        timezone: 'Europe/London',
        locale: 'en-GB',
        preferences: { channel: 'email', quietHours: { start: '22:00', end: '07:00' } },
      };

      expect(parseWith(putCustomerRequestSchema, profile)).toEqual(profile);
    });

    it('keeps null, which clears a field', () => {
      const clearing = {
        phone: null,
        email: null,
        timezone: null,
        locale: null,
        preferences: { channel: null, quietHours: null },
      };

      expect(parseWith(putCustomerRequestSchema, clearing)).toEqual(clearing);
    });

    it.each(['Mars/Olympus_Mons', 'GMT+25', 'not a zone'])('refuses the time zone %j', (timezone) => {
      const error = rejection(putCustomerRequestSchema, { timezone });

      expect(error.details).toEqual([{ path: 'timezone', message: 'must be an IANA time zone, e.g. Europe/London' }]);
    });

    it.each(['en_GB', 'english!', '12'])('refuses the locale %j', (locale) => {
      const error = rejection(putCustomerRequestSchema, { locale });

      expect(paths(error)).toEqual(['locale']);
    });

    it.each(['24:00', '7:00', '07:60'])('refuses the quiet hour %j', (start) => {
      const error = rejection(putCustomerRequestSchema, { preferences: { quietHours: { start, end: '07:00' } } });

      expect(paths(error)).toEqual(['preferences.quietHours.start']);
    });

    it.each([
      ['timezone', 'Europe/London\u0000', ONE_LINE_MESSAGE],
      ['timezone', 'Europe/London\n', ONE_LINE_MESSAGE],
      ['timezone', 'Europe/\ud83d', WELL_FORMED_MESSAGE],
      ['locale', 'en\nGB', ONE_LINE_MESSAGE],
      ['locale', 'en-\ud83d', WELL_FORMED_MESSAGE],
      ['email', `${'a'.repeat(65)}@example.com`, 'the part before @ must be at most 64 characters (RFC 5321)'],
    ])('refuses %s = %j with one clear detail', (field, value, message) => {
      expect(rejection(putCustomerRequestSchema, { [field]: value }).details).toEqual([{ path: field, message }]);
    });

    it('refuses an unknown field', () => {
      const error = rejection(putCustomerRequestSchema, { nickname: 'Ana' });

      expect(error.details).toContainEqual({ path: '(root)', message: 'unknown field(s): nickname' });
    });
  });

  describe('template PUT', () => {
    it('needs an sms or an email variant', () => {
      expect(paths(rejection(putTemplateRequestSchema, { description: 'empty' }))).toEqual(['(root)']);
      expect(parseWith(putTemplateRequestSchema, { sms: 'Hi {{name}}' })).toEqual({ sms: 'Hi {{name}}' });
    });

    const email = { subject: 'Card {{last4}}', text: 'Hello {{name}}' };

    it.each([
      ['sms', { sms: 'Hi {{name' }, '`{{` at character 4 is never closed with `}}`'],
      ['sms', { sms: 'Hi {{name}' }, '`{{` at character 4 is never closed with `}}`'],
      ['sms', { sms: 'Hi {{}}' }, '`{{}}` at character 4 names no variable'],
      ['sms', { sms: 'Hi {{ }}' }, '`{{ }}` at character 4 names no variable'],
      ['sms', { sms: '{{ a {{name}}' }, '`{{` at character 1 is not closed before the next `{{`'],
      [
        'email.subject',
        { email: { ...email, subject: 'Card {{last4' } },
        '`{{` at character 6 is never closed with `}}`',
      ],
      ['email.text', { email: { ...email, text: 'Hello {{}}' } }, '`{{}}` at character 7 names no variable'],
      [
        'email.html',
        { email: { ...email, html: '<p>{{ bad! }}</p>' } },
        '`{{ bad! }}` at character 4 is not a variable name (1-64 letters, digits and _ . -)',
      ],
      ['email.subject', { email: { ...email, subject: 'Card\n{{last4}}' } }, ONE_LINE_MESSAGE],
      ['sms', { sms: 'Hi \ud83d' }, WELL_FORMED_MESSAGE],
      ['sms', { sms: 'Hi \u0000' }, CONTROL_MESSAGE],
      ['description', { sms: 'Hi', description: 'nul\u0000' }, CONTROL_MESSAGE],
    ])('refuses a template that does not parse or holds bad text, at %s', (path, body, message) => {
      const error = rejection(putTemplateRequestSchema, body);

      expect(error.code).toBe('invalid_request');
      expect(error.details).toEqual([{ path, message }]);
    });

    it.each([
      ['placeholders with spaces and a literal third brace', { sms: 'Hi {{ name }}, code {{{code}}} }} {x}' }],
      ['a full email', { email: { ...email, html: '<p>\n  Hello {{name}}\n</p>' }, description: 'Line 1\nLine 2' }],
      ['no placeholders at all', { sms: 'Thanks! 👍🏽' }],
    ])('accepts %s', (_, body) => {
      expect(parseWith(putTemplateRequestSchema, body)).toEqual(body);
    });
  });

  describe('agent reply, chat frames and callback notes', () => {
    it.each([
      ['hi \u0000', CONTROL_MESSAGE],
      ['cut \ud83d', WELL_FORMED_MESSAGE],
    ])('refuses the reply body %j at body', (body, message) => {
      expect(rejection(replyRequestSchema, { body }).details).toEqual([{ path: 'body', message }]);
    });

    it('accepts a reply on several lines, trimmed', () => {
      expect(parseWith(replyRequestSchema, { body: '  Line 1\nLine 2 😀  ' })).toEqual({
        body: 'Line 1\nLine 2 😀',
        channel: 'auto',
      });
    });

    it.each(['nul \u0000', 'cut \ud83d', 'esc \u001b'])('refuses the chat message %j', (body) => {
      expect(chatFrameSchema.safeParse({ type: 'message', body }).success).toBe(false);
      expect(chatFrameSchema.safeParse({ type: 'message', body: 'fine\nthanks' }).success).toBe(true);
    });

    it('refuses a callback note with a control character, and keeps one on several lines', () => {
      expect(paths(rejection(callbackUpdateSchema, { status: 'completed', note: 'x\u0007' }))).toEqual(['note']);
      expect(parseWith(callbackUpdateSchema, { status: 'completed', note: 'a\nb' }).note).toBe('a\nb');
    });

    it('refuses a conversation cursor on two lines', () => {
      expect(paths(rejection(conversationQuerySchema, { before: 'a\nb' }))).toEqual(['before']);
    });
  });

  describe('inbound SMS payload', () => {
    const payload = {
      originationNumber: '+12025550143',
      destinationNumber: '+12025550100',
      messageKeyword: 'KEYWORD_1',
      messageBody: 'Y',
      inboundMessageId: 'in-1',
      previousPublishedMessageId: 'pub-1',
    };

    it.each(['previousPublishedMessageId', 'messageKeyword'])('reads null in %s as absent', (field) => {
      const parsed = inboundSmsPayloadSchema.safeParse({ ...payload, [field]: null });

      expect(parsed.success).toBe(true);
      expect(parsed.data?.[field as keyof typeof payload]).toBeUndefined();
    });

    it.each(['previousPublishedMessageId', 'messageKeyword'])('still accepts %s left out', (field) => {
      const { [field as keyof typeof payload]: _, ...rest } = payload;

      expect(inboundSmsPayloadSchema.safeParse(rest).success).toBe(true);
    });

    it.each([
      ['STOP\u0000', 'STOP'],
      ['\u0000\u0000', ''],
      ['emoji cut \ud83d', 'emoji cut \ufffd'],
      ['\ude00\ud83d', '\ufffd\ufffd'],
      ['bell\u0007', 'bell'],
      ['Line 1\r\nLine 2\t😀', 'Line 1\r\nLine 2\t😀'],
    ])('keeps the body %j, repaired to %j, instead of dead-lettering it', (messageBody, clean) => {
      const parsed = inboundSmsPayloadSchema.safeParse({ ...payload, messageBody });

      expect(parsed.success).toBe(true);
      expect(parsed.data?.messageBody).toBe(clean);
    });

    it('accepts any body up to 1600 code units and gives well-formed text without controls', () => {
      const unit = fc.oneof(
        fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
        fc.constantFrom('\ud83d', '\u0000', '😀'),
      );
      fc.assert(
        fc.property(fc.string({ unit, maxLength: 200 }), (messageBody) => {
          fc.pre(messageBody.length <= 1600);
          const parsed = inboundSmsPayloadSchema.safeParse({ ...payload, messageBody });
          expect(parsed.success).toBe(true);
          expect(textProblem(parsed.data?.messageBody ?? '')).toBeUndefined();
        }),
      );
    });

    it.each([
      ['originationNumber', '2025550143'],
      ['destinationNumber', null],
      ['messageBody', null],
      ['messageBody', 'x'.repeat(1601)],
      ['inboundMessageId', ''],
      ['inboundMessageId', null],
    ])('still dead-letters %s = %j', (field, value) => {
      expect(inboundSmsPayloadSchema.safeParse({ ...payload, [field]: value }).success).toBe(false);
    });
  });

  describe('conversation query', () => {
    it('reads limit from a query string and defaults it to 50', () => {
      expect(parseWith(conversationQuerySchema, { limit: '20' })).toEqual({ limit: 20 });
      expect(parseWith(conversationQuerySchema, {})).toEqual({ limit: 50 });
    });

    it.each(['0', '101', 'ten', '1.5'])('refuses limit=%s', (limit) => {
      expect(paths(rejection(conversationQuerySchema, { limit }))).toEqual(['limit']);
    });
  });

  describe('parseWith on arbitrary input', () => {
    const schemas = [
      sendMessageRequestSchema,
      putCustomerRequestSchema,
      putTemplateRequestSchema,
      conversationQuerySchema,
      idempotencyKeySchema,
      replyRequestSchema,
      callbackUpdateSchema,
    ];
    const sendKeys = ['customerId', 'to', 'channel', 'template', 'data', 'body', 'urgency', 'category', 'prompt'];

    const onlyInvalidRequest = (input: unknown) => {
      for (const schema of schemas) {
        try {
          parseWith(schema, input);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidRequestError);
          expect((error as InvalidRequestError).details?.length).toBeGreaterThan(0);
        }
      }
    };

    it('never throws anything but InvalidRequestError for any JSON value', () => {
      fc.assert(fc.property(fc.jsonValue(), onlyInvalidRequest), { numRuns: 200 });
    });

    it('never throws anything but InvalidRequestError for any JavaScript value', () => {
      fc.assert(fc.property(fc.anything(), onlyInvalidRequest), { numRuns: 200 });
    });

    it('never throws anything but InvalidRequestError for objects with random keys', () => {
      fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue()), onlyInvalidRequest), { numRuns: 200 });
    });

    it('never throws anything but InvalidRequestError for the known fields holding random values', () => {
      const nearlyValid = fc.record(
        Object.fromEntries(sendKeys.map((key) => [key, fc.oneof(fc.jsonValue(), fc.string())])),
        { requiredKeys: [] },
      );

      fc.assert(fc.property(nearlyValid, onlyInvalidRequest), { numRuns: 300 });
    });
  });
});
