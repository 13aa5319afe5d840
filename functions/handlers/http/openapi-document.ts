import * as z from 'zod/mini';
import { phoneSchema, sendMessageRequestSchema } from '../../domain/contact-schemas.ts';
import {
  backendCustomerIdSchema,
  emailContentSchema,
  idempotencyKeySchema,
  templateNameSchema,
} from '../../domain/content-schemas.ts';
import {
  callbackQuerySchema,
  callbackUpdateSchema,
  chatSessionRequestSchema,
  conversationsQuerySchema,
  replyRequestSchema,
} from '../../domain/conversation-schemas.ts';
import { conversationQuerySchema, putCustomerRequestSchema } from '../../domain/customer-schemas.ts';
import { statusByCode } from '../../domain/errors.ts';
import { callbackContextSchema, callbackIdSchema, eventSchemas, messageIdSchema } from '../../domain/event-schemas.ts';
import { eventDescriptions, eventTypes } from '../../domain/events.ts';
import { ignoredReasons } from '../../domain/model.ts';
import { customerIdSchema } from '../../domain/schemas.ts';
import { putTemplateRequestSchema } from '../../domain/template-schemas.ts';
import {
  acknowledgementSchema,
  keywordSchema,
  patchTenantRequestSchema,
  putKeywordRequestSchema,
} from '../../domain/tenant-schemas.ts';
import {
  createWebhookRequestSchema,
  webhookDeliveriesQuerySchema,
  webhookIdSchema,
} from '../../domain/webhook-schemas.ts';
import { httpRoutes, routeKey } from '../../routes.ts';

/**
 * The OpenAPI 3.1 document of the HTTP API, built from the route table, the request schemas that validate the
 * requests, response schemas of what each handler answers, and the event catalogue (the `webhooks` section).
 * `test/integration/openapi-contract.test.ts` checks real responses against it with an independent validator.
 */

// ---- Response bodies: what the handlers answer (strict: a field the document does not name is a drift) ----

const isoTime = z.iso.datetime({ offset: true });
const messageChannel = z.enum(['sms', 'email', 'chat']);
const addressChannel = z.enum(['sms', 'email']);
const messageStatus = z.enum([
  'scheduled',
  'queued',
  'sending',
  'sent',
  'delivered',
  'failed',
  'unknown',
  'cancelled',
  'received',
]);
const promptOptions = z.array(z.strictObject({ key: z.string(), value: z.string() }));
const answerView = z.strictObject({ value: z.string(), raw: z.string(), at: isoTime, messageId: messageIdSchema });

const inboundEffect = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.enum(['opted_out', 'opted_in', 'help', 'chat_requested', 'keyword']),
      keyword: z.string(),
    }),
    z.strictObject({ type: z.literal('callback_requested'), callbackId: callbackIdSchema, keyword: z.string() }),
    z.strictObject({
      type: z.literal('prompt_answered'),
      promptMessageId: messageIdSchema,
      answer: z.string(),
    }),
    z.strictObject({
      type: z.enum(['prompt_expired', 'prompt_already_answered', 'prompt_hint']),
      promptMessageId: messageIdSchema,
    }),
    z.strictObject({ type: z.literal('prompt_question'), candidates: z.array(messageIdSchema) }),
    z.strictObject({
      type: z.literal('prompt_verification'),
      promptMessageId: messageIdSchema,
      step: z.enum(['code_sent', 'wrong_code', 'completed', 'failed', 'ignored']),
    }),
    z.strictObject({ type: z.literal('free_text') }),
    z.strictObject({ type: z.literal('ignored'), reason: z.enum(ignoredReasons) }),
  ])
  .register(z.globalRegistry, { id: 'InboundEffect', description: 'What an inbound message did.' });

const messagePrompt = z.strictObject({
  type: z.enum(['confirm', 'choice']),
  options: z.optional(promptOptions),
  expiresAt: isoTime,
  verify: z.optional(z.literal('code')),
});

/** One step of a step-up verification (DESIGN section 16): never a code, never a full address. */
const auditEntry = z
  .looseObject({
    step: z.enum([
      'answer_received',
      'code_issued',
      'code_sent',
      'try',
      'link_confirmed',
      'completed',
      'failed',
      'cancelled',
    ]),
    at: isoTime,
    channel: z.enum(['sms', 'email']),
    address: z.string(),
  })
  .register(z.globalRegistry, {
    id: 'AuditEntry',
    description:
      "A step of a prompt's step-up verification, oldest first: the answer (raw word, masked address, provider id), " +
      'the code issued and sent, each try (matched, counted), and the outcome.',
  });

