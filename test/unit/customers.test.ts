import { describe, expect, it } from 'vitest';
import { customerView, openPromptsOf, syncAddresses } from '../../functions/domain/customers.ts';
import type { Customer } from '../../functions/domain/model.ts';
import { at, InMemoryCustomerStore, tenantId } from './fakes.ts';

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
});
