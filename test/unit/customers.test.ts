import { describe, expect, it } from 'vitest';
import {
  activeChannelOf,
  type CustomerDeps,
  conversationView,
  customerView,
  getCustomerProfile,
  openPromptsOf,
  putCustomer,
  syncAddresses,
} from '../../functions/domain/customers.ts';
import { newTimelineId } from '../../functions/domain/ids.ts';
import type { Customer, Message } from '../../functions/domain/model.ts';
import { at, FakeClock, InMemoryCustomerStore, InMemoryMessageStore, tenantId } from './fakes.ts';

const customer = (overrides: Partial<Customer> = {}): Customer => ({
  tenantId,
  customerId: 'cust-42',
  preferences: {},
  consent: {},
  openPrompts: {},
  promptAnswers: {},
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  version: 1,
  ...overrides,
});

describe('customers', () => {
  describe('address pointers', () => {
    it('points new addresses at the customer', async () => {
      const store = new InMemoryCustomerStore();

      await syncAddresses(store, undefined, customer({ phone: '+12025550143', email: 'ana@example.com' }));

      expect(store.customerIdByAddress(tenantId, 'sms', '+12025550143')).toBe('cust-42');
      expect(store.customerIdByAddress(tenantId, 'email', 'ana@example.com')).toBe('cust-42');
    });

    it('moves a changed address and drops a cleared one', async () => {
      // Prepare
      const store = new InMemoryCustomerStore();
      const before = customer({ phone: '+12025550143', email: 'ana@example.com' });
      await syncAddresses(store, undefined, before);

      // Act
      await syncAddresses(store, before, customer({ phone: '+12025550199' }));

      // Assess
      expect(store.customerIdByAddress(tenantId, 'sms', '+12025550199')).toBe('cust-42');
      expect(store.customerIdByAddress(tenantId, 'sms', '+12025550143')).toBeUndefined();
      expect(store.customerIdByAddress(tenantId, 'email', 'ana@example.com')).toBeUndefined();
    });

    it('leaves an old address that another customer has taken since', async () => {
      // Prepare
      const store = new InMemoryCustomerStore();
      const before = customer({ phone: '+12025550143' });
      await store.putAddress(tenantId, 'sms', '+12025550143', 'cust-43');

      // Act
      await syncAddresses(store, before, customer({ phone: '+12025550199' }));

      // Assess
      expect(store.customerIdByAddress(tenantId, 'sms', '+12025550143')).toBe('cust-43');
    });
  });

  it('shows a profile without internal fields', () => {
    const view = customerView(customer({ phone: '+12025550143', learnedChannel: 'sms' }));

    expect(view).toEqual({
      customerId: 'cust-42',
      phone: '+12025550143',
      preferences: {},
      consent: {},
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
    });
  });

  it('lists the open prompts still live at a moment, newest first, without internal fields', () => {
    const prompt = (id: string, createdAt: string, expiresAt: string) => ({
      messageId: id,
      timelineId: '01JX0000000000000000000000',
      type: 'confirm' as const,
      expiresAt,
      summary: id,
      createdAt,
    });
    const openPrompts = {
      older: prompt('older', '2025-06-02T10:00:00.000Z', '2025-06-02T13:00:00.000Z'),
      newer: prompt('newer', '2025-06-02T11:00:00.000Z', '2025-06-02T13:00:00.000Z'),
      expired: prompt('expired', '2025-06-02T09:00:00.000Z', '2025-06-02T12:00:00.000Z'),
    };

    const open = openPromptsOf(customer({ openPrompts }), at('2025-06-02T12:00:00.000Z'));

    expect(open.map((p) => p.messageId)).toEqual(['newer', 'older']);
    expect(open[0]).toEqual({
      messageId: 'newer',
      type: 'confirm',
      expiresAt: '2025-06-02T13:00:00.000Z',
      summary: 'newer',
    });
  });

  describe('the customer API', () => {
    const deps = () => {
      const customers = new InMemoryCustomerStore();
      const messages = new InMemoryMessageStore();
      return { customers, messages, clock: new FakeClock() } satisfies CustomerDeps;
    };
    const message = (channel: Message['channel'], minute: number, overrides: Partial<Message> = {}): Message => ({
      messageId: `msg_${minute}`,
      tenantId,
      customerId: 'cust-42',
      timelineId: newTimelineId(at(`2025-06-02T11:${String(minute).padStart(2, '0')}:00.000Z`)),
      direction: 'inbound',
      channel,
      to: '+12025550100',
      from: '+12025550143',
      body: `at ${minute}`,
      status: 'received',
      statusHistory: [],
      createdAt: `2025-06-02T11:${String(minute).padStart(2, '0')}:00.000Z`,
      ...overrides,
    });

    it('creates a customer (created) and then replaces it, keeping the address pointers in step', async () => {
      const d = deps();

      const first = await putCustomer(d, { tenantId, customerId: 'cust-42', changes: { phone: '+12025550143' } });
      const second = await putCustomer(d, {
        tenantId,
        customerId: 'cust-42',
        changes: { preferences: { channel: 'email' } },
      });

      expect(first).toMatchObject({ created: true, customer: { phone: '+12025550143' } });
      expect(second).toMatchObject({ created: false, customer: { preferences: { channel: 'email' } } });
      expect(d.customers.customerIdByAddress(tenantId, 'sms', '+12025550143')).toBe('cust-42');
      expect(await getCustomerProfile(d, tenantId, 'cust-42')).toEqual(second.customer);
    });

    it('answers not_found for a customer that does not exist', async () => {
      const d = deps();

      await expect(getCustomerProfile(d, tenantId, 'nobody')).rejects.toMatchObject({ code: 'not_found' });
      await expect(conversationView(d, { tenantId, customerId: 'nobody', limit: 10 })).rejects.toMatchObject({
        code: 'not_found',
      });
    });

    it.each([
      [
        'a connected chat',
        { chat: { sessionId: 's', connectionId: 'c', since: 'x' }, activeChannel: 'sms' },
        'email',
        'chat',
      ],
      ['the channel of the latest inbound message', { activeChannel: 'sms' }, 'email', 'sms'],
      ['the latest message, for a customer who never wrote', {}, 'email', 'email'],
      ['nothing, for an empty conversation', {}, undefined, null],
    ] as const)('says the customer is on %s', (_case, fields, latest, expected) => {
      expect(activeChannelOf(customer(fields), latest ? message(latest, 1) : undefined)).toBe(expected);
    });

    it('shows the conversation newest first with the active and preferred channels and the open prompts', async () => {
      const d = deps();
      d.customers.seed({ tenantId, customerId: 'cust-42', learnedChannel: 'sms', activeChannel: 'sms' });
      for (const minute of [1, 2, 3]) await d.messages.putMessage(message('sms', minute));

      const view = await conversationView(d, { tenantId, customerId: 'cust-42', limit: 2 });

      expect(view).toMatchObject({
        customerId: 'cust-42',
        activeChannel: 'sms',
        preferredChannel: 'sms',
        openPrompts: [],
      });
      expect(view.messages.map((m) => m.body)).toEqual(['at 3', 'at 2']);
      expect(view.nextCursor).toEqual(expect.any(String));
    });
  });
});
