/**
 * Consent per address (DESIGN sections 7 and 12), written once for every way it changes: an inbound STOP or START on
 * any channel, and an email's one-click unsubscribe. Consent belongs to the address, so it reaches every customer the
 * address belongs to; it follows the newest change by time, so one that arrives late changes nothing.
 */
import { parleyEvent } from './events.ts';
import type { Channel, ConsentRecord } from './model.ts';
import type { InboundCustomerStore, ParleyEvent } from './ports.ts';

export type ConsentStore = Pick<InboundCustomerStore, 'setAddressConsent' | 'setCustomerConsent'>;

export interface ConsentChange {
  tenantId: string;
  channel: Channel;
  address: string;
  record: ConsentRecord;
  /** Every customer the address belongs to. */
  customerIds: readonly string[];
}

/**
 * Records the change on the address, then, when it is the newest, on each of its customers (the address first: a
 * crash in between leaves the address right, and the next change or redelivery repeats the customers). Answers
 * whether it was the newest, and whether it changed the status (what `consent.changed` announces: a second STOP, or
 * two unsubscribe clicks a moment apart, announce once; the address's write orders them).
 */
export const recordConsent = async (
  customers: ConsentStore,
  change: ConsentChange,
): Promise<{ newest: boolean; changed: boolean }> => {
  const { tenantId, channel, address, record } = change;
  const written = await customers.setAddressConsent(tenantId, channel, address, record);
  if (!written.written) return { newest: false, changed: false };
  for (const customerId of change.customerIds) {
    await customers.setCustomerConsent(tenantId, customerId, channel, record);
  }
  const previous = written.previous;
  // The same record again is this change redelivered after a crash: announced again (at least once).
  const again = previous?.at === record.at && previous.keyword === record.keyword && previous.reason === record.reason;
  return { newest: true, changed: again || previous?.status !== record.status };
};

/** `consent.changed` for a recorded change, naming the customer it is filed under. */
export const consentChangedEvent = (input: {
  tenantId: string;
  customerId: string;
  occurredAt: string;
  messageId?: string;
  channel: Channel;
  record: ConsentRecord;
}): ParleyEvent =>
  parleyEvent('consent.changed', {
    tenantId: input.tenantId,
    customerId: input.customerId,
    occurredAt: input.occurredAt,
    ...(input.messageId !== undefined && { messageId: input.messageId }),
    channel: input.channel,
    status: input.record.status,
    ...(input.record.keyword !== undefined && { keyword: input.record.keyword }),
    ...(input.record.reason !== undefined && { reason: input.record.reason }),
  });
