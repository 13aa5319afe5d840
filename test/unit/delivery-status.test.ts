import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyDeliveryReport,
  classifyEmailBounce,
  classifySmsFailure,
  type DeliveryOutcome,
  type DeliveryStatusReport,
  deliveryReasons,
  type FailoverSubject,
  failoverFor,
  shouldSuppress,
  smsProviderResponses,
} from '../../functions/domain/delivery-status.ts';
import { failureReasons } from '../../functions/domain/events.ts';
import type { Message, MessageStatus } from '../../functions/domain/model.ts';

const sentAt = '2026-03-02T10:20:31.118Z';

/** An outbound email as the send path leaves it, in the given status. */
const messageIn = (
  status: MessageStatus,
  overrides: Partial<Message> = {},
): Pick<Message, 'direction' | 'channel' | 'status' | 'statusHistory'> => ({
  direction: 'outbound',
  channel: 'email',
  status,
  statusHistory: [{ status, at: sentAt }],
  ...overrides,
});

const report = (outcome: DeliveryOutcome, overrides: Partial<DeliveryStatusReport> = {}): DeliveryStatusReport => ({
  channel: 'email',
  providerMessageId: '0102019c8e4f7a31-6b2d9e10-4c7a-4f58-b3e2-91d0a6c5f7e4-000000',
  parley: { messageId: 'msg_01JX3K8T5V2M9Q4R7W1Y6Z0C3B', tenantId: 'demo-bank' },
  outcome,
  permanent: false,
  recipients: ['ana.silva@example.com'],
  detail: {},
  occurredAt: '2026-03-02T10:20:33.904Z',
  ...overrides,
});

const permanentBounce = report('failed', {
  reason: 'bounce',
  permanent: true,
  detail: { bounceType: 'Permanent', bounceSubType: 'General', diagnosticCode: 'smtp; 550 5.1.1 user unknown' },
});
const smsFailure = report('failed', {
  channel: 'sms',
  reason: 'carrier_unreachable',
  recipients: ['+12025550178'],
  detail: { providerResponse: 'Phone carrier is currently unreachable/unavailable', priceInUsd: 0.01162 },
});

