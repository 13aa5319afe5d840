import * as z from 'zod/mini';
import {
  backendCustomerIdSchema,
  emailContentSchema,
  emailSchema,
  messageIdSchema,
  smsText,
  templateNameSchema,
} from './content-schemas.ts';
import { toE164 } from './phone.ts';
import { oneLineText } from './schemas.ts';
import { textProblem } from './text.ts';

/**
 * The send request and the phone number schema (which ./customer-schemas.ts shares), apart from the others so that
 * only the functions that read them build these. libphonenumber itself loads on the first number checked
 * (./phone.ts). `zod/mini` like ./schemas.ts (which loads the English messages).
 */

export const phoneSchema = z
  .string()
  .check(
    z.refine((value) => toE164(value) !== undefined, 'must be a valid phone number in E.164 form, e.g. +12025550143'),
  )
  .register(z.globalRegistry, { description: 'E.164 phone number', example: '+12025550143' });

export const channelSchema = z.enum(['sms', 'email']);
export const urgencySchema = z.enum(['critical', 'high', 'normal', 'low']);

const promptSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('confirm'),
    expiresInSeconds: z._default(z.int().check(z.minimum(1), z.maximum(604_800)), 3600),
    /** Step-up (DESIGN section 16): an answer counts only once the customer sends back the code Parley replies with. */
    verify: z.optional(z.literal('code')),
  }),
  z.strictObject({
    type: z.literal('choice'),
    options: z
      .array(
        z.strictObject({
          key: z.string().check(z.regex(/^[A-Za-z0-9]{1,10}$/, 'must be 1-10 letters or digits')),
          value: oneLineText(64),
        }),
      )
      .check(
        z.minLength(1),
        z.maxLength(9),
        z.refine(
          (options) => new Set(options.map((o) => o.key.toUpperCase())).size === options.length,
          'keys must be unique',
        ),
      ),
    expiresInSeconds: z._default(z.int().check(z.minimum(1), z.maximum(604_800)), 3600),
    verify: z.optional(z.literal('code')),
  }),
]);

const templateDataSchema = z
  .record(
    z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,64}$/)),
    // The text checks sit on the union, not on its string member, so their message is not lost in `Invalid input`.
    z.union([z.string().check(z.maxLength(2000)), z.number(), z.boolean()]).check(
      z.superRefine((value, ctx) => {
        const problem = typeof value === 'string' ? textProblem(value) : undefined;
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: value });
      }),
    ),
  )
  .check(z.refine((data) => Object.keys(data).length <= 100, 'at most 100 variables'));

/** The addresses a send upserts: at least one, or `to` is left out (`to: {}` would create a customer with none). */
const toSchema = z
  .strictObject({ phone: z.optional(phoneSchema), email: z.optional(emailSchema) })
  .check(
    z.refine(
      (to) => to.phone !== undefined || to.email !== undefined,
      'give a phone or an email (or leave out to for a known customer)',
    ),
  );

export const sendMessageRequestSchema = z
  .strictObject({
    customerId: backendCustomerIdSchema,
    to: z.optional(toSchema),
    channel: z._default(z.enum(['sms', 'email', 'auto']), 'auto'),
    template: z.optional(templateNameSchema),
    data: z.optional(templateDataSchema),
    body: z.optional(
      z
        .strictObject({ sms: z.optional(smsText), email: z.optional(emailContentSchema) })
        .check(z.refine((b) => b.sms !== undefined || b.email !== undefined, 'needs sms or email content')),
    ),
    urgency: z._default(urgencySchema, 'normal'),
    category: z._default(z.enum(['transactional', 'marketing']), 'transactional'),
    prompt: z.optional(promptSchema),
    reference: z.optional(oneLineText(256)),
    /** A message of this customer the send answers (say the customer's reply in a `prompt.answered`): by email it
     * joins the customer's mail thread. */
    inReplyTo: z.optional(messageIdSchema),
  })
  .check(
    z.superRefine((request, ctx) => {
      if ((request.template === undefined) === (request.body === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['template'], message: 'give exactly one of template or body' });
      }
      if (request.body !== undefined && request.data !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['data'], message: 'data is only used with a template' });
      }
    }),
  )
  .register(z.globalRegistry, { id: 'SendMessageRequest' });

export type SendMessageRequest = z.infer<typeof sendMessageRequestSchema>;
