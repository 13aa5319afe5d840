import { beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryStatusReport } from '../../functions/domain/delivery-status.ts';
import type { Message } from '../../functions/domain/model.ts';
import { type DeliveryDeps, fallbackIdOf, recordDeliveryReport } from '../../functions/domain/record-delivery.ts';
import {
  type FakeSendDeps,
  type InMemoryMessageStore,
  makeTenant,
  type RecordingEventPublisher,
  sendDeps,
  tenantId,
} from './fakes.ts';

const messageId = 'msg_01JXDELIVERY00000000000001';
let send: FakeSendDeps;
let messages: InMemoryMessageStore;
let events: RecordingEventPublisher;
let deps: DeliveryDeps;

/** An email the send path left `sent`, claimed by its id as every stored message is. */
const sentEmail = async (overrides: Partial<Message> = {}): Promise<Message> => {
  const message: Message = {
    messageId,
    tenantId,
    customerId: 'cust-42',
    timelineId: '01JXDELIVERY00000000000001',
    direction: 'outbound',
    channel: 'email',
    to: 'ana@example.com',
    from: 'alerts@demo-bank.example',
    subject: 'Did you pay $420.00 at ACME?',
    body: 'Reply Y if this was you.',
    status: 'sent',
    statusHistory: [
      { status: 'sending', at: '2025-06-02T12:00:00.000Z' },
      { status: 'sent', at: '2025-06-02T12:00:00.100Z' },
    ],
    providerMessageId: 'ses-0100018f-1',
    reference: 'txn-987',
    createdAt: '2025-06-02T12:00:00.000Z',
    ...overrides,
  };
  await messages.claimMessage({
    tenantId,
    messageId,
    customerId: message.customerId,
    timelineId: message.timelineId,
    requestHash: 'send',
    leaseUntil: 0,
    createdAt: message.createdAt,
  });
  await messages.putMessage(message);
  return message;
};

const report = (overrides: Partial<DeliveryStatusReport> = {}): DeliveryStatusReport => ({
  channel: 'email',
  providerMessageId: 'ses-0100018f-1',
  parley: { messageId, tenantId },
  outcome: 'delivered',
  permanent: false,
  recipients: ['ana@example.com'],
  detail: { smtpResponse: '250 2.0.0 OK' },
  occurredAt: '2025-06-02T12:00:03.000Z',
  ...overrides,
});

const stored = async () => messages.getMessage(tenantId, messageId);

beforeEach(() => {
  send = sendDeps();
  messages = send.messages;
  events = send.events;
  deps = {
    messages,
    customers: send.customers,
    getTenant: async (id) => (id === tenantId ? makeTenant() : undefined),
    events,
    outbound: send,
    claimLeaseMs: 30_000,
  };
});

