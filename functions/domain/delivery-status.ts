/**
 * What a provider says happened to an outbound message after it took it (DESIGN section 13), in Parley's own terms,
 * and the pure decisions that follow: the message's next status, whether the address is suppressed, whether another
 * channel takes over. The channel adapters (`adapters/sms/sns-delivery-log.ts`, `adapters/email/ses-event.ts`) turn
 * provider payloads into `DeliveryStatusReport`s; nothing here knows a provider's payload shape. The tables that sort
 * provider texts and bounce types into reasons are here, beside the reason list, so every source of a reason is
 * read in one place.
 */
import { deliveryFailureReasons } from './events.ts';
import type { Channel, Message, MessageChannel, MessageStatus, StatusChange } from './model.ts';

/**
 * - `sent-confirmation`: the provider confirms it took the message (SES `Send`); settles `sending` and `unknown`.
 * - `delayed`: still trying (SES `DeliveryDelay`); it proves the provider took the message, nothing more.
 * - `delivered`: handed to the carrier or the recipient's mail server.
 * - `failed`: the provider gave up on this message for good.
 */
export const deliveryOutcomes = ['sent-confirmation', 'delayed', 'delivered', 'failed'] as const;
export type DeliveryOutcome = (typeof deliveryOutcomes)[number];

/**
 * Why a delivery failed: the catalogue's `deliveryFailureReasons`, part of `failureReasons`, so a report's reason
 * goes onto `message.failed` as it is, with no second mapping.
 */
export const deliveryReasons = deliveryFailureReasons;
export type DeliveryReason = (typeof deliveryReasons)[number];

/** The provider's own detail, kept in the status history (strings cut to `providerTextMaxChars` by the adapters). */
export type DeliveryDetail = {
  /** SNS `providerResponse`; SES: the reject reason, or the rendering error. */
  providerResponse?: string;
  priceInUsd?: number;
  mcc?: number;
  mnc?: number;
  carrier?: string;
  smsType?: string;
  messageParts?: number;
  /** From the publish to the carrier's acknowledgement (or to the hand-off when there was none). */
  dwellTimeMs?: number;
  bounceType?: 'Permanent' | 'Transient' | 'Undetermined';
  bounceSubType?: string;
  /** The receiving MTA's words, e.g. `smtp; 550 5.1.1 user unknown`. */
  diagnosticCode?: string;
  /** The enhanced status code of the recipient, e.g. `5.1.1`. */
  enhancedStatus?: string;
  smtpResponse?: string;
  delayType?: string;
  complaintFeedbackType?: string;
};

/** Provider text kept in a report is cut to this many characters, so histories stay small (DESIGN section 8). */
export const providerTextMaxChars = 256;

export interface DeliveryStatusReport {
  channel: Channel;
  /** The provider's id of the message (SNS Publish `MessageId`, SES `mail.messageId`): always known. */
  providerMessageId: string;
  /**
   * Parley's own ids, where the provider carried them (SES message tags): the message is then found without the
   * provider-id index. The tenant comes from a tag value, which the sender had to sanitise: treat it as a hint the
   * store confirms, never as an authority.
   */
  parley?: { messageId: string; tenantId: string };
  outcome: DeliveryOutcome;
  /** Why: always set when `failed`; `complaint` on a delivered email; absent otherwise. */
  reason?: DeliveryReason;
  /** True when the address itself cannot be reached on this channel: trying it again will not help. */
  permanent: boolean;
  /** The addresses the report is about (the bounced or complaining recipients; the SMS destination). */
  recipients: string[];
  detail: DeliveryDetail;
  /** When it happened, by the provider's clock (ISO 8601). */
  occurredAt: string;
  /** When the provider took the message, where the report says (SNS: the Publish); it helps find the message. */
  publishedAt?: string;
}

/** A classification of a provider's failure text or code. */
export interface FailureClass {
  reason: DeliveryReason;
  permanent: boolean;
}