const messageResponse = z
  .strictObject({
    messageId: messageIdSchema,
    customerId: customerIdSchema,
    direction: z.enum(['outbound', 'inbound']),
    channel: messageChannel,
    to: z.string(),
    from: z.string(),
    subject: z.optional(z.string()),
    body: z.string(),
    fullText: z.optional(
      z.string().register(z.globalRegistry, {
        description: 'Inbound email: the whole text as received; `body` is the reply without quoted history.',
      }),
    ),
    status: messageStatus,
    statusHistory: z.array(
      z.strictObject({
        status: messageStatus,
        at: isoTime,
        reason: z.optional(z.string()),
        detail: z.optional(
          z.record(z.string(), z.union([z.string(), z.number()])).register(z.globalRegistry, {
            description:
              "A delivery report's provider detail: providerResponse, priceInUsd, mcc, mnc, carrier, smsType, " +
              'messageParts, dwellTimeMs (SMS); bounceType, bounceSubType, diagnosticCode, enhancedStatus, ' +
              'smtpResponse, delayType, complaintFeedbackType (email).',
          }),
        ),
      }),
    ),
    createdAt: isoTime,
    template: z.optional(z.string()),
    urgency: z.optional(z.enum(['critical', 'high', 'normal', 'low'])),
    category: z.optional(z.enum(['transactional', 'marketing'])),
    segments: z.optional(z.int().check(z.minimum(1))),
    encoding: z.optional(z.enum(['GSM-7', 'UCS-2'])),
    reference: z.optional(z.string()),
    prompt: z.optional(messagePrompt),
    failure: z.optional(z.strictObject({ code: z.string(), reason: z.string() })),
    fallbackReason: z.optional(z.string()),
    fallback: z.optional(
      z.strictObject({ messageId: messageIdSchema, channel: addressChannel }).register(z.globalRegistry, {
        description: 'The message that took over on the other channel after this one failed (failover under auto).',
      }),
    ),
    // A fallback: the failed message it stands in for.
    fallbackFor: z.optional(messageIdSchema),
    effect: z.optional(inboundEffect),
    inReplyTo: z.optional(messageIdSchema),
    answer: z.optional(answerView),
    audit: z.optional(z.array(auditEntry)),
  })
  .register(z.globalRegistry, { id: 'Message' });

const sendMessageResponse = z
  .strictObject({
    messageId: messageIdSchema,
    customerId: customerIdSchema,
    channel: addressChannel,
    status: z.enum(['sent', 'queued', 'scheduled', 'unknown']),
    segments: z.optional(z.int().check(z.minimum(1))),
    scheduledFor: z.optional(isoTime),
    fallbackReason: z.optional(z.string()),
  })
  .register(z.globalRegistry, { id: 'SendMessageResponse' });

const consentRecord = z.strictObject({
  status: z.enum(['opted_in', 'opted_out', 'suppressed']),
  at: isoTime,
  keyword: z.optional(z.string()),
  reason: z.optional(z.string()),
});

