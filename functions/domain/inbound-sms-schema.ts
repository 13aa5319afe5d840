import * as z from 'zod/mini';
import { sanitiseInboundText } from './text.ts';
import './zod-locale.ts';

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