describe('delivery status transitions', () => {
  it('moves a sent message to delivered, keeping the provider detail in the history at the provider time', () => {
    const message = messageIn('sent');
    const delivered = report('delivered', { detail: { smtpResponse: '250 2.0.0 OK' } });

    const transition = applyDeliveryReport(message, delivered);

    expect(transition).toEqual({
      changed: true,
      previous: 'sent',
      status: 'delivered',
      entry: { status: 'delivered', at: '2026-03-02T10:20:33.904Z', detail: { smtpResponse: '250 2.0.0 OK' } },
      statusHistory: [
        { status: 'sent', at: sentAt },
        { status: 'delivered', at: '2026-03-02T10:20:33.904Z', detail: { smtpResponse: '250 2.0.0 OK' } },
      ],
    });
  });

  it('moves a sent message to failed with the reason and the bounce detail', () => {
    const message = messageIn('sent');

    const transition = applyDeliveryReport(message, permanentBounce);

    expect(transition).toMatchObject({
      changed: true,
      status: 'failed',
      entry: { status: 'failed', reason: 'bounce', detail: { bounceType: 'Permanent', bounceSubType: 'General' } },
    });
  });

  it('changes nothing on a duplicate report', () => {
    const first = applyDeliveryReport(messageIn('sent'), report('delivered'));
    if (!first.changed) throw new Error('the first delivery should apply');
    const message = messageIn('delivered', { statusHistory: first.statusHistory });

    const transition = applyDeliveryReport(message, report('delivered'));

    expect(transition).toEqual({ changed: false, why: 'duplicate' });
  });

  it('applies a delivery that arrives before sent was recorded', () => {
    const message = messageIn('sending');

    const transition = applyDeliveryReport(message, report('delivered'));

    expect(transition).toMatchObject({ changed: true, previous: 'sending', status: 'delivered' });
  });

  it('never moves a delivered message back to sent (a late Send or DeliveryDelay)', () => {
    const message = messageIn('delivered');

    const late = [report('sent-confirmation'), report('delayed')].map((r) => applyDeliveryReport(message, r));

    expect(late).toEqual([
      { changed: false, why: 'late' },
      { changed: false, why: 'late' },
    ]);
  });

  it.each([
    ['delivered', 'delivered'],
    ['failed', 'failed'],
    ['sent-confirmation', 'sent'],
    ['delayed', 'sent'],
  ] as const)('settles an unknown message with a %s report', (outcome, status) => {
    const message = messageIn('unknown');

    const transition = applyDeliveryReport(message, report(outcome, outcome === 'failed' ? { reason: 'bounce' } : {}));

    expect(transition).toMatchObject({ changed: true, previous: 'unknown', status });
  });

  it('changes nothing when a delay is reported for a message already sent', () => {
    const message = messageIn('sent');

    const transition = applyDeliveryReport(message, report('delayed', { detail: { delayType: 'MailboxFull' } }));

    expect(transition).toEqual({ changed: false, why: 'duplicate' });
  });

  it('ignores a delivery after a failure: the first final outcome was announced', () => {
    const message = messageIn('failed');

    const transition = applyDeliveryReport(message, report('delivered'));

    expect(transition).toEqual({ changed: false, why: 'late' });
  });

  it('ignores a failure after a delivery (an asynchronous bounce) for the status', () => {
    const message = messageIn('delivered');

    const transition = applyDeliveryReport(message, permanentBounce);

    expect(transition).toEqual({ changed: false, why: 'late' });
  });

  it.each([
    ['an inbound message', messageIn('received', { direction: 'inbound' })],
    ['a cancelled message', messageIn('cancelled')],
  ])('does not apply to %s', (_what, message) => {
    expect(applyDeliveryReport(message, report('delivered'))).toEqual({ changed: false, why: 'not-applicable' });
  });

  it('does not apply a report about another channel than the message', () => {
    const message = messageIn('sent', { channel: 'sms' });

    const transition = applyDeliveryReport(message, report('delivered'));

    expect(transition).toEqual({ changed: false, why: 'wrong-channel' });
  });

  it('moves forward only, whatever the order and repetition of reports', () => {
    const outcomes = fc.constantFrom<DeliveryOutcome>('sent-confirmation', 'delayed', 'delivered', 'failed');
    const rank: Partial<Record<MessageStatus, number>> = { sending: 1, unknown: 1, sent: 2, delivered: 3, failed: 3 };
    fc.assert(
      fc.property(fc.constantFrom<MessageStatus>('sending', 'unknown', 'sent'), fc.array(outcomes), (start, seen) => {
        let message = messageIn(start);
        let finalStatus: MessageStatus | undefined;
        for (const outcome of seen) {
          const transition = applyDeliveryReport(message, report(outcome));
          if (!transition.changed) continue;
          expect(rank[transition.status]).toBeGreaterThan(rank[message.status] as number);
          expect(finalStatus).toBeUndefined();
          if (rank[transition.status] === 3) finalStatus = transition.status;
          message = { ...message, status: transition.status, statusHistory: transition.statusHistory };
        }
        expect(message.statusHistory.length).toBeLessThanOrEqual(3);
      }),
    );
  });
});

describe('delivery reasons', () => {
  it('are all reasons message.failed can carry', () => {
    expect(deliveryReasons.filter((reason) => !(failureReasons as readonly string[]).includes(reason))).toEqual([]);
  });

  it.each(Object.entries(smsProviderResponses))(
    'reads the SNS provider response %j by its table entry',
    (providerResponse, expected) => {
      expect(classifySmsFailure(providerResponse)).toEqual(expected);
    },
  );

  it.each([
    ['Phone number is opted out of SMS', 'opted_out', true],
    ['MESSAGE EXPIRED', 'ttl_expired', false],
    ['Destination carrier temporarily unavailable', 'carrier_unreachable', false],
    ['', 'unknown_error', false],
    [undefined, 'unknown_error', false],
  ])('reads an SNS provider response outside the table (%j) by what it says', (text, reason, permanent) => {
    expect(classifySmsFailure(text)).toEqual({ reason, permanent });
  });

  it.each([
    ['Permanent', 'General', 'bounce', true],
    ['Permanent', 'SomethingNew', 'bounce', true],
    ['Permanent', undefined, 'bounce', true],
    ['Permanent', 'OnAccountSuppressionList', 'suppressed', true],
    ['Transient', 'MailboxFull', 'bounce', false],
    ['Transient', 'AttachmentRejected', 'rejected', false],
    ['Undetermined', 'Undetermined', 'bounce', false],
  ] as const)('reads an SES %s/%s bounce as %s (permanent: %s)', (type, subType, reason, permanent) => {
    expect(classifyEmailBounce(type, subType)).toEqual({ reason, permanent });
  });
});