const customerResponse = z
  .strictObject({
    customerId: customerIdSchema,
    phone: z.optional(z.string()),
    email: z.optional(z.string()),
    timezone: z.optional(z.string()),
    locale: z.optional(z.string()),
    preferences: z.strictObject({
      channel: z.optional(addressChannel),
      quietHours: z.optional(z.strictObject({ start: z.string(), end: z.string() })),
    }),
    consent: z.strictObject({ sms: z.optional(consentRecord), email: z.optional(consentRecord) }),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .register(z.globalRegistry, { id: 'Customer' });

const timelineMessage = z
  .strictObject({
    messageId: messageIdSchema,
    direction: z.enum(['outbound', 'inbound']),
    channel: messageChannel,
    subject: z.optional(z.string()),
    body: z.string(),
    fullText: z.optional(
      z.string().register(z.globalRegistry, {
        description: 'Inbound email: the whole text as received; `body` is the reply without quoted history.',
      }),
    ),
    status: messageStatus,
    createdAt: isoTime,
    reference: z.optional(z.string()),
    prompt: z.optional(messagePrompt),
    answer: z.optional(answerView),
    effect: z.optional(inboundEffect),
  })
  .register(z.globalRegistry, { id: 'TimelineMessage' });

const openPrompt = z.strictObject({
  messageId: messageIdSchema,
  type: z.enum(['confirm', 'choice']),
  options: z.optional(promptOptions),
  expiresAt: isoTime,
  reference: z.optional(z.string()),
  summary: z.string(),
});

const conversationResponse = z
  .strictObject({
    customerId: customerIdSchema,
    activeChannel: z.nullable(messageChannel),
    preferredChannel: z.nullable(addressChannel),
    openPrompts: z.array(openPrompt),
    messages: z.array(timelineMessage),
    nextCursor: z.optional(z.string()),
  })
  .register(z.globalRegistry, { id: 'Conversation' });

const templateResponse = z
  .strictObject({
    name: templateNameSchema,
    description: z.optional(z.string()),
    sms: z.optional(z.string()),
    email: z.optional(emailContentSchema),
    updatedAt: isoTime,
  })
  .register(z.globalRegistry, { id: 'Template' });

const replyResponse = z
  .strictObject({
    messageId: messageIdSchema,
    customerId: customerIdSchema,
    channel: messageChannel,
    status: messageStatus,
  })
  .register(z.globalRegistry, { id: 'ReplyResponse' });

const chatSessionResponse = z
  .strictObject({
    sessionId: z.string(),
    url: z.url(),
    expiresAt: isoTime,
    linkMessageId: z.optional(messageIdSchema),
  })
  .register(z.globalRegistry, { id: 'ChatSession' });

const conversationsResponse = z
  .strictObject({
    conversations: z.array(
      z.strictObject({
        customerId: customerIdSchema,
        since: isoTime,
        lastMessageAt: isoTime,
        reasons: z.array(z.enum(['callback', 'chat', 'free_text'])),
        summary: z.optional(z.string()),
        callbackId: z.optional(callbackIdSchema),
      }),
    ),
    /** Present when there is a next page: pass it back as `cursor`. */
    nextCursor: z.optional(z.string()),
  })
  .register(z.globalRegistry, { id: 'ConversationList' });

const callbackResponse = z
  .strictObject({
    callbackId: callbackIdSchema,
    tenantId: z.string(),
    customerId: customerIdSchema,
    status: z.enum(['requested', 'completed', 'cancelled']),
    requestedAt: isoTime,
    keyword: z.string(),
    phone: z.optional(z.string()),
    context: callbackContextSchema,
    note: z.optional(z.string()),
    closedAt: z.optional(isoTime),
  })
  .register(z.globalRegistry, { id: 'Callback' });

// ---- Errors ----

const errorDescriptions: Record<number, string> = {
  400: 'The request is not valid (schema, E.164, unknown field); `details` names each problem.',
  401: 'No valid API key.',
  403: "The API key lacks the route's scope.",
  404: "Not found (another tenant's id is not found either).",
  409: 'The same Idempotency-Key came with a different payload.',
  413: 'The body is too large.',
  422: 'The request is well-formed but cannot be carried out.',
  429: 'Too many requests, or the same send still in progress: retry after `Retry-After` seconds when given.',
  500: 'Internal error (nothing internal is shown).',
  503: 'The messaging provider is unavailable; the idempotency claim is released, so a retry can go through.',
};

/**
 * On AWS, API Gateway answers some refusals itself, before Parley runs, with its own body: a missing
 * Authorization header (401), a refused key (403), stage throttling (429) and a body over 10 MB (413).
 */
const gatewayAnswered = new Set([401, 403, 413, 429]);

const errorEnvelope = {
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: {
          type: 'array',
          items: {
            type: 'object',
            required: ['path', 'message'],
            additionalProperties: false,
            properties: { path: { type: 'string' }, message: { type: 'string' } },
          },
        },
      },
    },
  },
};

const errorResponseName = (status: number) => `Error${status}`;

const errorStatuses = [...new Set(Object.values(statusByCode))].sort((a, b) => a - b);

/** The error envelope of one status, its `code` narrowed to the codes of that status. */
const errorResponse = (status: number, headers: Record<string, unknown> = {}) => {
  const codes = Object.entries(statusByCode)
    .filter(([, s]) => s === status)
    .map(([code]) => code);
  const parleyError = {
    allOf: [
      { $ref: '#/components/schemas/Error' },
      { properties: { error: { properties: { code: codes.length === 1 ? { const: codes[0] } : { enum: codes } } } } },
    ],
  };
  const allHeaders = {
    ...((status === 429 || status === 503) && {
      'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'string', pattern: '^\\d+$' } },
    }),
    ...headers,
  };
  return {
    description: errorDescriptions[status] ?? 'Error',
    ...(Object.keys(allHeaders).length > 0 && { headers: allHeaders }),
    content: {
      'application/json': {
        schema: gatewayAnswered.has(status)
          ? { anyOf: [parleyError, { $ref: '#/components/schemas/GatewayError' }] }
          : parleyError,
      },
    },
  };
};

// ---- Operations ----

