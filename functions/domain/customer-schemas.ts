import * as z from 'zod/mini';
import { channelSchema, phoneSchema } from './contact-schemas.ts';
import { emailSchema } from './content-schemas.ts';
import { oneLineText, textChecks } from './schemas.ts';

/** The customers function's requests: `PUT /v1/customers/{customerId}` (addresses and profile), the conversation's query. */

const hhmm = z.string().check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)'));

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
  channel: z.optional(z.nullable(channelSchema)),
  quietHours: z.optional(z.nullable(z.strictObject({ start: hhmm, end: hhmm }))),
});

export const putCustomerRequestSchema = z
  .strictObject({
    phone: z.optional(z.nullable(phoneSchema)),
    email: z.optional(z.nullable(emailSchema)),
    timezone: z.optional(
      z.nullable(
        z
          .string()
          .check(
            ...textChecks({ oneLine: true }),
            z.maxLength(64),
            z.refine(isTimeZone, 'must be an IANA time zone, e.g. Europe/London'),
          ),
      ),
    ),
    locale: z.optional(
      z.nullable(
        z
          .string()
          .check(
            ...textChecks({ oneLine: true }),
            z.maxLength(35),
            z.refine(isLocale, 'must be a BCP 47 language tag, e.g. en-GB'),
          ),
      ),
    ),
    preferences: z.optional(customerPreferencesSchema),
  })
  .register(z.globalRegistry, { id: 'PutCustomerRequest' });

export type PutCustomerRequest = z.infer<typeof putCustomerRequestSchema>;

/** The query of `GET /v1/customers/{customerId}/conversation`. */
export const conversationQuerySchema = z.strictObject({
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 50),
  before: z.optional(oneLineText(512, 0)),
});
