import * as z from 'zod/mini';

/**
 * The catalogue of the events Parley emits (DESIGN section 6): one schema per detail-type, written once. The code
 * builds events with `parleyEvent`, typed by these schemas; the OpenAPI `webhooks` section and the webhook bodies
 * are generated from them. Objects are strict, so a field the catalogue does not name is a drift a test catches.
 *
 * Events go out on EventBridge with `source: "parley"` and the type as detail-type; webhooks carry the same detail
 * as `data`.
 */

const isoTime = z.iso.datetime({ offset: true });

export const messageIdSchema = z.string().check(z.regex(/^msg_[0-9A-Z]{26}$/));
export const callbackIdSchema = z.string().check(z.regex(/^cb_[0-9A-Z]{26}$/));
export const chatSessionIdSchema = z.string().check(z.regex(/^chat_[0-9A-Z]{26}$/));

/** Where a message was exchanged. */
const messageChannel = z.enum(['sms', 'email', 'chat']);
/** The channels with an address (and consent). */
const addressChannel = z.enum(['sms', 'email']);

/** Why a message failed, as `message.failed` reports it: provider outcomes sorted into one list. */
export const failureReasons = [
  'carrier_unreachable',
  'phone_unreachable',
  'blocked',
  'invalid_number',
  'opted_out',
  'suppressed',
  'max_price_exceeded',
  'ttl_expired',
  'bounce',
  'complaint',
  'rejected',
  'rendering_failed',
  'provider_rejected',
  'message_too_long',
  'no_reachable_channel',
  'unknown_template',
  'unknown_error',
] as const;
export type FailureReason = (typeof failureReasons)[number];

/** Why consent changed when no keyword says it (email: List-Unsubscribe, a complaint, a permanent bounce). */
export const consentChangeReasons = ['unsubscribe', 'complaint', 'bounce'] as const;

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
  'message.sent': lifecycleOf({ providerMessageId: z.optional(z.string()) }),
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

export type ParleyEventType = keyof typeof eventSchemas;
export type ParleyEventDetail<T extends ParleyEventType> = z.output<(typeof eventSchemas)[T]>;
export interface ParleyEventOf<T extends ParleyEventType> {
  type: T;
  detail: ParleyEventDetail<T>;
}
/** Any event of the catalogue, discriminated by `type`. */
export type ParleyEvent = { [T in ParleyEventType]: ParleyEventOf<T> }[ParleyEventType];

export const eventTypes = Object.keys(eventSchemas) as ParleyEventType[];

/** When each event is emitted, for the OpenAPI `webhooks` section. */
export const eventDescriptions: Record<ParleyEventType, string> = {
  'message.scheduled': 'A message was accepted for later: quiet hours or `sendAt` (`scheduledFor`).',
  'message.queued': "A message waits for the SMS number's pace.",
  'message.sent': 'The provider took the message.',
  'message.delivered': 'The provider reported the message delivered.',
  'message.failed': 'The message failed for good; `fallback` names the message that takes over on another channel.',
  'message.unknown': 'The provider may or may not have taken the message; Parley will not resend it by itself.',
  'message.cancelled': 'A scheduled or queued message was cancelled.',
  'batch.completed': 'Every message of a batch reached a final or `sent` status.',
  'prompt.verification_failed': 'A step-up code was wrong too often, or expired: nothing was approved.',
  'message.received': 'Inbound free text on any channel (not a keyword, not a prompt answer).',
  'prompt.answered': 'A customer answered a prompt.',
  'prompt.expired': 'A reply came after its prompt expired (the customer is told).',
  'keyword.received': 'A tenant keyword such as BAL.',
  'consent.changed': "An address's consent changed (opt-out, opt-in, suppression).",
  'callback.requested': 'A customer asked for a callback, with the context an agent needs.',
  'callback.completed': 'An agent completed a callback.',
  'chat.started': 'A customer opened a chat.',
  'chat.ended': 'A chat connection closed.',
};

/**
 * Builds an event of the catalogue, checked at compile time against its type's schema. Nothing is validated at
 * run time: the types already hold it, and this sits on the send path (tests use `validateEvent`).
 */
export const parleyEvent = <T extends ParleyEventType>(type: T, detail: ParleyEventDetail<T>): ParleyEventOf<T> => ({
  type,
  detail,
});

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