/** A success answer: a JSON body (`schema`), an HTML page (`html`), or either, by the request's `Accept`. */
type Success =
  | { status: number; description: string; schema: z.ZodMiniType; headers?: Record<string, unknown>; html?: true }
  | { status: number; description: string; html: true };

interface Operation {
  summary: string;
  description?: string;
  request?: z.ZodMiniType;
  /** An optional form-encoded body (`application/x-www-form-urlencoded`), instead of a JSON `request`. */
  form?: z.ZodMiniType;
  query?: z.ZodMiniObject;
  headers?: { name: string; description: string; schema: z.ZodMiniType }[];
  success: Success[];
  /** Error statuses beyond the ones every route can answer (429, 500) and a protected route's (401, 403). */
  errors: number[];
}

const replayedHeader = {
  'Idempotent-Replayed': {
    description: 'Present, `true`, when this is the stored answer to an earlier request with the same key.',
    schema: { type: 'string', const: 'true' },
  },
};

const idempotencyKeyHeader = {
  name: 'Idempotency-Key',
  description: '1-255 printable characters; a replay answers the first response, kept at least 24 h.',
  schema: idempotencyKeySchema,
};

const pathParameters: Record<string, z.ZodMiniType> = {
  customerId: customerIdSchema,
  messageId: messageIdSchema,
  name: templateNameSchema,
  callbackId: callbackIdSchema,
  keyword: keywordSchema,
  webhookId: webhookIdSchema,
  token: z.string().check(z.minLength(1), z.maxLength(256)).register(z.globalRegistry, {
    description:
      'The signed token from the link in the email: its `List-Unsubscribe` header or link, or its step-up link.',
  }),
};

const deletedTemplateResponse = z
  .strictObject({ name: templateNameSchema, deleted: z.literal(true) })
  .register(z.globalRegistry, { id: 'DeletedTemplate' });

const keywordName = z.string().check(z.regex(/^[A-Z0-9]{1,20}$/));

const keywordResponse = z
  .strictObject({
    keyword: keywordName,
    autoReplyTemplate: z.optional(templateNameSchema),
    emitEvent: z.boolean(),
  })
  .register(z.globalRegistry, { id: 'Keyword' });

const deletedKeywordResponse = z
  .strictObject({ keyword: keywordName, deleted: z.literal(true) })
  .register(z.globalRegistry, { id: 'DeletedKeyword' });

const tenantSettingsResponse = z
  .strictObject({
    tenantId: z.string(),
    name: z.string(),
    smsNumber: z.string(),
    emailFrom: z.optional(z.string()),
    helpText: z.optional(z.string()),
    brandName: z.optional(z.string()),
    acknowledgement: z.optional(acknowledgementSchema),
  })
  .register(z.globalRegistry, {
    id: 'TenantSettings',
    description:
      'A field left out is unset: HELP then answers a default naming the brand (`brandName`, else `name`) and a contact.',
  });
const webhookEventType = z.enum(eventTypes as [string, ...string[]]);

const webhookResponse = z
  .strictObject({
    webhookId: webhookIdSchema,
    url: z.string(),
    events: z.array(webhookEventType),
    status: z.enum(['enabled', 'disabled']),
    disabledReason: z.optional(z.string()),
    createdAt: isoTime,
    previousSecretRetiresAt: z.optional(isoTime),
  })
  .register(z.globalRegistry, { id: 'Webhook' });

const webhookWithSecretResponse = z
  .strictObject({
    ...webhookResponse.shape,
    secret: z
      .string()
      .check(z.regex(/^whsec_[A-Za-z0-9+/]+=*$/))
      .register(z.globalRegistry, {
        description: 'The signing secret, shown in this answer only (Standard Webhooks `whsec_<base64>`).',
      }),
  })
  .register(z.globalRegistry, { id: 'WebhookWithSecret' });

const webhookAttemptResponse = z
  .strictObject({
    deliveryId: z.string().register(z.globalRegistry, { description: 'The `webhook-id` header of the delivery.' }),
    eventType: webhookEventType,
    attempt: z.number().check(z.int(), z.minimum(1)),
    attemptedAt: isoTime,
    durationMs: z.number().check(z.int(), z.minimum(0)),
    outcome: z.enum(['delivered', 'retrying', 'failed']),
    statusCode: z.optional(z.number().check(z.int())),
    error: z.optional(z.string()),
    nextAttemptAt: z.optional(isoTime),
  })
  .register(z.globalRegistry, { id: 'WebhookAttempt' });

const unsubscribeResponse = z
  .strictObject({ channel: z.literal('email'), status: z.literal('opted_out') })
  .register(z.globalRegistry, { id: 'UnsubscribeResponse' });

