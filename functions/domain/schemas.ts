import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { InvalidRequestError } from './errors.ts';
import { templateSyntaxProblem } from './templates.ts';
import {
  CONTROL_MESSAGE,
  hasControlCharacters,
  isWellFormedText,
  ONE_LINE_MESSAGE,
  sanitiseInboundText,
  type TextOptions,
  WELL_FORMED_MESSAGE,
} from './text.ts';

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

/**
 * The checks every text a request carries gets (DESIGN.md section 10): well-formed Unicode, no NUL or other control
 * characters (TAB, LF and CR are allowed unless `oneLine`). Each aborts, so a field gets one clear message, not a
 * cascade. Refinements, so the OpenAPI document is unchanged. Spread into `.check(...)` of any string schema.
 */
export const textChecks = (options: TextOptions = {}) => [
  z.refine<string>(isWellFormedText, { error: WELL_FORMED_MESSAGE, abort: true }),
  z.refine<string>((text) => !hasControlCharacters(text, options), {
    error: options.oneLine ? ONE_LINE_MESSAGE : CONTROL_MESSAGE,
    abort: true,
  }),
];

/** Text that may span lines (a message body, a note): `minLength` to `maxLength` UTF-16 code units. */
const lengthChecks = (minLength: number, maxLength: number) =>
  minLength > 0 ? [z.minLength(minLength), z.maxLength(maxLength)] : [z.maxLength(maxLength)];

export const multiLineText = (maxLength: number, minLength = 1) =>
  z.string().check(...textChecks(), ...lengthChecks(minLength, maxLength));

/** One-line text (an email subject, a name, a reference, anything that may end up in a header). */
export const oneLineText = (maxLength: number, minLength = 1) =>
  z.string().check(...textChecks({ oneLine: true }), ...lengthChecks(minLength, maxLength));

export const customerIdSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/, 'must be 1-128 characters: letters, digits and . _ : @ + -'))
  .register(z.globalRegistry, { description: "The backend's own customer id.", example: 'cust-42' });

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

/** A template text must parse (every `{{` closes and names a variable), or the PUT is refused at its field. */
const parsesAsTemplate = z.superRefine((text: string, ctx) => {
  const problem = templateSyntaxProblem(text);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: text });
});

export const templateSmsText = smsText.check(parsesAsTemplate);
export const templateEmailContentSchema = z.strictObject({
  subject: emailContentSchema.shape.subject.check(parsesAsTemplate),
  text: emailContentSchema.shape.text.check(parsesAsTemplate),
  html: z.optional(multiLineText(200_000).check(parsesAsTemplate)),
});

export const putTemplateRequestSchema = z
  .strictObject({
    description: z.optional(multiLineText(500, 0)),
    sms: z.optional(templateSmsText),
    email: z.optional(templateEmailContentSchema),
  })
  .check(z.refine((t) => t.sms !== undefined || t.email !== undefined, 'a template needs an sms or an email variant'))
  .register(z.globalRegistry, { id: 'PutTemplateRequest' });

export type PutTemplateRequest = z.infer<typeof putTemplateRequestSchema>;

export const idempotencyKeySchema = z
  .string()
  .check(z.regex(/^[\x20-\x7E]{1,255}$/, 'must be 1-255 printable ASCII characters'));

export const conversationQuerySchema = z.strictObject({
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 50),
  before: z.optional(oneLineText(512, 0)),
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

/** A frame the chat page sends over the WebSocket. */
export const chatFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('history') }),
  z.object({
    type: z.literal('message'),
    body: z.string().check(z.trim(), ...textChecks(), z.minLength(1), z.maxLength(2000)),
  }),
]);

const e164Shape = z.string().check(z.regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number'));

/** An optional payload field that AWS may send as `null`: null is read as absent (undefined), not as a malformation. */
const optionalOrNull = (schema: z.ZodMiniString<string>) =>
  z.optional(
    z.pipe(
      z.nullable(schema),
      z.transform((value: string | null) => value ?? undefined),
    ),
  );

/**
 * The End User Messaging two-way SMS payload (the SNS `Message`). Validated like a request: a malformed one is
 * dead-lettered, never half-processed. The numbers come from the carrier through AWS, so they are checked for
 * E.164 shape only: a numbering-plan check could dead-letter a real customer's STOP from a newly opened range.
 *
 * The body is not refused for bad text, unlike a request's: the customer cannot be asked to send it again, and
 * dead-lettering it could lose a STOP. It is repaired instead (`sanitiseInboundText`: lone surrogates become U+FFFD,
 * NUL and other control characters are removed), so what is stored, matched, put in events and later handed to the
 * SDK's SNS/SES serializers (which throw on lone surrogates) is well-formed. `null` in the optional fields is absent.
 */
export const inboundSmsPayloadSchema = z.object({
  originationNumber: e164Shape,
  destinationNumber: e164Shape,
  messageKeyword: optionalOrNull(z.string().check(z.overwrite(sanitiseInboundText), z.maxLength(100))),
  messageBody: z
    .string()
    .check(z.overwrite(sanitiseInboundText), z.maxLength(1600, 'longer than any SMS (1600 characters)')),
  inboundMessageId: z.string().check(z.minLength(1), z.maxLength(200)),
  previousPublishedMessageId: optionalOrNull(z.string().check(z.maxLength(200))),
});

export type InboundSmsPayload = z.infer<typeof inboundSmsPayloadSchema>;