/**
 * SNS SMS delivery status log `providerResponse` texts on the failure log group (AWS lists these under "SMS delivery
 * failure reasons"), matched exactly. `permanent` is about the number, not the content: spam filtering or an invalid
 * body blocks this text, not the phone.
 *
 * | providerResponse                                   | reason              | permanent |
 * |----------------------------------------------------|---------------------|-----------|
 * | Blocked as spam by phone carrier                   | blocked             | no        |
 * | Destination is on a blocked list                   | blocked             | yes       |
 * | Invalid phone number                               | invalid_number      | yes       |
 * | Message body is invalid                            | rejected            | no        |
 * | Phone carrier has blocked this message             | blocked             | no        |
 * | Phone carrier is currently unreachable/unavailable | carrier_unreachable | no        |
 * | Phone has blocked SMS                              | blocked             | yes       |
 * | Phone is on a blocked list                         | blocked             | yes       |
 * | Phone is currently unreachable/unavailable         | phone_unreachable   | no        |
 * | Phone number is opted out                          | opted_out           | yes       |
 * | This delivery would exceed max price               | max_price_exceeded  | no        |
 * | Unknown error attempting to reach phone            | unknown_error       | no        |
 *
 * A text not in the table is read by `smsFailurePatterns`, then is `unknown_error`, not permanent.
 */
export const smsProviderResponses: Readonly<Record<string, FailureClass>> = {
  'Blocked as spam by phone carrier': { reason: 'blocked', permanent: false },
  'Destination is on a blocked list': { reason: 'blocked', permanent: true },
  'Invalid phone number': { reason: 'invalid_number', permanent: true },
  'Message body is invalid': { reason: 'rejected', permanent: false },
  'Phone carrier has blocked this message': { reason: 'blocked', permanent: false },
  'Phone carrier is currently unreachable/unavailable': { reason: 'carrier_unreachable', permanent: false },
  'Phone has blocked SMS': { reason: 'blocked', permanent: true },
  'Phone is on a blocked list': { reason: 'blocked', permanent: true },
  'Phone is currently unreachable/unavailable': { reason: 'phone_unreachable', permanent: false },
  'Phone number is opted out': { reason: 'opted_out', permanent: true },
  'This delivery would exceed max price': { reason: 'max_price_exceeded', permanent: false },
  'Unknown error attempting to reach phone': { reason: 'unknown_error', permanent: false },
};

/** Texts AWS has not listed (new wordings, other casing), by what they say; the first that matches wins. */
const smsFailurePatterns: readonly [RegExp, FailureClass][] = [
  [/opted[ -]?out/i, { reason: 'opted_out', permanent: true }],
  [/expired|validity period|ttl/i, { reason: 'ttl_expired', permanent: false }],
  [/invalid (phone )?number|not a valid/i, { reason: 'invalid_number', permanent: true }],
  [/max(imum)? price/i, { reason: 'max_price_exceeded', permanent: false }],
  [/carrier.*(unreachable|unavailable)/i, { reason: 'carrier_unreachable', permanent: false }],
  [/unreachable|unavailable/i, { reason: 'phone_unreachable', permanent: false }],
  [/blocked|spam/i, { reason: 'blocked', permanent: false }],
];

/** Sorts an SNS SMS failure's `providerResponse` into a reason (see `smsProviderResponses`). */
export const classifySmsFailure = (providerResponse: string | undefined): FailureClass => {
  const text = providerResponse?.trim() ?? '';
  const known = smsProviderResponses[text];
  if (known) return known;
  const pattern = smsFailurePatterns.find(([test]) => test.test(text));
  return pattern ? pattern[1] : { reason: 'unknown_error', permanent: false };
};