const json = (status: number, description: string, schema: z.ZodMiniType, headers?: Record<string, unknown>) => ({
  status,
  description,
  schema,
  ...(headers && { headers }),
});

const operations: Record<string, Operation> = {
  'POST /v1/messages': {
    summary: 'Send a templated or literal SMS or email (idempotent with Idempotency-Key)',
    description:
      'Give exactly one of `template` or `body`; `data` goes with a template. A replay with the same key and payload ' +
      'answers the first response again, with `Idempotent-Replayed: true`, and sends nothing.',
    request: sendMessageRequestSchema,
    headers: [idempotencyKeyHeader],
    success: [json(202, 'Accepted: sent, queued, scheduled or unknown', sendMessageResponse, replayedHeader)],
    errors: [400, 404, 409, 413, 422, 503],
  },
  'GET /v1/messages/{messageId}': {
    summary: 'A message with its status history, prompt and reference',
    success: [json(200, 'The message', messageResponse)],
    errors: [404],
  },
  'GET /v1/customers/{customerId}': {
    summary: 'A customer profile with consent per channel',
    success: [json(200, 'The customer', customerResponse)],
    errors: [400, 404],
  },
  'PUT /v1/customers/{customerId}': {
    summary: 'Create or update a customer profile',
    request: putCustomerRequestSchema,
    success: [json(200, 'Updated', customerResponse), json(201, 'Created', customerResponse)],
    errors: [400, 413],
  },
  'GET /v1/customers/{customerId}/conversation': {
    summary: 'The cross-channel timeline, newest first',
    query: conversationQuerySchema,
    success: [json(200, 'The conversation', conversationResponse)],
    errors: [400, 404],
  },
  'GET /v1/templates': {
    summary: "The tenant's templates",
    success: [json(200, 'The templates', z.strictObject({ templates: z.array(templateResponse) }))],
    errors: [],
  },
  'GET /v1/templates/{name}': {
    summary: 'One template',
    success: [json(200, 'The template', templateResponse)],
    errors: [400, 404],
  },
  'DELETE /v1/templates/{name}': {
    summary: 'Delete a template',
    description:
      'Sends naming it afterwards answer 422 `unknown_template` (at once in the process that deleted it, ' +
      'as locally); another Lambda container that read it in the last `PARLEY_CACHE_TTL_MS` (60 s) may still ' +
      'use its cached copy until then.',
    success: [json(200, 'Deleted', deletedTemplateResponse)],
    errors: [400, 404],
  },
  'PUT /v1/templates/{name}': {
    summary: 'Create or replace a template',
    request: putTemplateRequestSchema,
    success: [json(200, 'Replaced', templateResponse), json(201, 'Created', templateResponse)],
    errors: [400, 413],
  },
  'GET /v1/tenant': {
    summary: "The tenant's settings: HELP text, brand name, acknowledgement",
    success: [json(200, 'The settings', tenantSettingsResponse)],
    errors: [404],
  },
  'PATCH /v1/tenant': {
    summary: "Change the tenant's settings (merge: a field given sets it, null clears it)",
    description:
      'The next HELP answered by this process uses the new text at once; other Lambda containers within ' +
      '`PARLEY_CACHE_TTL_MS` (60 s), when their cached copy of the tenant expires.',
    request: patchTenantRequestSchema,
    success: [json(200, 'The settings after the change', tenantSettingsResponse)],
    errors: [400, 404, 413],
  },
  'GET /v1/keywords': {
    summary: "The tenant's keywords (rule 7 of the inbound rules), by name",
    success: [json(200, 'The keywords', z.strictObject({ keywords: z.array(keywordResponse) }))],
    errors: [404],
  },
  'GET /v1/keywords/{keyword}': {
    summary: 'One keyword',
    success: [json(200, 'The keyword', keywordResponse)],
    errors: [400, 404],
  },
  'PUT /v1/keywords/{keyword}': {
    summary: 'Create or replace a keyword',
    description:
      "The name is stored upper-case (a customer's text matches in any case). Words the inbound rules read first " +
      '(STOP and its family, START, UNSTOP, HELP, INFO, CALL, CALLBACK, CHAT, AGENT, HUMAN, Y, YES, N, NO) are ' +
      "refused with 400, naming why; so is an `autoReplyTemplate` that is not one of the tenant's templates with " +
      'an SMS variant. A tenant has at most 100 keywords.',
    request: putKeywordRequestSchema,
    success: [json(200, 'Replaced', keywordResponse), json(201, 'Created', keywordResponse)],
    errors: [400, 404, 413],
  },
  'DELETE /v1/keywords/{keyword}': {
    summary: 'Delete a keyword: the word is then free text again',
    success: [json(200, 'Deleted', deletedKeywordResponse)],
    errors: [400, 404],
  },
  'POST /v1/customers/{customerId}/messages': {
    summary: 'Reply to a customer on the channel they are on now (connected chat, else their last inbound channel)',
    description:
      'With `Idempotency-Key`, a retry or a second click answers the first reply again, with ' +
      '`Idempotent-Replayed: true`, and sends nothing; the same key with another body is 409.',
    request: replyRequestSchema,
    headers: [idempotencyKeyHeader],
    success: [json(202, 'Accepted', replyResponse, replayedHeader)],
    errors: [400, 404, 409, 413, 422, 503],
  },
  'POST /v1/customers/{customerId}/chat-sessions': {
    summary: 'Start a chat: a signed, expiring link (optionally texted)',
    request: chatSessionRequestSchema,
    success: [json(201, 'The new chat session', chatSessionResponse)],
    errors: [400, 404, 413, 422, 503],
  },
  'GET /v1/conversations': {
    summary: 'Conversations needing attention: open callbacks, active chats, unanswered free text',
    query: conversationsQuerySchema,
    success: [json(200, 'Most recent first', conversationsResponse)],
    errors: [400],
  },
  'GET /v1/callbacks': {
    summary: 'The callback queue, newest first, by status',
    query: callbackQuerySchema,
    success: [
      json(
        200,
        'The callbacks',
        z.strictObject({ callbacks: z.array(callbackResponse), nextCursor: z.optional(z.string()) }),
      ),
    ],
    errors: [400],
  },
  'PATCH /v1/callbacks/{callbackId}': {
    summary: 'Complete or cancel a callback',
    description:
      'The same close again answers 200 and finishes what a failed attempt left (attention, event); closing a callback already closed otherwise is refused with 422 `not_cancellable`.',
    request: callbackUpdateSchema,
    success: [json(200, 'The closed callback', callbackResponse)],
    errors: [400, 404, 413, 422],
  },
  'POST /v1/webhooks': {
    summary: 'Register a webhook endpoint for some event types; its signing secret is in this answer only',
    description:
      'HTTPS only; a URL whose host is, or resolves to, a private, loopback, link-local, unique-local or other ' +
      'internal address is refused with 400 (checked again before every delivery). Each event is POSTed as ' +
      '`{"type", "timestamp", "data"}`, signed as Standard Webhooks says (see `webhooks`).',
    request: createWebhookRequestSchema,
    success: [json(201, 'Registered', webhookWithSecretResponse)],
    errors: [400, 413],
  },
  'GET /v1/webhooks': {
    summary: "The tenant's webhook endpoints (never their secrets)",
    success: [json(200, 'The endpoints', z.strictObject({ webhooks: z.array(webhookResponse) }))],
    errors: [],
  },
  'GET /v1/webhooks/{webhookId}': {
    summary: 'One webhook endpoint',
    success: [json(200, 'The endpoint', webhookResponse)],
    errors: [404],
  },
  'DELETE /v1/webhooks/{webhookId}': {
    summary: 'Delete a webhook endpoint: nothing more is sent to it, deliveries under way included',
    success: [json(200, 'Deleted', z.strictObject({ webhookId: webhookIdSchema, deleted: z.literal(true) }))],
    errors: [404],
  },
  'POST /v1/webhooks/{webhookId}/rotate-secret': {
    summary: 'A new signing secret, in this answer only; the previous one keeps signing beside it for 24 hours',
    success: [json(200, 'Rotated', webhookWithSecretResponse)],
    errors: [404, 429],
  },
  'GET /v1/webhooks/{webhookId}/deliveries': {
    summary: 'Every delivery attempt to the endpoint, newest first, paged (kept 30 days)',
    query: webhookDeliveriesQuerySchema,
    success: [
      json(
        200,
        'The attempts',
        z.strictObject({ deliveries: z.array(webhookAttemptResponse), nextCursor: z.optional(z.string()) }),
      ),
    ],
    errors: [400, 404],
  },
  'GET /openapi.json': {
    summary: 'This document',
    success: [
      json(
        200,
        'The OpenAPI 3.1 document',
        z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) }),
      ),
    ],
    errors: [],
  },
  'GET /chat': {
    summary: 'The customer chat page (token in the URL fragment)',
    success: [{ status: 200, description: 'The page', html: true }],
    errors: [],
  },
  'GET /agent': {
    summary: 'The agent console',
    success: [{ status: 200, description: 'The page', html: true }],
    errors: [],
  },
  'GET /v1/unsubscribe/{token}': {
    summary: "An email's unsubscribe link: a page whose button unsubscribes (opening it changes nothing)",
    description:
      'Public: the signed token is the authority. Mail scanners open links, so only the POST the button makes ' +
      'unsubscribes. A token that is not genuine is 404.',
    success: [{ status: 200, description: 'The page', html: true }],
    errors: [404],
  },
  'POST /v1/unsubscribe/{token}': {
    summary: 'One-click unsubscribe (RFC 8058): opts the address out of email for the tenant',
    description:
      'Public: the signed token is the authority. Mail clients post `List-Unsubscribe=One-Click` ' +
      '(form-encoded). The address is opted out of email for every customer of the tenant it belongs to, with ' +
      '`consent.changed` (channel email, reason unsubscribe); an address already opted out changes nothing and ' +
      'emits nothing. A browser (`Accept: text/html`) gets a page, anyone else JSON. A token that is not genuine ' +
      'is 404, nothing changed.',
    form: z.strictObject({ 'List-Unsubscribe': z.literal('One-Click') }),
    success: [{ status: 200, description: 'Opted out', schema: unsubscribeResponse, html: true }],
    errors: [404, 413],
  },
  'GET /v1/confirm/{token}': {
    summary: "A step-up email's confirmation link: a page saying what is confirmed, with a button",
    description:
      'Public: the signed, expiring token is the authority. Opening it confirms nothing (mail scanners open links); ' +
      'a token that is not genuine, has expired, or whose verification has ended is 404.',
    success: [{ status: 200, description: 'The page', html: true }],
    errors: [404],
  },
  'POST /v1/confirm/{token}': {
    summary: "The confirmation page's button: completes the pending answer, as the right code would",
    description:
      'Public: the signed, expiring token is the authority. Completes the answer once (`prompt.answered` with ' +
      '`verification`); a second POST answers the same page and changes nothing. Not genuine, expired or ended: 404.',
    success: [{ status: 200, description: 'Confirmed', html: true }],
    errors: [404, 413],
  },
};

