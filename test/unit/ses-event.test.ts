import { readFileSync } from 'node:fs';
import type { SNSEvent, SNSEventRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  parleyMessageIdTag,
  parleyTenantIdTag,
  parseEmailDeliveryEvent,
} from '../../functions/adapters/email/ses-event.ts';
import { UnprocessableInboundError } from '../../functions/adapters/unprocessable-inbound.ts';

type SesEventRecord = Record<string, unknown> & { mail: Record<string, unknown> & { tags: Record<string, string[]> } };

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../fixtures/delivery-status/${name}`, import.meta.url), 'utf8')) as T;
const envelope = fixture<SNSEvent>('ses-event-sns-envelope.json').Records[0] as SNSEventRecord;
const sesEvent = (name: string) => fixture<SesEventRecord>(`ses-${name}.json`);

/** The SNS record that carries an SES event (or any text) as its `Message`. */
const recordOf = (message: unknown): SNSEventRecord => ({
  ...envelope,
  Sns: { ...envelope.Sns, Message: typeof message === 'string' ? message : JSON.stringify(message) },
});

const sesMessageId = '0102019c8e4f7a31-6b2d9e10-4c7a-4f58-b3e2-91d0a6c5f7e4-000000';
const parley = { messageId: 'msg_01JX3K8T5V2M9Q4R7W1Y6Z0C3B', tenantId: 'demo-bank' };

describe('SES event publishing through SNS', () => {
  it('reads a Delivery as delivered, named by the message tags, with the SMTP response', () => {
    const record = envelope;

    const report = parseEmailDeliveryEvent(record);

    expect(report).toEqual({
      channel: 'email',
      providerMessageId: sesMessageId,
      parley,
      outcome: 'delivered',
      permanent: false,
      recipients: ['ana.silva@example.com'],
      detail: { smtpResponse: '250 2.0.0 OK  1772446833 d9443c01a7336-2f3a1c8e5b0sm4417285ad.41 - gsmtp' },
      occurredAt: '2026-03-02T10:20:33.904Z',
    });
  });

  it('reads a permanent bounce as a permanent failure, with the bounce type and the diagnostic', () => {
    const record = recordOf(sesEvent('bounce-permanent'));

    const report = parseEmailDeliveryEvent(record);

    expect(report).toEqual({
      channel: 'email',
      providerMessageId: sesMessageId,
      parley,
      outcome: 'failed',
      reason: 'bounce',
      permanent: true,
      recipients: ['ana.silva@example.com'],
      detail: {
        bounceType: 'Permanent',
        bounceSubType: 'General',
        diagnosticCode: 'smtp; 550 5.1.1 <Ana.Silva@example.com>: Recipient address rejected: mailbox does not exist',
        enhancedStatus: '5.1.1',
      },
      occurredAt: '2026-03-02T10:20:34.552Z',
    });
  });

  it('reads a transient bounce as a failure of the message that leaves the address usable', () => {
    const record = recordOf(sesEvent('bounce-transient'));

    const report = parseEmailDeliveryEvent(record);

    expect(report).toMatchObject({
      outcome: 'failed',
      reason: 'bounce',
      permanent: false,
      detail: { bounceType: 'Transient', bounceSubType: 'MailboxFull', enhancedStatus: '4.2.2' },
      occurredAt: '2026-03-02T22:41:09.130Z',
    });
  });

  it.each([
    ['Permanent', 'OnAccountSuppressionList', 'suppressed', true],
    ['Permanent', 'Suppressed', 'suppressed', true],
    ['Permanent', 'NoEmail', 'bounce', true],
    ['Transient', 'MessageTooLarge', 'message_too_long', false],
    ['Transient', 'ContentRejected', 'rejected', false],
    ['Undetermined', 'Undetermined', 'bounce', false],
  ])('maps a %s/%s bounce to %s (permanent: %s)', (bounceType, bounceSubType, reason, permanent) => {
    const bounce = sesEvent('bounce-permanent');
    const record = recordOf({ ...bounce, bounce: { ...(bounce.bounce as object), bounceType, bounceSubType } });

    const report = parseEmailDeliveryEvent(record);

    expect(report).toMatchObject({ outcome: 'failed', reason, permanent });
  });

  it('reads a complaint as a delivered mail whose address complained', () => {
    const record = recordOf(sesEvent('complaint'));

    const report = parseEmailDeliveryEvent(record);

    expect(report).toMatchObject({
      outcome: 'delivered',
      reason: 'complaint',
      permanent: true,
      recipients: ['ana.silva@example.com'],
      detail: { complaintFeedbackType: 'abuse' },
      occurredAt: '2026-03-02T11:02:17.000Z',
    });
  });

  it('reads a complaint SES raised for an address it suppresses as a failure, not a delivery', () => {
    const complaint = sesEvent('complaint');
    const record = recordOf({
      ...complaint,
      complaint: { ...(complaint.complaint as object), complaintSubType: 'OnAccountSuppressionList' },
    });

    const report = parseEmailDeliveryEvent(record);

    expect(report).toMatchObject({ outcome: 'failed', reason: 'complaint', permanent: true });
  });

  it('reads a "not-spam" feedback report as a plain delivery', () => {
    const complaint = sesEvent('complaint');
    const record = recordOf({
      ...complaint,
      complaint: { ...(complaint.complaint as object), complaintFeedbackType: 'not-spam' },
    });

    const report = parseEmailDeliveryEvent(record);

    expect(report).toMatchObject({ outcome: 'delivered', permanent: false });
    expect(report).not.toHaveProperty('reason');
  });

  it('reads a Reject as a failure of the content, at the time of the send', () => {
    const record = recordOf(sesEvent('reject'));

    const report = parseEmailDeliveryEvent(record);

    expect(report).toMatchObject({
      outcome: 'failed',
      reason: 'rejected',
      permanent: false,
      recipients: ['ana.silva@example.com'],
      detail: { providerResponse: 'Bad content' },
      occurredAt: '2026-03-02T10:20:31.118Z',
    });
  });

  it('reads a DeliveryDelay as delayed, with the delay type and the diagnostic', () => {
    const record = recordOf(sesEvent('delivery-delay'));

    const report = parseEmailDeliveryEvent(record);

    expect(report).toEqual({
      channel: 'email',
      providerMessageId: sesMessageId,
      parley,
      outcome: 'delayed',
      permanent: false,
      recipients: ['ana.silva@example.com'],
      detail: {
        delayType: 'MailboxFull',
        diagnosticCode: 'smtp; 452 4.2.2 Mailbox full, try again later',
        enhancedStatus: '4.2.2',
      },
      occurredAt: '2026-03-02T10:50:35.271Z',
    });
  });

  it.each(['Rendering Failure', 'RenderingFailure'])('reads a %j event as a rendering failure', (eventType) => {
    const record = recordOf({ ...sesEvent('rendering-failure'), eventType });

    const report = parseEmailDeliveryEvent(record);

    expect(report).toMatchObject({
      outcome: 'failed',
      reason: 'rendering_failed',
      permanent: false,
      detail: { providerResponse: "Attribute 'merchant' is not present in the rendering data." },
    });
  });

  it('reads a Send as the confirmation that SES took the message', () => {
    const record = recordOf(sesEvent('send'));

    const report = parseEmailDeliveryEvent(record);

    expect(report).toEqual({
      channel: 'email',
      providerMessageId: sesMessageId,
      parley,
      outcome: 'sent-confirmation',
      permanent: false,
      recipients: ['ana.silva@example.com'],
      detail: {},
      occurredAt: '2026-03-02T10:20:31.118Z',
    });
  });

  it.each([
    ['no Parley tags', [parleyMessageIdTag, parleyTenantIdTag], {}],
    ['only the message id tag', [parleyTenantIdTag], {}],
    ['a message id tag that is not a Parley id', [], { [parleyMessageIdTag]: ['not-a-parley-id'] }],
  ])('names the message by the SES id only when it has %s', (_what, dropped, replaced) => {
    const delivery = sesEvent('delivery');
    const tags: Record<string, string[]> = { ...delivery.mail.tags, ...replaced };
    for (const name of dropped) delete tags[name];
    const record = recordOf({ ...delivery, mail: { ...delivery.mail, tags } });

    const report = parseEmailDeliveryEvent(record);

    expect(report).toMatchObject({ providerMessageId: sesMessageId, outcome: 'delivered' });
    expect(report).not.toHaveProperty('parley');
  });

  it('reads an event whose mail has no tags at all', () => {
    const { tags: _tags, ...mail } = sesEvent('delivery').mail;
    const record = recordOf({ ...sesEvent('delivery'), mail });

    const report = parseEmailDeliveryEvent(record);

    expect(report).toMatchObject({ providerMessageId: sesMessageId, outcome: 'delivered' });
    expect(report).not.toHaveProperty('parley');
  });

  it.each([
    ['the topic validation notice', 'Successfully validated SNS topic for Amazon SES event publishing.'],
    ['an Open event', { ...sesEvent('delivery'), eventType: 'Open', open: { timestamp: '2026-03-02T10:25:00Z' } }],
    ['a Click event', { ...sesEvent('delivery'), eventType: 'Click' }],
  ])('reports nothing for %s', (_what, message) => {
    expect(parseEmailDeliveryEvent(recordOf(message))).toBeUndefined();
  });

  it.each([
    ['not JSON', '{"eventType":'],
    ['an unknown event type', { ...sesEvent('delivery'), eventType: 'Bounced' }],
    ['a bounce without recipients', { ...sesEvent('bounce-permanent'), bounce: { bounceType: 'Permanent' } }],
    ['an event without mail', { eventType: 'Delivery', delivery: { timestamp: '2026-03-02T10:20:33Z' } }],
    ['an inbound receipt', { notificationType: 'Received', mail: sesEvent('delivery').mail }],
  ])('refuses %s as unprocessable', (_what, message) => {
    expect(() => parseEmailDeliveryEvent(recordOf(message))).toThrow(UnprocessableInboundError);
  });
});