/**
 * SES `Bounce` events by `bounceType` / `bounceSubType`. SES publishes a transient bounce only once it has stopped
 * retrying, so every bounce fails its message; only a permanent one says the address is bad.
 *
 * | bounceType   | bounceSubType                       | reason           | permanent |
 * |--------------|-------------------------------------|------------------|-----------|
 * | Permanent    | General, NoEmail, (any other)       | bounce           | yes       |
 * | Permanent    | Suppressed, OnAccountSuppressionList| suppressed       | yes       |
 * | Transient    | General, MailboxFull, (any other)   | bounce           | no        |
 * | Transient    | MessageTooLarge                     | message_too_long | no        |
 * | Transient    | ContentRejected, AttachmentRejected | rejected         | no        |
 * | Undetermined | Undetermined                        | bounce           | no        |
 *
 * `Suppressed` / `OnAccountSuppressionList`: SES did not try, the address is on its (or the account's) suppression
 * list after an earlier hard bounce or complaint.
 */
export const emailBounceReasons: Readonly<Record<string, Readonly<Record<string, FailureClass>>>> = {
  Permanent: {
    Suppressed: { reason: 'suppressed', permanent: true },
    OnAccountSuppressionList: { reason: 'suppressed', permanent: true },
  },
  Transient: {
    MessageTooLarge: { reason: 'message_too_long', permanent: false },
    ContentRejected: { reason: 'rejected', permanent: false },
    AttachmentRejected: { reason: 'rejected', permanent: false },
  },
};

/** Sorts an SES bounce into a reason (see `emailBounceReasons`). */
export const classifyEmailBounce = (
  bounceType: 'Permanent' | 'Transient' | 'Undetermined',
  bounceSubType: string | undefined,
): FailureClass =>
  emailBounceReasons[bounceType]?.[bounceSubType ?? ''] ?? { reason: 'bounce', permanent: bounceType === 'Permanent' };

/** A status change from a provider report: the history entry keeps the provider's detail (DESIGN section 13). */
export interface DeliveryStatusChange extends StatusChange {
  reason?: DeliveryReason;
  detail: DeliveryDetail;
}

export type DeliveryTransition =
  | {
      changed: true;
      previous: MessageStatus;
      status: MessageStatus;
      entry: DeliveryStatusChange;
      /** The message's history with `entry` appended. */
      statusHistory: StatusChange[];
    }
  | {
      changed: false;
      /**
       * - `duplicate`: the message is already in the status the report leads to;
       * - `late`: the message is already further along than the report leads (a Send after the delivery, a second
       *   final outcome after the first);
       * - `not-applicable`: not an outbound message Parley handed to a provider (inbound, cancelled);
       * - `wrong-channel`: the report is about another channel than the message's (a lookup went wrong).
       */
      why: 'duplicate' | 'late' | 'not-applicable' | 'wrong-channel';
    };

/**
 * How far along an outbound message is. Statuses move forward only: a report applies when it leads further than
 * where the message is. `delivered` and `failed` are both final, so the first final report wins and any later one
 * (a bounce after a delivery, a delivery after a failure) changes nothing: the first was already announced, and a
 * fallback may already be on its way. A bounce after a delivery (SES reports asynchronous bounces that way) still
 * suppresses the address: `shouldSuppress` reads the report, not the transition.
 */
const progress: Partial<Record<MessageStatus, number>> = {
  scheduled: 0,
  queued: 0,
  sending: 1,
  unknown: 1,
  sent: 2,
  delivered: 3,
  failed: 3,
};

/** The status a report leads to: a delay or a send confirmation only prove the provider took the message. */
const statusOf: Record<DeliveryOutcome, MessageStatus> = {
  'sent-confirmation': 'sent',
  delayed: 'sent',
  delivered: 'delivered',
  failed: 'failed',
};

/**
 * The next status of a message given a provider report, or no change. A report settles `unknown` (DESIGN section
 * 11) and may arrive before `sent` was recorded (`sending`): it applies either way. The entry's time is the
 * provider's, so the history says when it happened, not when Parley heard.
 */
