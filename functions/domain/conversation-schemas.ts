import * as z from 'zod/mini';
import { multiLineText, oneLineText, textChecks } from './schemas.ts';

/**
 * The requests of the conversation and callback routes: an agent's reply, a chat session, the callback queue and the
 * conversations needing attention.
 */

export const replyRequestSchema = z
  .strictObject({
    body: z.string().check(z.trim(), ...textChecks(), z.minLength(1), z.maxLength(1600)),
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
    note: z.optional(multiLineText(2000, 0)),
  })
  .register(z.globalRegistry, { id: 'CallbackUpdate' });

/** The paging of the lists that grow with time (callbacks, attention): a page size and the `nextCursor` handed out. */
const pageQuery = {
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 50),
  cursor: z.optional(oneLineText(1024)),
};

export const callbackQuerySchema = z.strictObject({
  status: z.optional(z.enum(['requested', 'completed', 'cancelled'])),
  ...pageQuery,
});

export const conversationsQuerySchema = z.strictObject({
  needs: z._default(z.literal('attention'), 'attention'),
  ...pageQuery,
});
