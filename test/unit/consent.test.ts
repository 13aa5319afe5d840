import { describe, expect, it } from 'vitest';
import { type ConsentStore, consentChangedEvent, recordConsent } from '../../functions/domain/consent.ts';
import type { Channel, ConsentRecord } from '../../functions/domain/model.ts';
import { InMemoryCustomerStore, tenantId } from './fakes.ts';

const phone = '+12025550143';
const stop: ConsentRecord = { status: 'opted_out', at: '2025-06-01T10:00:00.000Z', keyword: 'STOP' };
const start: ConsentRecord = { status: 'opted_in', at: '2025-06-01T09:00:00.000Z', keyword: 'START' };

const sharedNumber = async () => {
  const customers = new InMemoryCustomerStore();
  for (const id of ['cust-1', 'cust-2']) {
    customers.seed({ tenantId, customerId: id, phone });
    await customers.putAddress(tenantId, 'sms', phone, id);
  }
  return customers;
};

/** The store's writes, in order. */
const recordingWrites = (store: ConsentStore) => {
  const writes: string[] = [];
  const recorded: ConsentStore = {
    setAddressConsent: async (...args) => {
      writes.push(`address ${args[2]}`);
      return store.setAddressConsent(...args);
    },
    setCustomerConsent: async (t: string, customerId: string, channel: Channel, consent: ConsentRecord) => {
      writes.push(`customer ${customerId}`);
      return store.setCustomerConsent(t, customerId, channel, consent);
    },
  };
  return { writes, recorded };
};

describe('recording consent', () => {
  it('writes the address first, then every customer of it, and answers that it was the newest', async () => {
    const customers = await sharedNumber();
    const { writes, recorded } = recordingWrites(customers);

    const newest = await recordConsent(recorded, {
      tenantId,
      channel: 'sms',
      address: phone,
      record: stop,
      customerIds: ['cust-1', 'cust-2'],
    });

    expect(newest).toEqual({ newest: true, changed: true });
    expect(writes).toEqual([`address ${phone}`, 'customer cust-1', 'customer cust-2']);
    for (const id of ['cust-1', 'cust-2']) {
      expect((await customers.getCustomer(tenantId, id))?.consent.sms).toEqual(stop);
    }
  });

  it('changes no customer when a later change is already recorded on the address (it arrived late)', async () => {
    const customers = await sharedNumber();
    await recordConsent(customers, { tenantId, channel: 'sms', address: phone, record: stop, customerIds: ['cust-1'] });
    const { writes, recorded } = recordingWrites(customers);

    const newest = await recordConsent(recorded, {
      tenantId,
      channel: 'sms',
      address: phone,
      record: start,
      customerIds: ['cust-1', 'cust-2'],
    });

    expect(newest).toEqual({ newest: false, changed: false });
    expect(writes).toEqual([`address ${phone}`]);
    expect((await customers.getCustomer(tenantId, 'cust-1'))?.consent.sms).toEqual(stop);
    expect((await customers.getCustomer(tenantId, 'cust-2'))?.consent.sms).toBeUndefined();
  });
});

describe('consent.changed', () => {
  it('names the keyword of an inbound change, with nothing else', () => {
    const event = consentChangedEvent({
      tenantId,
      customerId: 'cust-1',
      occurredAt: stop.at,
      messageId: 'msg_01HZ0000000000000000000000',
      channel: 'sms',
      record: stop,
    });

    expect(event).toEqual({
      type: 'consent.changed',
      detail: {
        tenantId,
        customerId: 'cust-1',
        occurredAt: stop.at,
        messageId: 'msg_01HZ0000000000000000000000',
        channel: 'sms',
        status: 'opted_out',
        keyword: 'STOP',
      },
    });
  });

  it('names the reason of a change no keyword made (an email unsubscribe), with nothing else', () => {
    const event = consentChangedEvent({
      tenantId,
      customerId: 'cust-1',
      occurredAt: stop.at,
      channel: 'email',
      record: { status: 'opted_out', at: stop.at, reason: 'unsubscribe' },
    });

    expect(event.detail).toEqual({
      tenantId,
      customerId: 'cust-1',
      occurredAt: stop.at,
      channel: 'email',
      status: 'opted_out',
      reason: 'unsubscribe',
    });
  });
});