// ---- JSON Schema from zod ----

/** The inner object of an optional member of a send, to state its refinements. */
const sendMember = (name: 'body' | 'to') =>
  (sendMessageRequestSchema.shape[name] as unknown as { def: { innerType: z.ZodMiniType } }).def.innerType;

const needsOneOf = (...fields: string[]) => ({ anyOf: fields.map((field) => ({ required: [field] })) });

/**
 * The rules the server enforces with refinements, which zod cannot turn into JSON Schema by itself: said here, on
 * the same schema objects, so the document states what a request must be.
 */
const refinements = new Map<z.ZodMiniType, Record<string, unknown>>([
  [phoneSchema, { pattern: '^\\+[1-9]\\d{6,14}$' }],
  [
    sendMessageRequestSchema,
    {
      oneOf: [{ required: ['template'] }, { required: ['body'] }],
      dependentRequired: { data: ['template'] },
    },
  ],
  [sendMember('body'), needsOneOf('sms', 'email')],
  [sendMember('to'), needsOneOf('phone', 'email')],
  [backendCustomerIdSchema, { not: { pattern: '^([sS][mM][sS]|[eE][mM][aA][iI][lL]|[cC][hH][aA][tT]):' } }],
  [putTemplateRequestSchema, needsOneOf('sms', 'email')],
]);