describe('suppression', () => {
  it('suppresses the bounced address for email on a permanent bounce, even after a delivery', () => {
    const bounce = permanentBounce;

    const decision = shouldSuppress(bounce);

    expect(decision).toEqual({
      channel: 'email',
      status: 'suppressed',
      reason: 'bounce',
      addresses: ['ana.silva@example.com'],
    });
  });

  it('suppresses an address SES already keeps on its suppression list', () => {
    const suppressed = report('failed', { reason: 'suppressed', permanent: true });

    expect(shouldSuppress(suppressed)).toMatchObject({ status: 'suppressed', reason: 'bounce' });
  });

  it.each([
    ['on a delivered mail', report('delivered', { reason: 'complaint', permanent: true })],
    ['on a mail refused for an earlier complaint', report('failed', { reason: 'complaint', permanent: true })],
  ])('opts the address out of email on a complaint %s', (_what, complaint) => {
    expect(shouldSuppress(complaint)).toEqual({
      channel: 'email',
      status: 'opted_out',
      reason: 'complaint',
      addresses: ['ana.silva@example.com'],
    });
  });

  it.each([
    ['a transient bounce', report('failed', { reason: 'bounce', permanent: false })],
    ['a reject', report('failed', { reason: 'rejected' })],
    ['a rendering failure', report('failed', { reason: 'rendering_failed' })],
    ['a delivery', report('delivered')],
    ['a delay', report('delayed')],
    ['an SMS failure, even a permanent one', report('failed', { ...smsFailure, reason: 'opted_out', permanent: true })],
    ['a bounce naming no address', { ...permanentBounce, recipients: [] }],
  ])('leaves consent alone on %s', (_what, given) => {
    expect(shouldSuppress(given)).toBeUndefined();
  });
});

describe('failover', () => {
  const failedSms: FailoverSubject = { channel: 'sms', status: 'failed', requested: 'auto' };
  const failedEmail: FailoverSubject = { channel: 'email', status: 'failed', requested: 'auto' };

  it('sends a failed SMS by email under auto', () => {
    expect(failoverFor(failedSms, smsFailure)).toEqual({ channel: 'email', reason: 'carrier_unreachable' });
  });

  it('sends a permanently bounced email by SMS under auto', () => {
    expect(failoverFor(failedEmail, permanentBounce)).toEqual({ channel: 'sms', reason: 'bounce' });
  });

  it.each([
    ['a transient bounce', report('failed', { reason: 'bounce', permanent: false })],
    ['a reject', report('failed', { reason: 'rejected' })],
    ['a rendering failure', report('failed', { reason: 'rendering_failed' })],
  ])('keeps an email that failed by %s on email', (_what, failure) => {
    expect(failoverFor(failedEmail, failure)).toBeUndefined();
  });

  it.each([
    ['a channel the send named', { ...failedSms, requested: 'sms' as const }],
    [
      'a message that already has a fallback',
      { ...failedSms, fallback: { messageId: 'msg_X', channel: 'email' as const } },
    ],
    ['a message that is itself a fallback', { ...failedSms, fallbackFor: 'msg_01JX3K8T5V2M9Q4R7W1Y6Z0C3B' }],
    ['a failure ignored after a delivery', { ...failedSms, status: 'delivered' as const }],
  ])('does not fail over %s', (_what, message) => {
    expect(failoverFor(message, smsFailure)).toBeUndefined();
  });

  it('does not fail over on a report about another channel', () => {
    expect(failoverFor(failedEmail, smsFailure)).toBeUndefined();
  });
});
