import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { InvalidRequestError } from './errors.ts';

/**
 * Request schemas: one per body. They validate requests, type them (`z.infer`) and generate `/openapi.json`.
 * Objects are strict: an unknown field is an `invalid_request`, not silently dropped.
 *
 * They use `zod/mini` (functions and `.check(...)` rather than methods) to keep each Lambda bundle small. Mini sets
 * no locale, so every message but our own would be `Invalid input`: English is loaded here, alone (`z.locales` would
 * bundle every language), as the default messages (`Too small: expected string to have >=1 characters`) are part of
 * the `invalid_request` details. Metadata (`id`, `description`, `example`) is registered in `z.globalRegistry`, which
 * `toJSONSchema` reads: an `id` lands in the OpenAPI `components.schemas`.
 */
z.config(en());

export const customerIdSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/, 'must be 1-128 characters: letters, digits and . _ : @ + -'))
  .register(z.globalRegistry, { description: "The backend's own customer id.", example: 'cust-42' });

export const templateNameSchema = z
  .string()
  .check(z.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 characters: lower-case letters, digits and . _ -'))
  .register(z.globalRegistry, { example: 'card-transaction-alert' });

export const emailSchema = z.email().check(z.maxLength(254)).register(z.globalRegistry, { example: 'ana@example.com' });

export const smsText = z.string().check(z.minLength(1), z.maxLength(1600));
export const emailContentSchema = z.strictObject({
  subject: z.string().check(z.minLength(1), z.maxLength(998)),
  text: z.string().check(z.minLength(1), z.maxLength(100_000)),
  html: z.optional(z.string().check(z.minLength(1), z.maxLength(200_000))),
});

export const putTemplateRequestSchema = z
  .strictObject({
    description: z.optional(z.string().check(z.maxLength(500))),
    sms: z.optional(smsText),
    email: z.optional(emailContentSchema),
  })
  .check(z.refine((t) => t.sms !== undefined || t.email !== undefined, 'a template needs an sms or an email variant'))
  .register(z.globalRegistry, { id: 'PutTemplateRequest' });

export type PutTemplateRequest = z.infer<typeof putTemplateRequestSchema>;

export const idempotencyKeySchema = z
  .string()
  .check(z.regex(/^[\x20-\x7E]{1,255}$/, 'must be 1-255 printable ASCII characters'));

export const conversationQuerySchema = z.strictObject({
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 50),
  before: z.optional(z.string().check(z.maxLength(512))),
});

/** Parses with a schema, turning zod's issues into Parley's `invalid_request` with one detail per issue. */
export const parseWith = <S extends z.ZodMiniType>(schema: S, input: unknown, pathPrefix = ''): z.output<S> => {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => {
    const path = [pathPrefix, ...issue.path.map(String)].filter(Boolean).join('.');
    return {
      path: path || '(root)',
      message: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
    };
  });
  throw new InvalidRequestError('The request is not valid', details);
};

export const replyRequestSchema = z
  .strictObject({
    body: z.string().check(z.trim(), z.minLength(1), z.maxLength(1600)),
    channel: z._default(z.enum(['auto', 'sms', 'email', 'chat']), 'auto'),
  })
  .register(z.globalRegistry, { id: 'ReplyRequest' });

export const chatSessionRequestSchema = z
  .strictObject({
    /** Also text the link to the customer. */
    sendLink: z._default(z.boolean(), false),
  })
  .register(z.globalRegistry, { id: 'ChatSessionRequest' });

export const callbackUpdateSchema = z
  .strictObject({
    status: z.enum(['completed', 'cancelled']),
    note: z.optional(z.string().check(z.maxLength(2000))),
  })
  .register(z.globalRegistry, { id: 'CallbackUpdate' });

export const callbackQuerySchema = z.strictObject({
  status: z.optional(z.enum(['requested', 'completed', 'cancelled'])),
});

export const conversationsQuerySchema = z.strictObject({
  needs: z._default(z.literal('attention'), 'attention'),
});

/** A frame the chat page sends over the WebSocket. */
export const chatFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('history') }),
  z.object({ type: z.literal('message'), body: z.string().check(z.trim(), z.minLength(1), z.maxLength(2000)) }),
]);

const e164Shape = z.string().check(z.regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number'));

/**
 * The End User Messaging two-way SMS payload (the SNS `Message`). Validated like a request: a malformed one is
 * dead-lettered, never half-processed. The numbers come from the carrier through AWS, so they are checked for
 * E.164 shape only: a numbering-plan check could dead-letter a real customer's STOP from a newly opened range.
 */
export const inboundSmsPayloadSchema = z.object({
  originationNumber: e164Shape,
  destinationNumber: e164Shape,
  messageKeyword: z.optional(z.string().check(z.maxLength(100))),
  messageBody: z.string().check(z.maxLength(1600, 'longer than any SMS (1600 characters)')),
  inboundMessageId: z.string().check(z.minLength(1), z.maxLength(200)),
  previousPublishedMessageId: z.optional(z.string().check(z.maxLength(200))),
});

export type InboundSmsPayload = z.infer<typeof inboundSmsPayloadSchema>;