type Converted = Record<string, unknown>;

/** Converts schemas to JSON Schema, collecting named ones (an `id` in `z.globalRegistry`) into components. */
const converter = () => {
  const components: Record<string, unknown> = {};
  const convert = (schema: z.ZodMiniType, io: 'input' | 'output'): Converted => {
    const converted = z.toJSONSchema(schema, {
      io,
      unrepresentable: 'any',
      override: (ctx) => {
        const extra = refinements.get(ctx.zodSchema as unknown as z.ZodMiniType);
        if (extra) Object.assign(ctx.jsonSchema, extra);
      },
    }) as Converted;
    const { $schema, $defs, ...rest } = JSON.parse(
      JSON.stringify(converted).replaceAll('"#/$defs/', '"#/components/schemas/'),
    ) as Converted;
    Object.assign(components, $defs);
    return rest;
  };
  return { convert, components };
};

const webhookHeaders = [
  { name: 'webhook-id', description: 'The message id, the same on every retry' },
  { name: 'webhook-timestamp', description: 'Seconds since the epoch' },
  { name: 'webhook-signature', description: '`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, space-separated' },
].map((header) => ({ ...header, in: 'header', required: true, schema: { type: 'string' } }));

const pascal = (type: string) => type.replace(/(^|[._])(\w)/g, (_, _sep: string, c: string) => c.toUpperCase());

