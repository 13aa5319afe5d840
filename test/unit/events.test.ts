import { describe, expect, it } from 'vitest';
import { eventSchemas, InvalidEventError, validateEvent } from '../../functions/domain/event-schemas.ts';
import {
  eventDescriptions,
  eventTypes,
  type ParleyEvent,
  type ParleyEventType,
  parleyEvent,
} from '../../functions/domain/events.ts';
import type { ParleyEvent as PortEvent } from '../../functions/domain/ports.ts';

const messageId = 'msg_01J9Z8Q4W6X7Y8Z9A0B1C2D3E4';
const base = { tenantId: 'demo-bank', customerId: 'cust-42', occurredAt: '2025-03-01T10:00:00.000Z' };
const context = {
  recentMessages: [
    { direction: 'outbound', channel: 'sms', body: 'Was this you?', createdAt: '2025-03-01T09:59:00.000Z' },
  ],
  openPrompts: [],
  answeredPrompts: [{ messageId, answer: 'yes', at: '2025-03-01T09:59:30.000Z', reference: 'txn-987' }],
  references: ['txn-987'],
};

/** A well-formed detail of each type, and a field it cannot do without. */
const examples: Record<ParleyEventType, { detail: Record<string, unknown>; required: string }> = {
  'message.scheduled': {
    detail: { ...base, messageId, channel: 'sms', scheduledFor: '2025-03-01T08:00:00.000Z' },
    required: 'scheduledFor',
  },
  'message.queued': { detail: { ...base, messageId, channel: 'sms', reference: 'txn-987' }, required: 'channel' },
  'message.sent': { detail: { ...base, messageId, channel: 'email', providerMessageId: 'p-1' }, required: 'messageId' },
  'message.delivered': { detail: { ...base, messageId, channel: 'sms' }, required: 'occurredAt' },
  'message.failed': {
    detail: {
      ...base,
      messageId,
      channel: 'sms',
      reason: 'carrier_unreachable',
      fallback: { messageId: 'msg_01J9Z8Q4W6X7Y8Z9A0B1C2D3E5', channel: 'email' },
    },
    required: 'reason',
  },
  'message.unknown': { detail: { ...base, messageId, channel: 'sms' }, required: 'tenantId' },
  'message.cancelled': {
    detail: { ...base, messageId, channel: 'email', previousStatus: 'scheduled' },
    required: 'customerId',
  },
  'batch.completed': {
    detail: { ...base, batchId: 'batch-1', total: 3, counts: { sent: 2, failed: 1 } },
    required: 'counts',
  },
  'prompt.verification_failed': {
    detail: { ...base, messageId, promptMessageId: messageId, channel: 'sms', reason: 'wrong_code', attempts: 3 },
    required: 'promptMessageId',
  },
  'message.received': { detail: { ...base, messageId, channel: 'chat', body: 'hello?' }, required: 'body' },
  'prompt.answered': {
    detail: {
      ...base,
      messageId,
      reference: 'txn-987',
      promptMessageId: messageId,
      answer: 'yes',
      raw: 'Y',
      channel: 'email',
      verification: { method: 'code', verifiedAt: '2025-03-01T10:01:00.000Z' },
    },
    required: 'answer',
  },
  'prompt.expired': {
    detail: { ...base, messageId, promptMessageId: messageId, raw: 'y', channel: 'sms' },
    required: 'raw',
  },
  'keyword.received': {
    detail: { ...base, messageId, keyword: 'BAL', raw: 'bal', channel: 'sms' },
    required: 'keyword',
  },
  'consent.changed': {
    detail: { ...base, channel: 'email', status: 'suppressed', reason: 'bounce' },
    required: 'status',
  },
  'callback.requested': {
    detail: { ...base, callbackId: 'cb_01J9Z8Q4W6X7Y8Z9A0B1C2D3E4', keyword: 'CALL', context },
    required: 'context',
  },
  'callback.completed': {
    detail: { ...base, callbackId: 'cb_01J9Z8Q4W6X7Y8Z9A0B1C2D3E4', note: 'Called back', context },
    required: 'callbackId',
  },
  'chat.started': { detail: { ...base, sessionId: 'chat_01J9Z8Q4W6X7Y8Z9A0B1C2D3E4' }, required: 'sessionId' },
  'chat.ended': { detail: { ...base, sessionId: 'chat_01J9Z8Q4W6X7Y8Z9A0B1C2D3E4' }, required: 'sessionId' },
};

