import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../functions/domain/event-schemas.ts';
import { parleyEvent } from '../../functions/domain/events.ts';
import {
  classifyWebhookAttempt,
  parseRetryAfter,
  rotateWebhookSecrets,
  serializeWebhookBody,
  signingSecrets,
  type WebhookSecret,
  webhookBody,
  webhookMaxAttempts,
  webhookMessageId,
  webhookRetryDelay,
} from '../../functions/domain/webhooks.ts';

const messageId = 'msg_01J9Z8Q4W6X7Y8Z9A0B1C2D3E4';
const delivered = parleyEvent('message.delivered', {
  tenantId: 'demo-bank',
  customerId: 'cust-42',
  occurredAt: '2025-03-01T10:00:00.000Z',
  messageId,
  channel: 'sms',
  reference: 'txn-987',
});
const hour = 3_600_000;

describe('webhook delivery body', () => {
  it('is {type, timestamp, data} with the event detail as data and its occurredAt as timestamp', () => {
    // Act
    const body = webhookBody(delivered);

    // Assess
    expect(Object.keys(body)).toEqual(['type', 'timestamp', 'data']);
    expect(body).toEqual({ type: 'message.delivered', timestamp: '2025-03-01T10:00:00.000Z', data: delivered.detail });
    expect(validateEvent({ type: body.type, detail: body.data })).toEqual(delivered);
  });

  it('serialises as minified JSON that parses back to the body', () => {
    const text = serializeWebhookBody(delivered);

    expect(text).not.toMatch(/\n|": /);
    expect(JSON.parse(text)).toEqual(webhookBody(delivered));
  });
});

describe('webhook-id', () => {
  it('is the same for every delivery of one event to one endpoint, even rebuilt with its fields in another order', () => {
    // Prepare
    const rebuilt = parleyEvent('message.delivered', {
      reference: 'txn-987',
      channel: 'sms',
      messageId,
      occurredAt: '2025-03-01T10:00:00.000Z',
      customerId: 'cust-42',
      tenantId: 'demo-bank',
    });

    // Act
    const first = webhookMessageId(delivered, 'whep_1');
    const again = webhookMessageId(rebuilt, 'whep_1');

    // Assess
    expect(first).toMatch(/^whmsg_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(again).toBe(first);
  });

  it('differs between endpoints and between events', () => {
    const other = parleyEvent('message.delivered', { ...delivered.detail, occurredAt: '2025-03-01T10:00:01.000Z' });

    const ids = new Set([
      webhookMessageId(delivered, 'whep_1'),
      webhookMessageId(delivered, 'whep_2'),
      webhookMessageId(other, 'whep_1'),
    ]);

    expect(ids.size).toBe(3);
  });
});

describe('webhook retry schedule', () => {
  it.each([
    [1, 5_000],
    [2, 5 * 60_000],
    [3, 30 * 60_000],
    [4, 2 * hour],
    [5, 5 * hour],
    [6, 10 * hour],
  ])('waits after failed attempt %i for %i ms', (attempt, delay) => {
    expect(webhookRetryDelay(attempt)).toBe(delay);
  });

  it('gives up after the seventh attempt, about 17.5 hours after the first', () => {
    // Act
    const delays = Array.from({ length: webhookMaxAttempts - 1 }, (_, i) => webhookRetryDelay(i + 1) as number);

    // Assess
    expect(webhookMaxAttempts).toBe(7);
    expect(webhookRetryDelay(7)).toBe('give_up');
    expect(delays.reduce((a, b) => a + b, 0)).toBe(17 * hour + 35 * 60_000 + 5_000);
  });

  it('spreads each wait by at most 10% with jitter', () => {
    expect(webhookRetryDelay(4, { random: 0 })).toBe(1.8 * hour);
    expect(webhookRetryDelay(4, { random: 0.999999 })).toBeCloseTo(2.2 * hour, -1);
  });

  it("honours a longer Retry-After, up to the schedule's longest step, never a shorter one", () => {
    expect(webhookRetryDelay(1, { retryAfterMs: 120_000 })).toBe(120_000);
    expect(webhookRetryDelay(2, { retryAfterMs: 1_000 })).toBe(5 * 60_000);
    expect(webhookRetryDelay(1, { retryAfterMs: 7 * 24 * hour })).toBe(10 * hour);
  });

  it('refuses an attempt number that is not a positive integer', () => {
    expect(() => webhookRetryDelay(0)).toThrow(RangeError);
    expect(() => webhookRetryDelay(1.5)).toThrow(RangeError);
  });
});

describe('webhook attempt outcome', () => {
  it.each([
    [{ status: 200 }, { kind: 'delivered' }],
    [{ status: 204 }, { kind: 'delivered' }],
    [{ status: 299 }, { kind: 'delivered' }],
    [{ status: 410 }, { kind: 'disable_endpoint' }],
    [{ status: 301 }, { kind: 'retry', throttle: false }],
    [{ status: 400 }, { kind: 'retry', throttle: false }],
    [{ status: 401 }, { kind: 'retry', throttle: false }],
    [{ status: 404 }, { kind: 'retry', throttle: false }],
    [{ status: 408 }, { kind: 'retry', throttle: false }],
    [{ status: 429 }, { kind: 'retry', throttle: true }],
    [{ status: 500 }, { kind: 'retry', throttle: false }],
    [{ status: 502 }, { kind: 'retry', throttle: true }],
    [{ status: 503 }, { kind: 'retry', throttle: true }],
    [{ status: 504 }, { kind: 'retry', throttle: true }],
    [{ error: 'timeout' }, { kind: 'retry', throttle: false }],
    [{ error: 'connection' }, { kind: 'retry', throttle: false }],
  ] as const)('%j means %j', (result, outcome) => {
    expect(classifyWebhookAttempt(result)).toEqual(outcome);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-03-01T10:00:00.000Z');

    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Sat, 01 Mar 2025 10:05:00 GMT', now)).toBe(5 * 60_000);
    expect(parseRetryAfter('Sat, 01 Mar 2025 09:00:00 GMT', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('webhook secret rotation', () => {
  const t0 = Date.parse('2025-03-01T00:00:00.000Z');
  const original: WebhookSecret[] = [{ secret: 'whsec_old', createdAt: t0 }];

  it('signs with the new and the old secret for 24 hours after a rotation, then with the new one only', () => {
    // Prepare
    const rotatedAt = t0 + 30 * 24 * hour;

    // Act
    const secrets = rotateWebhookSecrets(original, 'whsec_new', rotatedAt);

    // Assess
    const names = (now: number) => signingSecrets(secrets, now).map((s) => s.secret);
    expect(names(rotatedAt - 1)).toEqual(['whsec_old']);
    expect(names(rotatedAt)).toEqual(['whsec_new', 'whsec_old']);
    expect(names(rotatedAt + 24 * hour - 1)).toEqual(['whsec_new', 'whsec_old']);
    expect(names(rotatedAt + 24 * hour)).toEqual(['whsec_new']);
  });

  it('keeps an earlier retirement on a second rotation and drops the secrets already retired', () => {
    // Prepare
    const first = rotateWebhookSecrets(original, 'whsec_mid', t0 + hour);

    // Act
    const soon = rotateWebhookSecrets(first, 'whsec_new', t0 + 2 * hour);
    const later = rotateWebhookSecrets(first, 'whsec_new', t0 + 48 * hour);

    // Assess
    expect(soon.find((s) => s.secret === 'whsec_old')?.retiresAt).toBe(t0 + 25 * hour);
    expect(soon.find((s) => s.secret === 'whsec_mid')?.retiresAt).toBe(t0 + 26 * hour);
    expect(later.map((s) => s.secret)).toEqual(['whsec_new', 'whsec_mid']);
  });
});
