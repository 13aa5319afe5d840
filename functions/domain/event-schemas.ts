import * as z from 'zod/mini';
import { messageIdSchema } from './content-schemas.ts';
import { consentChangeReasons, failureReasons, type ParleyEvent, type ParleyEventType } from './events.ts';

/**
 * The schemas of the event catalogue (./events.ts), one per detail-type: what `validateEvent` checks an event against,
 * and what the OpenAPI `webhooks` section is generated from. Apart from ./events.ts so that only the OpenAPI document
 * and the tests build them; every function that publishes events needs only the catalogue's types.
 */

const isoTime = z.iso.datetime({ offset: true });

export { messageIdSchema };
export const callbackIdSchema = z.string().check(z.regex(/^cb_[0-9A-Z]{26}$/));
export const chatSessionIdSchema = z.string().check(z.regex(/^chat_[0-9A-Z]{26}$/));

/** Where a message was exchanged. */
const messageChannel = z.enum(['sms', 'email', 'chat']);
/** The channels with an address (and consent). */
const addressChannel = z.enum(['sms', 'email']);

/** Every message status a batch can count. */
const messageStatus = z.enum(['scheduled', 'queued', 'sending', 'sent', 'delivered', 'failed', 'unknown', 'cancelled']);

const common = {
  tenantId: z.string().check(z.minLength(1)),
  customerId: z.string().check(z.minLength(1)),
  occurredAt: isoTime,
  messageId: z.optional(messageIdSchema),
  /** The backend's correlation id, echoed from the send. */
  reference: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
};

const detailBase = z.strictObject(common);
const detailOf = <S extends z.core.$ZodLooseShape>(shape: S) => z.extend(detailBase, shape);

/** A lifecycle event of one message: it always names the message and its channel. */
const lifecycleBase = z.extend(detailBase, { messageId: messageIdSchema, channel: messageChannel });
const lifecycleOf = <S extends z.core.$ZodLooseShape>(shape: S) => z.extend(lifecycleBase, shape);

/** What an agent needs before calling back (DESIGN section 8: summaries, not bodies). */
export const callbackContextSchema = z.strictObject({
  recentMessages: z.array(
    z.strictObject({
      direction: z.enum(['outbound', 'inbound']),
      channel: messageChannel,
      body: z.string(),
      createdAt: isoTime,
      reference: z.optional(z.string()),
    }),
  ),
  openPrompts: z.array(
    z.strictObject({
      messageId: z.string(),
      summary: z.string(),
      reference: z.optional(z.string()),
      expiresAt: isoTime,
    }),
  ),
  answeredPrompts: z.array(
    z.strictObject({
      messageId: z.string(),
      answer: z.string(),
      at: isoTime,
      reference: z.optional(z.string()),
    }),
  ),
  references: z.array(z.string()),
});

const promptReply = {
  promptMessageId: messageIdSchema,
  /** The customer's text as received. */
  raw: z.string(),
  channel: addressChannel,
};

export const eventSchemas = {
  'message.scheduled': lifecycleOf({ scheduledFor: isoTime }),
  'message.queued': lifecycleOf({}),
  'message.sent': lifecycleOf({
    providerMessageId: z.optional(z.string()),
    /** A fallback (failover under `auto`): the failed message on the other channel whose content it carries. */
    fallbackFor: z.optional(messageIdSchema),
  }),
  'message.delivered': lifecycleOf({ providerMessageId: z.optional(z.string()) }),
  'message.failed': lifecycleOf({
    reason: z.enum(failureReasons),
    /** Human-readable provider detail (carrier response, bounce diagnostic). */
    description: z.optional(z.string()),
    /** The message on another channel that takes over (failover under `auto`). */
    fallback: z.optional(z.strictObject({ messageId: messageIdSchema, channel: addressChannel })),
  }),
  'message.unknown': lifecycleOf({ description: z.optional(z.string()) }),
  'message.cancelled': lifecycleOf({ previousStatus: z.optional(z.enum(['scheduled', 'queued'])) }),
  'batch.completed': detailOf({
    batchId: z.string().check(z.minLength(1)),
    total: z.int().check(z.minimum(0)),
    counts: z.partialRecord(messageStatus, z.int().check(z.minimum(0))),
  }),
  'prompt.verification_failed': detailOf({
    promptMessageId: messageIdSchema,
    channel: addressChannel,
    reason: z.enum(['wrong_code', 'expired']),
    attempts: z.optional(z.int().check(z.minimum(0))),
  }),
  'message.received': detailOf({ channel: messageChannel, body: z.string() }),
  'prompt.answered': detailOf({
    ...promptReply,
    /** `yes`/`no` for a confirm prompt, the option's value for a choice. */
    answer: z.string(),
    verification: z.optional(z.strictObject({ method: z.literal('code'), verifiedAt: isoTime })),
  }),
  'prompt.expired': detailOf(promptReply),
  'keyword.received': detailOf({ keyword: z.string().check(z.minLength(1)), raw: z.string(), channel: addressChannel }),
  'consent.changed': detailOf({
    channel: addressChannel,
    status: z.enum(['opted_out', 'opted_in', 'suppressed']),
    keyword: z.optional(z.string()),
    reason: z.optional(z.enum(consentChangeReasons)),
  }),
  'callback.requested': detailOf({
    callbackId: callbackIdSchema,
    /** What the customer sent (CALL, CALLBACK, AGENT...), or `api`. */
    keyword: z.string(),
    context: callbackContextSchema,
  }),
  'callback.completed': detailOf({
    callbackId: callbackIdSchema,
    note: z.optional(z.string()),
    context: callbackContextSchema,
  }),
  'chat.started': detailOf({ sessionId: chatSessionIdSchema }),
  'chat.ended': detailOf({ sessionId: chatSessionIdSchema }),
} as const;

export class InvalidEventError extends Error {
  constructor(
    message: string,
    readonly issues: readonly { path: PropertyKey[]; message: string }[] = [],
  ) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

const isEventType = (type: string): type is ParleyEventType => Object.hasOwn(eventSchemas, type);

/** Checks an event against the catalogue: returns it parsed, or throws InvalidEventError naming each issue. */
export const validateEvent = (event: { type: string; detail: unknown }): ParleyEvent => {
  if (!isEventType(event.type)) throw new InvalidEventError(`Unknown event type '${event.type}'`);
  const result = eventSchemas[event.type].safeParse(event.detail);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({
      path: issue.path,
      // Mini loads no locale: name the unknown fields, as the request schemas' details do.
      message: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
    }));
    throw new InvalidEventError(
      `Invalid ${event.type}: ${issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return { type: event.type, detail: result.data } as ParleyEvent;
};