describe('recording a delivery report', () => {
  it('moves a sent email to delivered, keeps the provider detail, and announces message.delivered', async () => {
    // Prepare
    await sentEmail();

    // Act
    const outcome = await recordDeliveryReport(deps, report());

    // Assess
    expect(outcome).toEqual({ outcome: 'recorded', messageId, status: 'delivered' });
    const message = await stored();
    expect(message?.status).toBe('delivered');
    expect(message?.statusHistory.at(-1)).toEqual({
      status: 'delivered',
      at: '2025-06-02T12:00:03.000Z',
      detail: { smtpResponse: '250 2.0.0 OK' },
    });
    expect(events.events).toEqual([
      {
        type: 'message.delivered',
        detail: {
          tenantId,
          customerId: 'cust-42',
          occurredAt: '2025-06-02T12:00:03.000Z',
          messageId,
          reference: 'txn-987',
          channel: 'email',
          providerMessageId: 'ses-0100018f-1',
        },
      },
    ]);
  });

  it('takes the same report twice into one history, announcing it again (at least once)', async () => {
    await sentEmail();

    await recordDeliveryReport(deps, report());
    const again = await recordDeliveryReport(deps, report());

    expect(again).toEqual({ outcome: 'unchanged', messageId, why: 'duplicate' });
    expect((await stored())?.statusHistory.map((s) => s.status)).toEqual(['sending', 'sent', 'delivered']);
    expect(events.events.map((e) => e.type)).toEqual(['message.delivered', 'message.delivered']);
  });

  it('ignores a send confirmation that arrives after the delivery (out of order): no change, no event', async () => {
    await sentEmail();
    await recordDeliveryReport(deps, report());

    const late = await recordDeliveryReport(
      deps,
      report({ outcome: 'sent-confirmation', detail: {}, occurredAt: '2025-06-02T12:00:01.000Z' }),
    );

    expect(late).toEqual({ outcome: 'unchanged', messageId, why: 'late' });
    expect((await stored())?.status).toBe('delivered');
    expect(events.events).toHaveLength(1);
  });

  it('records a permanent bounce as failed with its reason and diagnostic in message.failed', async () => {
    await sentEmail();

    await recordDeliveryReport(
      deps,
      report({
        outcome: 'failed',
        reason: 'bounce',
        permanent: true,
        detail: { bounceType: 'Permanent', diagnosticCode: 'smtp; 550 5.1.1 user unknown' },
      }),
    );

    expect((await stored())?.status).toBe('failed');
    expect(events.events).toEqual([
      expect.objectContaining({
        type: 'consent.changed',
        detail: expect.objectContaining({ channel: 'email', status: 'suppressed', reason: 'bounce', messageId }),
      }),
      expect.objectContaining({
        type: 'message.failed',
        detail: expect.objectContaining({ reason: 'bounce', description: 'smtp; 550 5.1.1 user unknown' }),
      }),
    ]);
  });

  it('settles a message whose outcome was unknown with message.sent once SES confirms it took it', async () => {
    await sentEmail({ status: 'unknown', statusHistory: [{ status: 'unknown', at: '2025-06-02T12:00:00.100Z' }] });

    const outcome = await recordDeliveryReport(deps, report({ outcome: 'sent-confirmation' }));

    expect(outcome).toEqual({ outcome: 'recorded', messageId, status: 'sent' });
    expect(events.events.map((e) => e.type)).toEqual(['message.sent']);
  });

  it('decides again when another report moved the message in between, and records each once', async () => {
    // Prepare: the store refuses the first write, as a concurrent report's write would make it
    await sentEmail();
    const advance = messages.advanceStatus.bind(messages);
    let refusals = 1;
    messages.advanceStatus = async (message, from, change) => (refusals-- > 0 ? false : advance(message, from, change));

    // Act
    const outcome = await recordDeliveryReport(deps, report());

    // Assess
    expect(outcome).toMatchObject({ outcome: 'recorded', status: 'delivered' });
    expect(events.events).toHaveLength(1);
  });

  it.each([
    ['a report without Parley ids (an SMS, found by provider id only)', { parley: undefined }],
    ['a report whose provider id is not the stored one', { providerMessageId: 'ses-someone-else' }],
    ['a report naming another tenant', { parley: { messageId, tenantId: 'other-bank' } }],
  ])('leaves %s unmatched, changing nothing', async (_case, overrides) => {
    await sentEmail();

    const outcome = await recordDeliveryReport(deps, report(overrides as Partial<DeliveryStatusReport>));

    expect(outcome.outcome).toBe('unmatched');
    expect((await stored())?.status).toBe('sent');
    expect(events.events).toEqual([]);
  });
});

const phone = '+12025550143';
const email = 'ana@example.com';
const smsId = 'msg_01JXDELIVERYSMS00000000001';

