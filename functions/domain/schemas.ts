import * as z from 'zod';
import { InvalidRequestError } from './errors.ts';

/**
 * Request schemas: one per body. They validate requests, type them (`z.infer`) and generate `/openapi.json`.
 * Objects are strict: an unknown field is an `invalid_request`, not silently dropped.
 */

export const customerIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/, 'must be 1-128 characters: letters, digits and . _ : @ + -')
  .meta({ description: "The backend's own customer id.", example: 'cust-42' });

export const templateNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 characters: lower-case letters, digits and . _ -')
  .meta({ example: 'card-transaction-alert' });

export const emailSchema = z.email().max(254).meta({ example: 'ana@example.com' });

export const smsText = z.string().min(1).max(1600);
export const emailContentSchema = z.strictObject({
  subject: z.string().min(1).max(998),
  text: z.string().min(1).max(100_000),
  html: z.string().min(1).max(200_000).optional(),
});

export const putTemplateRequestSchema = z
  .strictObject({
    description: z.string().max(500).optional(),
    sms: smsText.optional(),
    email: emailContentSchema.optional(),
  })
  .refine((t) => t.sms !== undefined || t.email !== undefined, 'a template needs an sms or an email variant')
  .meta({ id: 'PutTemplateRequest' });

export type PutTemplateRequest = z.infer<typeof putTemplateRequestSchema>;

export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x20-\x7E]{1,255}$/, 'must be 1-255 printable ASCII characters');

export const conversationQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  before: z.string().max(512).optional(),
});

/** Parses with a schema, turning zod's issues into Parley's `invalid_request` with one detail per issue. */
export const parseWith = <S extends z.ZodType>(schema: S, input: unknown, pathPrefix = ''): z.output<S> => {
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
    body: z.string().trim().min(1).max(1600),
    channel: z.enum(['auto', 'sms', 'email', 'chat']).default('auto'),
  })
  .meta({ id: 'ReplyRequest' });

export const chatSessionRequestSchema = z
  .strictObject({
    /** Also text the link to the customer. */
    sendLink: z.boolean().default(false),
  })
  .meta({ id: 'ChatSessionRequest' });

export const callbackUpdateSchema = z
  .strictObject({
    status: z.enum(['completed', 'cancelled']),
    note: z.string().max(2000).optional(),
  })
  .meta({ id: 'CallbackUpdate' });

export const callbackQuerySchema = z.strictObject({
  status: z.enum(['requested', 'completed', 'cancelled']).optional(),
});

export const conversationsQuerySchema = z.strictObject({
  needs: z.literal('attention').default('attention'),
});

/** A frame the chat page sends over the WebSocket. */
export const chatFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('history') }),
  z.object({ type: z.literal('message'), body: z.string().trim().min(1).max(2000) }),
]);
