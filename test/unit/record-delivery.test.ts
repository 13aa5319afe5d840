import { beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryStatusReport } from '../../functions/domain/delivery-status.ts';
import type { Message } from '../../functions/domain/model.ts';
import { recordDeliveryReport } from '../../functions/domain/record-delivery.ts';
import { InMemoryMessageStore, RecordingEventPublisher, tenantId } from './fakes.ts';

const messageId = 'msg_01JXDELIVERY00000000000001';
let messages: InMemoryMessageStore;
let events: RecordingEventPublisher;

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
  messages = new InMemoryMessageStore();
  events = new RecordingEventPublisher();
});

describe('recording a delivery report', () => {
  it('moves a sent email to delivered, keeps the provider detail, and announces message.delivered', async () => {
    // Prepare
    await sentEmail();

    // Act
    const outcome = await recordDeliveryReport({ messages, events }, report());

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

    await recordDeliveryReport({ messages, events }, report());
    const again = await recordDeliveryReport({ messages, events }, report());

    expect(again).toEqual({ outcome: 'unchanged', messageId, why: 'duplicate' });
    expect((await stored())?.statusHistory.map((s) => s.status)).toEqual(['sending', 'sent', 'delivered']);
    expect(events.events.map((e) => e.type)).toEqual(['message.delivered', 'message.delivered']);
  });

  it('ignores a send confirmation that arrives after the delivery (out of order): no change, no event', async () => {
    await sentEmail();
    await recordDeliveryReport({ messages, events }, report());

    const late = await recordDeliveryReport(
      { messages, events },
      report({ outcome: 'sent-confirmation', detail: {}, occurredAt: '2025-06-02T12:00:01.000Z' }),
    );

    expect(late).toEqual({ outcome: 'unchanged', messageId, why: 'late' });
    expect((await stored())?.status).toBe('delivered');
    expect(events.events).toHaveLength(1);
  });

  it('records a permanent bounce as failed with its reason and diagnostic in message.failed', async () => {
    await sentEmail();

    await recordDeliveryReport(
      { messages, events },
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
        type: 'message.failed',
        detail: expect.objectContaining({ reason: 'bounce', description: 'smtp; 550 5.1.1 user unknown' }),
      }),
    ]);
  });

  it('settles a message whose outcome was unknown with message.sent once SES confirms it took it', async () => {
    await sentEmail({ status: 'unknown', statusHistory: [{ status: 'unknown', at: '2025-06-02T12:00:00.100Z' }] });

    const outcome = await recordDeliveryReport({ messages, events }, report({ outcome: 'sent-confirmation' }));

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
    const outcome = await recordDeliveryReport({ messages, events }, report());

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

    const outcome = await recordDeliveryReport(
      { messages, events },
      report(overrides as Partial<DeliveryStatusReport>),
    );

    expect(outcome.outcome).toBe('unmatched');
    expect((await stored())?.status).toBe('sent');
    expect(events.events).toEqual([]);
  });
});