/** A card alert the send path left `sent` by SMS, with its prompt open on the customer. */
const sentSms = async (overrides: Partial<Message> = {}): Promise<Message> => {
  const message: Message = {
    messageId: smsId,
    tenantId,
    customerId: 'cust-42',
    timelineId: '01JXDELIVERYSMS00000000001',
    direction: 'outbound',
    channel: 'sms',
    to: phone,
    from: '+12025550100',
    body: 'Demo Bank: did you pay $420.00 at ACME? Reply Y or N',
    status: 'sent',
    statusHistory: [{ status: 'sent', at: '2025-06-02T12:00:00.100Z' }],
    providerMessageId: 'sns-publish-1',
    reference: 'txn-987',
    requested: 'auto',
    prompt: { type: 'confirm', expiresAt: '2025-06-03T12:00:00.000Z' },
    createdAt: '2025-06-02T12:00:00.000Z',
    ...overrides,
  };
  await messages.claimMessage({
    tenantId,
    messageId: smsId,
    customerId: message.customerId,
    timelineId: message.timelineId,
    requestHash: 'send',
    leaseUntil: 0,
    createdAt: message.createdAt,
  });
  await messages.putMessage(message);
  send.customers.seed({
    tenantId,
    customerId: 'cust-42',
    phone,
    email,
    openPrompts: {
      [smsId]: {
        messageId: smsId,
        type: 'confirm',
        expiresAt: '2025-06-03T12:00:00.000Z',
        reference: 'txn-987',
        summary: 'Demo Bank: did you pay $420.00 at ACME',
        createdAt: '2025-06-02T12:00:00.000Z',
      },
    },
  });
  return message;
};

const smsFailure = (overrides: Partial<DeliveryStatusReport> = {}): DeliveryStatusReport => ({
  channel: 'sms',
  providerMessageId: 'sns-publish-1',
  outcome: 'failed',
  reason: 'carrier_unreachable',
  permanent: false,
  recipients: [phone],
  detail: { providerResponse: 'Phone carrier is currently unreachable/unavailable', priceInUsd: 0.00645 },
  occurredAt: '2025-06-02T12:00:02.000Z',
  publishedAt: '2025-06-02T12:00:00.200Z',
  ...overrides,
});

const smsMessage = async () => messages.getMessage(tenantId, smsId);

describe('SMS reports, found by the Publish id and the number', () => {
  it('records an SMS delivery with the carrier detail, found without any Parley id', async () => {
    await sentSms();

    const outcome = await recordDeliveryReport(
      deps,
      smsFailure({ outcome: 'delivered', reason: undefined, detail: { carrier: 'Example Wireless', mcc: 310 } }),
    );

    expect(outcome).toEqual({ outcome: 'recorded', messageId: smsId, status: 'delivered' });
    expect((await smsMessage())?.statusHistory.at(-1)).toEqual({
      status: 'delivered',
      at: '2025-06-02T12:00:02.000Z',
      detail: { carrier: 'Example Wireless', mcc: 310 },
    });
    expect(events.types()).toEqual(['message.delivered']);
  });

  it('leaves a report for another number unmatched, however its Publish id reads', async () => {
    await sentSms();

    const outcome = await recordDeliveryReport(deps, smsFailure({ recipients: ['+12025550199'] }));

    expect(outcome.outcome).toBe('unmatched');
    expect((await smsMessage())?.status).toBe('sent');
    expect(send.email.sent).toEqual([]);
  });
});

