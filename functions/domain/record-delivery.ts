/**
 * A provider's status report applied to the message it is about (DESIGN section 13): the status moves forward only,
 * with the provider's detail in the history, and the backend hears `message.delivered` or `message.failed` (or
 * `message.sent`, for a message whose outcome was not known). Not wired to a function yet: the SMS reports need the
 * message found by provider id, an index whose cost against the send budget is still to decide (see
 * docs/decisions.md); email reports carry Parley's ids in their tags.
 */
import { applyDeliveryReport, type DeliveryStatusReport } from './delivery-status.ts';
import { parleyEvent } from './events.ts';
import type { Message } from './model.ts';
import type { EventPublisher, MessageStore, ParleyEvent } from './ports.ts';

export interface DeliveryDeps {
  messages: Pick<MessageStore, 'getMessage' | 'advanceStatus'>;
  events: EventPublisher;
}

export type DeliveryOutcome =
  | { outcome: 'recorded'; messageId: string; status: Message['status'] }
  | { outcome: 'unchanged'; messageId: string; why: string }
  | { outcome: 'unmatched'; why: string };

/** How often a report is decided again when another report for the same message was written in between. */
const maxAttempts = 3;

export const recordDeliveryReport = async (
  deps: DeliveryDeps,
  report: DeliveryStatusReport,
): Promise<DeliveryOutcome> => {
  if (!report.parley) return { outcome: 'unmatched', why: 'the report names no Parley message' };
  const { tenantId, messageId } = report.parley;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const message = await deps.messages.getMessage(tenantId, messageId);
    // The tags are a hint: the stored message must be the one the provider took.
    if (
      !message ||
      (message.providerMessageId !== undefined && message.providerMessageId !== report.providerMessageId)
    ) {
      return { outcome: 'unmatched', why: 'no message of that tenant was sent with that provider id' };
    }
    const transition = applyDeliveryReport(message, report);
    if (!transition.changed) {
      // The same report again, after a delivery that recorded it and died before announcing: announce it again
      // (at least once; backends dedupe on the message id and type).
      const last = message.statusHistory.at(-1);
      if (transition.why === 'duplicate' && last?.status === message.status && last.at === report.occurredAt) {
        await deps.events.publish(eventsFor(message, message.status, report));
      }
      return { outcome: 'unchanged', messageId, why: transition.why };
    }
    if (await deps.messages.advanceStatus(message, transition.previous, transition.entry)) {
      await deps.events.publish(eventsFor(message, transition.status, report));
      return { outcome: 'recorded', messageId, status: transition.status };
    }
  }
  throw new Error(`The status of ${messageId} kept changing under its delivery report`);
};

const eventsFor = (message: Message, status: Message['status'], report: DeliveryStatusReport): ParleyEvent[] => {
  const common = {
    tenantId: message.tenantId,
    customerId: message.customerId,
    occurredAt: report.occurredAt,
    messageId: message.messageId,
    ...(message.reference !== undefined && { reference: message.reference }),
    channel: message.channel,
  };
  if (status === 'delivered') {
    return [parleyEvent('message.delivered', { ...common, providerMessageId: report.providerMessageId })];
  }
  if (status === 'failed') {
    const description = report.detail.diagnosticCode ?? report.detail.providerResponse;
    return [
      parleyEvent('message.failed', {
        ...common,
        reason: report.reason ?? 'unknown_error',
        ...(description !== undefined && { description }),
      }),
    ];
  }
  // `sent`: only reached from `sending` or `unknown`, which the backend was told; now it knows.
  return status === 'sent'
    ? [parleyEvent('message.sent', { ...common, providerMessageId: report.providerMessageId })]
    : [];
};