export const applyDeliveryReport = (
  message: Pick<Message, 'direction' | 'channel' | 'status' | 'statusHistory'>,
  report: DeliveryStatusReport,
): DeliveryTransition => {
  const current = progress[message.status];
  if (message.direction !== 'outbound' || current === undefined) return { changed: false, why: 'not-applicable' };
  if (message.channel !== report.channel) return { changed: false, why: 'wrong-channel' };
  const status = statusOf[report.outcome];
  if (status === message.status) return { changed: false, why: 'duplicate' };
  if (current >= (progress[status] as number)) return { changed: false, why: 'late' };
  const entry: DeliveryStatusChange = {
    status,
    at: report.occurredAt,
    ...(report.reason !== undefined && { reason: report.reason }),
    detail: report.detail,
  };
  return { changed: true, previous: message.status, status, entry, statusHistory: [...message.statusHistory, entry] };
};

/** What a report does to the address's consent: the `consent.changed` to record and emit (DESIGN sections 6, 13). */
export interface SuppressionDecision {
  channel: 'email';
  status: 'suppressed' | 'opted_out';
  reason: 'bounce' | 'complaint';
  addresses: string[];
}

/** Email failures that say the address is bad, not the message: a hard bounce, SES's suppression, a complaint. */
const isAddressFailure = (report: DeliveryStatusReport): boolean =>
  report.permanent && (report.reason === 'bounce' || report.reason === 'suppressed' || report.reason === 'complaint');

/**
 * A permanent bounce (or SES refusing an address it already suppresses after one) suppresses the address for email;
 * a complaint opts it out, whether the mail was delivered or refused because of an earlier complaint. Decided from
 * the report alone, whatever the message's status, and idempotent: the same report twice yields the same consent,
 * which the store records once.
 */
export const shouldSuppress = (report: DeliveryStatusReport): SuppressionDecision | undefined => {
  if (report.channel !== 'email' || report.recipients.length === 0) return undefined;
  if (report.reason === 'complaint') {
    return { channel: 'email', status: 'opted_out', reason: 'complaint', addresses: report.recipients };
  }
  if (report.outcome === 'failed' && isAddressFailure(report)) {
    return { channel: 'email', status: 'suppressed', reason: 'bounce', addresses: report.recipients };
  }
  return undefined;
};

/** What `failoverFor` needs of a message: its channel and status after the report, and what the send asked for. */
export interface FailoverSubject {
  channel: MessageChannel;
  /** The message's status with the report applied (a failure ignored after a delivery leaves it `delivered`). */
  status: MessageStatus;
  /** What the send asked for: only `auto` fails over. */
  requested: Channel | 'auto';
  /** The message already sent in its place, if any. */
  fallback?: { messageId: string; channel: Channel };
  /** Set when this message is itself a fallback: a fallback never fails over again. */
  fallbackFor?: string;
}

export interface FailoverDecision {
  channel: Channel;
  reason: DeliveryReason;
}

/**
 * Whether the same content goes out on the other channel (DESIGN section 13): under `auto`, a final SMS failure goes
 * by email, and a permanent bounce goes by SMS (so does SES refusing a suppressed or complained-about address: the
 * later sends DESIGN describes would go by SMS too). A transient bounce, a reject or a rendering failure do not: the
 * address is fine, and the content is what failed. At most once per message: not when a fallback exists, and never from
 * a fallback. Safe to ask again on a redelivered report (a crash after recording `failed` is repaired); whether the
 * other channel is allowed (consent, an address, content) is the send path's call.
 */
export const failoverFor = (message: FailoverSubject, report: DeliveryStatusReport): FailoverDecision | undefined => {
  if (message.requested !== 'auto' || message.fallback || message.fallbackFor !== undefined) return undefined;
  if (message.status !== 'failed' || report.outcome !== 'failed' || report.channel !== message.channel) {
    return undefined;
  }
  const reason = report.reason ?? 'unknown_error';
  if (report.channel === 'sms') return { channel: 'email', reason };
  return isAddressFailure(report) ? { channel: 'sms', reason } : undefined;
};
