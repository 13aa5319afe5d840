/**
 * The email channel's delivery status: SES event publishing through the configuration set's SNS destination (DESIGN
 * section 13). The SNS `Message` is a JSON event record: `eventType` Send, Delivery, Bounce, Complaint, Reject,
 * DeliveryDelay or Rendering Failure, the `mail` it is about (with the message tags Parley sent), and one object
 * named after the event with its detail.
 */
import type { SNSEventRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { messageIdSchema } from '../../domain/content-schemas.ts';
import {
  classifyEmailBounce,
  type DeliveryDetail,
  type DeliveryStatusReport,
  providerTextMaxChars,
} from '../../domain/delivery-status.ts';
import { cutText } from '../../domain/text.ts';
import { snsPayload, UnprocessableInboundError } from '../unprocessable-inbound.ts';

export { UnprocessableInboundError };

/** The SES message tag carrying Parley's message id (DESIGN section 11): the sender sets it, status events echo it. */
export const parleyMessageIdTag = 'parley-message-id';
/** The SES message tag carrying the tenant id (sanitised to what SES allows in a tag value). */
export const parleyTenantIdTag = 'parley-tenant-id';

/** What SES publishes once, as plain text, when the SNS destination is created: nothing to report. */
const topicValidationNotice = 'Successfully validated SNS topic for Amazon SES event publishing.';

const text = z.optional(z.string());
const recipient = z.object({
  emailAddress: z.string().check(z.maxLength(320)),
  status: text,
  diagnosticCode: text,
});

const mail = z.object({
  messageId: z.string().check(z.minLength(1), z.maxLength(200)),
  timestamp: z.string(),
  destination: z.optional(z.array(z.string())),
  tags: z.optional(z.record(z.string(), z.array(z.string()))),
});

const sesEvent = z.discriminatedUnion('eventType', [
  z.object({ eventType: z.literal('Send'), mail }),
  z.object({
    eventType: z.literal('Delivery'),
    mail,
    delivery: z.object({
      timestamp: z.string(),
      recipients: z.array(z.string()),
      smtpResponse: text,
    }),
  }),
  z.object({
    eventType: z.literal('Bounce'),
    mail,
    bounce: z.object({
      bounceType: z.enum(['Permanent', 'Transient', 'Undetermined']),
      bounceSubType: text,
      bouncedRecipients: z.array(recipient).check(z.minLength(1)),
      timestamp: z.string(),
    }),
  }),
  z.object({
    eventType: z.literal('Complaint'),
    mail,
    complaint: z.object({
      complainedRecipients: z.array(z.object({ emailAddress: z.string().check(z.maxLength(320)) })),
      timestamp: z.string(),
      complaintFeedbackType: text,
      complaintSubType: z.optional(z.nullable(z.string())),
    }),
  }),
  z.object({ eventType: z.literal('Reject'), mail, reject: z.object({ reason: z.string() }) }),
  z.object({
    eventType: z.literal('DeliveryDelay'),
    mail,
    deliveryDelay: z.object({
      timestamp: z.string(),
      delayType: z.string(),
      delayedRecipients: z.optional(z.array(recipient)),
    }),
  }),
  z.object({
    // SNS records spell it with a space; other destinations without.
    eventType: z.literal(['Rendering Failure', 'RenderingFailure']),
    mail,
    failure: z.object({ errorMessage: z.string(), templateName: text }),
  }),
  // Published by a configuration set that tracks them, and about engagement, not delivery.
  z.object({ eventType: z.literal(['Open', 'Click', 'Subscription']) }),
]);
type SesEvent = Exclude<z.infer<typeof sesEvent>, { eventType: 'Open' | 'Click' | 'Subscription' }>;

const cut = (value: string | undefined) => (value === undefined ? undefined : cutText(value, providerTextMaxChars));

/** Drops the keys whose value is undefined, so a detail holds only what the provider said. */
const compact = (detail: Record<string, string | number | undefined>): DeliveryDetail =>
  Object.fromEntries(Object.entries(detail).filter(([, value]) => value !== undefined)) as DeliveryDetail;

const firstTag = (tags: Record<string, string[]> | undefined, name: string) => tags?.[name]?.[0];

/** Parley's ids from the message tags, when both are there and the message id has Parley's shape. */
const parleyIdsOf = (tags: Record<string, string[]> | undefined): DeliveryStatusReport['parley'] => {
  const messageId = firstTag(tags, parleyMessageIdTag);
  const tenantId = firstTag(tags, parleyTenantIdTag);
  if (!messageId || !tenantId || !messageIdSchema.safeParse(messageId).success) return undefined;
  return { messageId, tenantId };
};

/** Everything but the ids and the time: what the event says happened. */
type Outcome = Pick<DeliveryStatusReport, 'outcome' | 'reason' | 'permanent' | 'recipients' | 'detail'> & {
  at?: string;
};

const outcomeOf = (event: SesEvent): Outcome => {
  const destination = event.mail.destination ?? [];
  switch (event.eventType) {
    case 'Send':
      return { outcome: 'sent-confirmation', permanent: false, recipients: destination, detail: {} };
    case 'Delivery':
      return {
        outcome: 'delivered',
        permanent: false,
        recipients: event.delivery.recipients,
        detail: compact({ smtpResponse: cut(event.delivery.smtpResponse) }),
        at: event.delivery.timestamp,
      };
    case 'Bounce': {
      const { bounceType, bounceSubType, bouncedRecipients, timestamp } = event.bounce;
      const first = bouncedRecipients[0];
      return {
        outcome: 'failed',
        ...classifyEmailBounce(bounceType, bounceSubType),
        recipients: bouncedRecipients.map((r) => r.emailAddress),
        detail: compact({
          bounceType,
          bounceSubType,
          diagnosticCode: cut(first?.diagnosticCode),
          enhancedStatus: cut(first?.status),
        }),
        at: timestamp,
      };
    }
    case 'Complaint': {
      const { complainedRecipients, complaintFeedbackType, complaintSubType, timestamp } = event.complaint;
      const recipients = complainedRecipients.map((r) => r.emailAddress);
      const detail = compact({ complaintFeedbackType: cut(complaintFeedbackType) });
      // A feedback report saying "not spam" is no complaint: the mail arrived, consent stands.
      if (complaintFeedbackType === 'not-spam') {
        return { outcome: 'delivered', permanent: false, recipients, detail, at: timestamp };
      }
      // On the account's suppression list after an earlier complaint: SES took the mail but never sent it.
      const refused = complaintSubType === 'OnAccountSuppressionList';
      return {
        outcome: refused ? 'failed' : 'delivered',
        reason: 'complaint',
        permanent: true,
        recipients,
        detail,
        at: timestamp,
      };
    }
    case 'Reject':
      // SES found a virus: the content failed, not the address.
      return {
        outcome: 'failed',
        reason: 'rejected',
        permanent: false,
        recipients: destination,
        detail: compact({ providerResponse: cut(event.reject.reason) }),
      };
    case 'DeliveryDelay': {
      const { delayType, delayedRecipients = [], timestamp } = event.deliveryDelay;
      const first = delayedRecipients[0];
      return {
        outcome: 'delayed',
        permanent: false,
        recipients: delayedRecipients.length > 0 ? delayedRecipients.map((r) => r.emailAddress) : destination,
        detail: compact({
          delayType: cut(delayType),
          diagnosticCode: cut(first?.diagnosticCode),
          enhancedStatus: cut(first?.status),
        }),
        at: timestamp,
      };
    }
    case 'Rendering Failure':
    case 'RenderingFailure':
      return {
        outcome: 'failed',
        reason: 'rendering_failed',
        permanent: false,
        recipients: destination,
        detail: compact({ providerResponse: cut(event.failure.errorMessage) }),
      };
  }
};

const isoOf = (...times: (string | undefined)[]): string => {
  for (const time of times) {
    const at = time === undefined ? Number.NaN : Date.parse(time);
    if (!Number.isNaN(at)) return new Date(at).toISOString();
  }
  return new Date().toISOString();
};

/**
 * Reads the SNS record of an SES event as a channel-neutral report, or `undefined` when it reports nothing about
 * delivery (SES's topic validation notice; Open, Click and Subscription events). A record that is not an SES event
 * throws `UnprocessableInboundError`. Parley's ids come from the message tags when the sender set them; without
 * them the report names the message by SES's `mail.messageId` only.
 */
export const parseEmailDeliveryEvent = (record: SNSEventRecord): DeliveryStatusReport | undefined => {
  if (record.Sns.Message.trim() === topicValidationNotice) return undefined;
  const event = snsPayload(record, sesEvent, 'not an SES delivery event');
  if (!('mail' in event)) return undefined;
  const { at, ...outcome } = outcomeOf(event);
  const parley = parleyIdsOf(event.mail.tags);
  return {
    channel: 'email',
    providerMessageId: event.mail.messageId,
    ...(parley && { parley }),
    ...outcome,
    recipients: outcome.recipients.map((address) => address.toLowerCase()),
    occurredAt: isoOf(at, event.mail.timestamp, record.Sns.Timestamp),
  };
};
