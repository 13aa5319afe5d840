import * as z from 'zod';
import { toE164 } from './phone.ts';
import { customerIdSchema, emailContentSchema, emailSchema, smsText, templateNameSchema } from './schemas.ts';

/**
 * The schemas that take phone numbers, apart from the others so that only the functions that read phone numbers
 * (send, customers, inbound SMS) bundle libphonenumber's metadata.
 */

export const phoneSchema = z
  .string()
  .refine((value) => toE164(value) !== undefined, 'must be a valid phone number in E.164 form, e.g. +12025550143')
  .meta({ description: 'E.164 phone number', example: '+12025550143' });

export const channelSchema = z.enum(['sms', 'email']);
export const urgencySchema = z.enum(['critical', 'high', 'normal', 'low']);

const promptSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('confirm'),
    expiresInSeconds: z.int().min(1).max(604_800).default(3600),
  }),
  z.strictObject({
    type: z.literal('choice'),
    options: z
      .array(
        z.strictObject({
          key: z.string().regex(/^[A-Za-z0-9]{1,10}$/, 'must be 1-10 letters or digits'),
          value: z.string().min(1).max(64),
        }),
      )
      .min(1)
      .max(9)
      .refine(
        (options) => new Set(options.map((o) => o.key.toUpperCase())).size === options.length,
        'keys must be unique',
      ),
    expiresInSeconds: z.int().min(1).max(604_800).default(3600),
  }),
]);

const templateDataSchema = z
  .record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), z.union([z.string().max(2000), z.number(), z.boolean()]))
  .refine((data) => Object.keys(data).length <= 100, 'at most 100 variables');

export const sendMessageRequestSchema = z
  .strictObject({
    customerId: customerIdSchema,
    to: z.strictObject({ phone: phoneSchema.optional(), email: emailSchema.optional() }).optional(),
    channel: z.enum(['sms', 'email', 'auto']).default('auto'),
    template: templateNameSchema.optional(),
    data: templateDataSchema.optional(),
    body: z
      .strictObject({ sms: smsText.optional(), email: emailContentSchema.optional() })
      .refine((b) => b.sms !== undefined || b.email !== undefined, 'needs sms or email content')
      .optional(),
    urgency: urgencySchema.default('normal'),
    category: z.enum(['transactional', 'marketing']).default('transactional'),
    prompt: promptSchema.optional(),
    reference: z.string().min(1).max(256).optional(),
  })
  .superRefine((request, ctx) => {
    if ((request.template === undefined) === (request.body === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['template'], message: 'give exactly one of template or body' });
    }
    if (request.body !== undefined && request.data !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['data'], message: 'data is only used with a template' });
    }
  })
  .meta({ id: 'SendMessageRequest' });

export type SendMessageRequest = z.infer<typeof sendMessageRequestSchema>;

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');

const isTimeZone = (value: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
};

const isLocale = (value: string): boolean => {
  try {
    return Intl.getCanonicalLocales(value).length === 1;
  } catch {
    return false;
  }
};

export const customerPreferencesSchema = z.strictObject({
  channel: channelSchema.nullable().optional(),
  quietHours: z.strictObject({ start: hhmm, end: hhmm }).nullable().optional(),
});

export const putCustomerRequestSchema = z
  .strictObject({
    phone: phoneSchema.nullable().optional(),
    email: emailSchema.nullable().optional(),
    timezone: z
      .string()
      .max(64)
      .refine(isTimeZone, 'must be an IANA time zone, e.g. Europe/London')
      .nullable()
      .optional(),
    locale: z.string().max(35).refine(isLocale, 'must be a BCP 47 language tag, e.g. en-GB').nullable().optional(),
    preferences: customerPreferencesSchema.optional(),
  })
  .meta({ id: 'PutCustomerRequest' });

export type PutCustomerRequest = z.infer<typeof putCustomerRequestSchema>;

/**
 * The End User Messaging two-way SMS payload (the SNS `Message`). Validated like a request: a malformed one is
 * dead-lettered, never half-processed.
 */
export const inboundSmsPayloadSchema = z.object({
  originationNumber: phoneSchema,
  destinationNumber: z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number'),
  messageKeyword: z.string().max(100).optional(),
  messageBody: z.string().max(1600, 'longer than any SMS (1600 characters)'),
  inboundMessageId: z.string().min(1).max(200),
  previousPublishedMessageId: z.string().max(200).optional(),
});

export type InboundSmsPayload = z.infer<typeof inboundSmsPayloadSchema>;