const without = (detail: Record<string, unknown>, field: string) =>
  Object.fromEntries(Object.entries(detail).filter(([key]) => key !== field));

const refusal = (event: { type: string; detail: unknown }): InvalidEventError => {
  try {
    validateEvent(event);
  } catch (error) {
    if (error instanceof InvalidEventError) return error;
    throw error;
  }
  throw new Error('expected the event to be refused');
};

describe('event catalogue', () => {
  it('has one schema, and one description, for each event of DESIGN section 6', () => {
    expect([...eventTypes].sort()).toEqual(
      [
        'message.scheduled',
        'message.queued',
        'message.sent',
        'message.delivered',
        'message.failed',
        'message.unknown',
        'message.cancelled',
        'batch.completed',
        'prompt.verification_failed',
        'message.received',
        'prompt.answered',
        'prompt.expired',
        'keyword.received',
        'consent.changed',
        'callback.requested',
        'callback.completed',
        'chat.started',
        'chat.ended',
      ].sort(),
    );
    expect(Object.keys(eventDescriptions).sort()).toEqual([...eventTypes].sort());
  });

  describe.each(eventTypes)('%s', (type) => {
    const { detail, required } = examples[type];

    it('accepts a well-formed detail', () => {
      expect(validateEvent({ type, detail })).toEqual({ type, detail });
    });

    it.each(['tenantId', 'customerId', 'occurredAt', required])('refuses a detail without %s', (field) => {
      const error = refusal({ type, detail: without(detail, field) });

      expect(error.issues.map((issue) => issue.path.join('.'))).toContain(field);
    });

    it('refuses a field the catalogue does not name', () => {
      expect(refusal({ type, detail: { ...detail, surprise: true } }).message).toContain('surprise');
    });

    it('refuses an occurredAt that is not an ISO time', () => {
      expect(refusal({ type, detail: { ...detail, occurredAt: 'yesterday' } }).issues[0]?.path).toEqual(['occurredAt']);
    });
  });

  it('refuses a message.failed reason outside the documented list', () => {
    const { detail } = examples['message.failed'];

    expect(
      refusal({ type: 'message.failed', detail: { ...detail, reason: 'The provider rejected it' } }).issues,
    ).toEqual([expect.objectContaining({ path: ['reason'] })]);
  });

  it('refuses an event type that is not in the catalogue', () => {
    expect(refusal({ type: 'message.exploded', detail: base }).message).toMatch(/Unknown event type/);
  });

  it('builds an event with the constructor, as given, without validating it', () => {
    const detail = { ...base, messageId, channel: 'sms' as const };
    const event = parleyEvent('message.sent', detail);

    expect(event).toEqual({ type: 'message.sent', detail });
    expect(event.detail).toBe(detail);
  });

  it('builds events the publisher port accepts', () => {
    // Compile-time check: the catalogue's union is assignable to the port's event.
    const toPort = (event: ParleyEvent): PortEvent => event;
    const event = parleyEvent('chat.started', { ...base, sessionId: 'chat_01J9Z8Q4W6X7Y8Z9A0B1C2D3E4' });

    expect(toPort(event).detail.tenantId).toBe('demo-bank');
  });

  it('checks a detail against its type at compile time', () => {
    // @ts-expect-error: keyword.received needs keyword, raw and channel
    const event = parleyEvent('keyword.received', { ...base });

    expect(() => validateEvent(event)).toThrow(InvalidEventError);
    expect(Object.keys(eventSchemas)).toContain(event.type);
  });
});
