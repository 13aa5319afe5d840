import * as z from 'zod/mini';
import { customerIdSchema, multiLineText, oneLineText } from './schemas.ts';

/** What sends and templates carry: a backend's customer id, addresses, template names, message content, idempotency keys. */

/** Prefixes of the ids Parley gives senders it does not know (`sms:+12025550143`): a backend may not use them. */
export const reservedCustomerIdPrefixes = ['sms:', 'email:', 'chat:'] as const;

/**
 * A customer id a backend names in a send (and may create): `customerIdSchema` without the reserved prefixes, so a
 * backend's `sms:+1...` can never be filed with the customer Parley made for an unknown sender. Path parameters keep
 * `customerIdSchema`, so those customers can still be read and answered.
 */
export const backendCustomerIdSchema = customerIdSchema
  .check(
    z.refine(
      (id) => !reservedCustomerIdPrefixes.some((prefix) => id.toLowerCase().startsWith(prefix)),
      'must not start with sms:, email: or chat: (reserved for senders Parley does not know)',
    ),
  )
  .register(z.globalRegistry, { description: "The backend's own customer id.", example: 'cust-42' });

/** A Parley message id (`msg_` and 26 Crockford base32 characters). */
export const messageIdSchema = z.string().check(z.regex(/^msg_[0-9A-Z]{26}$/));

export const templateNameSchema = z
  .string()
  .check(z.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 characters: lower-case letters, digits and . _ -'))
  .register(z.globalRegistry, { example: 'card-transaction-alert' });

export const emailSchema = z
  .email()
  .check(
    z.maxLength(254),
    z.refine((email) => email.lastIndexOf('@') <= 64, 'the part before @ must be at most 64 characters (RFC 5321)'),
  )
  .register(z.globalRegistry, { example: 'ana@example.com' });

export const smsText = multiLineText(1600);
export const emailContentSchema = z.strictObject({
  subject: oneLineText(998),
  text: multiLineText(100_000),
  html: z.optional(multiLineText(200_000)),
});

export const idempotencyKeySchema = z
  .string()
  .check(z.regex(/^[\x20-\x7E]{1,255}$/, 'must be 1-255 printable ASCII characters'));
