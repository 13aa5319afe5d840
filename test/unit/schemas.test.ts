import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { putCustomerRequestSchema, sendMessageRequestSchema } from '../../functions/domain/contact-schemas.ts';
import { InvalidRequestError } from '../../functions/domain/errors.ts';
import {
  conversationQuerySchema,
  idempotencyKeySchema,
  parseWith,
  putTemplateRequestSchema,
} from '../../functions/domain/schemas.ts';

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

    it('prefixes every path when asked', () => {
      const error = rejection(sendMessageRequestSchema, { ...validSend, to: { phone: '1' } }, 'body');

      expect(paths(error)).toEqual(['body.to.phone']);
    });
  });

  describe('idempotency key', () => {
    it.each(['a', 'order-42/retry:1', ' spaced key ', '~'.repeat(255)])('accepts %j', (key) => {
      expect(parseWith(idempotencyKeySchema, key)).toBe(key);
    });

    it.each(['', 'x'.repeat(256), 'tab\there', 'new\nline', 'café', '\u0000'])('refuses %j', (key) => {
      const error = rejection(idempotencyKeySchema, key, 'headers.Idempotency-Key');

      expect(paths(error)).toEqual(['headers.Idempotency-Key']);
    });
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