describe('failover under auto', () => {
  it('sends a failed SMS by email once, with fallbackFor, moves its prompt, and names the fallback', async () => {
    // Prepare
    await sentSms();
    const fallbackId = fallbackIdOf(tenantId, smsId);

    // Act: the report, then the same report redelivered
    const outcome = await recordDeliveryReport(deps, smsFailure());
    await recordDeliveryReport(deps, smsFailure());

    // Assess: one email, carrying the SMS text, answerable by its own reply address
    expect(outcome).toEqual({
      outcome: 'recorded',
      messageId: smsId,
      status: 'failed',
      fallback: { messageId: fallbackId, channel: 'email' },
    });
    expect(send.email.sent).toHaveLength(1);
    expect(send.email.sent[0]).toMatchObject({
      to: email,
      subject: 'A message from Demo Bank',
      text: 'Demo Bank: did you pay $420.00 at ACME? Reply Y or N',
      replyTo: `reply+${tenantId}.${fallbackId.toLowerCase()}@reply.parley.test`,
    });
    const fallback = await messages.getMessage(tenantId, fallbackId);
    expect(fallback).toMatchObject({ channel: 'email', status: 'sent', fallbackFor: smsId, reference: 'txn-987' });
    expect((await smsMessage())?.fallback).toEqual({ messageId: fallbackId, channel: 'email' });
    const customer = await send.customers.getCustomer(tenantId, 'cust-42');
    expect(Object.keys(customer?.openPrompts ?? {})).toEqual([fallbackId]);
    expect(customer?.openPrompts[fallbackId]).toMatchObject({
      reference: 'txn-987',
      expiresAt: '2025-06-03T12:00:00.000Z',
    });
    const failed = events.events.filter((e) => e.type === 'message.failed');
    expect(failed).toHaveLength(2);
    for (const event of failed) {
      expect(event.detail).toMatchObject({ messageId: smsId, fallback: { messageId: fallbackId, channel: 'email' } });
    }
    expect(events.events.filter((e) => e.type === 'message.sent')).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ messageId: fallbackId, fallbackFor: smsId }) }),
    ]);
  });

  it('does not fail over a send that asked for SMS, nor to an opted-out email', async () => {
    await sentSms({ requested: 'sms' });
    await recordDeliveryReport(deps, smsFailure());
    expect(send.email.sent).toEqual([]);
    expect(events.events.at(-1)?.detail).not.toHaveProperty('fallback');

    send = sendDeps();
    messages = send.messages;
    events = send.events;
    deps = { ...deps, messages, customers: send.customers, events, outbound: send };
    await sentSms();
    await send.customers.setCustomerConsent(tenantId, 'cust-42', 'email', {
      status: 'opted_out',
      at: '2025-06-01T00:00:00.000Z',
    });
    await recordDeliveryReport(deps, smsFailure());
    expect(send.email.sent).toEqual([]);
    expect((await smsMessage())?.status).toBe('failed');
  });

  it('tries the fallback again on a redelivery when the provider provably did not take it, sending once', async () => {
    await sentSms();
    send.email.failNext('unavailable', 3);

    await expect(recordDeliveryReport(deps, smsFailure())).rejects.toThrow();
    expect((await smsMessage())?.status).toBe('failed');
    await recordDeliveryReport(deps, smsFailure());

    expect(send.email.sent).toHaveLength(1);
    expect((await smsMessage())?.fallback?.channel).toBe('email');
  });

  it('sends a permanently bounced email by SMS, and suppresses the address', async () => {
    await sentEmail({ requested: 'auto' });
    send.customers.seed({ tenantId, customerId: 'cust-42', phone, email });

    await recordDeliveryReport(
      deps,
      report({ outcome: 'failed', reason: 'bounce', permanent: true, detail: { bounceType: 'Permanent' } }),
    );

    expect(send.sms.sent).toEqual([
      expect.objectContaining({ to: phone, body: 'Did you pay $420.00 at ACME?\nReply Y if this was you.' }),
    ]);
    const customer = await send.customers.getCustomer(tenantId, 'cust-42');
    expect(customer?.consent.email).toMatchObject({ status: 'suppressed', reason: 'bounce' });
  });

  it('opts the address out on a complaint, announcing consent.changed once for the same report twice', async () => {
    await sentEmail();
    send.customers.seed({ tenantId, customerId: 'cust-42', email });
    const complaint = report({ outcome: 'delivered', reason: 'complaint', permanent: true, detail: {} });

    await recordDeliveryReport(deps, complaint);
    await recordDeliveryReport(deps, { ...complaint, occurredAt: '2025-06-02T12:00:09.000Z' });

    const customer = await send.customers.getCustomer(tenantId, 'cust-42');
    expect(customer?.consent.email).toMatchObject({ status: 'opted_out', reason: 'complaint' });
    expect(events.types().filter((type) => type === 'consent.changed')).toHaveLength(1);
  });
});