/** The OpenAPI 3.1 document. `serverUrl` defaults to `/`: the API that serves the document. */
export const buildOpenApiDocument = (serverUrl = '/') => {
  const { convert, components } = converter();
  const paths: Record<string, Record<string, unknown>> = {};

  for (const route of httpRoutes) {
    const key = routeKey(route);
    const operation = operations[key];
    if (!operation) throw new Error(`No OpenAPI operation for ${key}`);

    const parameters: unknown[] = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name = '']) => {
      const schema = pathParameters[name];
      if (!schema) throw new Error(`No schema for the path parameter ${name} of ${key}`);
      return { name, in: 'path', required: true, schema: convert(schema, 'input') };
    });
    for (const [name, schema] of Object.entries(operation.query?.shape ?? {})) {
      parameters.push({ name, in: 'query', required: false, schema: convert(schema as z.ZodMiniType, 'input') });
    }
    for (const header of operation.headers ?? []) {
      parameters.push({
        name: header.name,
        in: 'header',
        required: false,
        description: header.description,
        schema: convert(header.schema, 'input'),
      });
    }

    const responses: Record<string, unknown> = {};
    for (const success of operation.success) {
      responses[String(success.status)] = {
        description: success.description,
        ...('headers' in success && success.headers && { headers: success.headers }),
        content: {
          ...('schema' in success && { 'application/json': { schema: convert(success.schema, 'output') } }),
          ...(success.html && { 'text/html': { schema: { type: 'string' } } }),
        },
      };
    }
    const errors = new Set([...operation.errors, ...(route.scope === null ? [] : [401, 403]), 429, 500]);
    for (const status of [...errors].sort((a, b) => a - b)) {
      // A replay answers a stored refusal again, with the same header as a stored success.
      responses[String(status)] =
        key === 'POST /v1/messages' && status === 422
          ? errorResponse(status, replayedHeader)
          : { $ref: `#/components/responses/${errorResponseName(status)}` };
    }

    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = {
      summary: operation.summary,
      ...(operation.description && { description: operation.description }),
      operationId: `${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      ...(route.scope === null ? { security: [] } : { 'x-parley-scope': route.scope }),
      ...(parameters.length > 0 && { parameters }),
      ...(operation.request && {
        requestBody: {
          required: true,
          content: { 'application/json': { schema: convert(operation.request, 'input') } },
        },
      }),
      ...(operation.form && {
        requestBody: {
          required: false,
          content: { 'application/x-www-form-urlencoded': { schema: convert(operation.form, 'input') } },
        },
      }),
      responses,
    };
  }

  const eventComponents: Record<string, unknown> = {};
  const webhooks: Record<string, unknown> = {};
  for (const type of eventTypes) {
    const name = `${pascal(type)}Event`;
    eventComponents[name] = { description: eventDescriptions[type], ...convert(eventSchemas[type], 'output') };
    webhooks[type] = {
      post: {
        summary: eventDescriptions[type],
        description:
          `On EventBridge: \`source: "parley"\`, detail-type \`${type}\`, this \`data\` as the detail. To a webhook: ` +
          'this body, signed as Standard Webhooks says.',
        operationId: `webhook${pascal(type)}`,
        parameters: webhookHeaders,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['type', 'timestamp', 'data'],
                additionalProperties: false,
                properties: {
                  type: { type: 'string', const: type },
                  timestamp: { type: 'string', format: 'date-time' },
                  data: { $ref: `#/components/schemas/${name}` },
                },
              },
            },
          },
        },
        responses: { '2XX': { description: 'Received; any other answer, or none within 5 s, is retried' } },
      },
    };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Parley HTTP API',
      version: '1.0.0',
      description: 'Two-way transactional messaging: send, conversations, customers and templates.',
    },
    servers: [{ url: serverUrl }],
    security: [{ apiKey: [] }],
    paths,
    webhooks,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'Parley API key (prl_...)' },
      },
      responses: Object.fromEntries(errorStatuses.map((status) => [errorResponseName(status), errorResponse(status)])),
      schemas: {
        ...components,
        ...eventComponents,
        Error: errorEnvelope,
        GatewayError: {
          type: 'object',
          description: "API Gateway's own answer, on AWS, to a refusal made before Parley runs",
          required: ['message'],
          properties: { message: { type: 'string' } },
        },
      } as Record<string, unknown>,
    },
  };
};
