import type * as z from 'zod/mini';
import type { eventSchemas } from './event-schemas.ts';

/**
 * The catalogue of the events Parley emits (DESIGN section 6): one schema per detail-type, written once. The code
 * builds events with `parleyEvent`, typed by these schemas; the OpenAPI `webhooks` section and the webhook bodies
 * are generated from them. Objects are strict, so a field the catalogue does not name is a drift a test catches.
 *
 * Events go out on EventBridge with `source: "parley"` and the type as detail-type; webhooks carry the same detail
 * as `data`.
 *
 * The schemas themselves live in ./event-schemas.ts, which only the OpenAPI document and the tests load: building
 * them is init work, and nothing on a request's path validates an event (the types of `parleyEvent` hold it).
 */

/**
 * Why a delivery failed, as a provider's status report says (or, for `complaint`, why a delivered email changes the
 * address's consent): functions/domain/delivery-status.ts sorts SNS's and SES's answers into these.
 */
export const deliveryFailureReasons = [
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
  'message_too_long',
  'unknown_error',
] as const;

/** Why a message failed, as `message.failed` reports it: provider outcomes sorted into one list. */
export const failureReasons = [
  ...deliveryFailureReasons,
  'provider_rejected',
  'no_reachable_channel',
  'unknown_template',
] as const;
export type FailureReason = (typeof failureReasons)[number];

/** Why consent changed when no keyword says it (email: List-Unsubscribe, a complaint, a permanent bounce). */
export const consentChangeReasons = ['unsubscribe', 'complaint', 'bounce'] as const;

export type ParleyEventType = keyof typeof eventSchemas;
export type ParleyEventDetail<T extends ParleyEventType> = z.output<(typeof eventSchemas)[T]>;
export interface ParleyEventOf<T extends ParleyEventType> {
  type: T;
  detail: ParleyEventDetail<T>;
}
/** Any event of the catalogue, discriminated by `type`. */
export type ParleyEvent = { [T in ParleyEventType]: ParleyEventOf<T> }[ParleyEventType];

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

/** Every type of the catalogue, in its order. */
export const eventTypes = Object.keys(eventDescriptions) as ParleyEventType[];

/**
 * Builds an event of the catalogue, checked at compile time against its type's schema. Nothing is validated at
 * run time: the types already hold it, and this sits on the send path (tests use `validateEvent`).
 */
export const parleyEvent = <T extends ParleyEventType>(type: T, detail: ParleyEventDetail<T>): ParleyEventOf<T> => ({
  type,
  detail,
});
