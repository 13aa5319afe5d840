import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signWebhook, signWebhookForEndpoint } from '../../functions/adapters/webhooks/signer.ts';
import { parleyEvent } from '../../functions/domain/events.ts';
import {
  rotateWebhookSecrets,
  serializeWebhookBody,
  type WebhookSecret,
  webhookMessageId,
} from '../../functions/domain/webhooks.ts';

const event = parleyEvent('prompt.answered', {
  tenantId: 'demo-bank',
  customerId: 'cust-42',
  occurredAt: '2025-03-01T10:00:00.000Z',
  promptMessageId: 'msg_01J9Z8Q4W6X7Y8Z9A0B1C2D3E4',
  answer: 'yes',
  raw: 'Yes ✓ 😀',
  channel: 'sms',
});
const body = serializeWebhookBody(event);
const id = webhookMessageId(event, 'whep_1');
const hour = 3_600_000;

describe('webhook signing', () => {
  it("signs so that the Standard Webhooks library's own verify accepts the body", () => {
    // Prepare
    const secret = newWebhookSecret();

    // Act
    const headers = signWebhook({ id, body, timestamp: new Date() }, [secret]);

    // Assess
    expect(headers['webhook-id']).toBe(id);
    expect(headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('signs the base64 HMAC-SHA256 of id.timestamp.body with the decoded secret, as the specification says', () => {
    // Prepare
    const secret = newWebhookSecret();
    const timestamp = new Date('2025-03-01T10:00:07.900Z');

    // Act
    const headers = signWebhook({ id, body, timestamp }, [secret]);

    // Assess
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key).update(`${id}.1740823207.${body}`, 'utf8').digest('base64');
    expect(headers['webhook-timestamp']).toBe('1740823207');
    expect(headers['webhook-signature']).toBe(`v1,${expected}`);
  });

  it('is refused by the verifier when the body, the id or the secret differs', () => {
    // Prepare
    const secret = newWebhookSecret();
    const headers = signWebhook({ id, body, timestamp: new Date() }, [secret]);

    // Act
    const tamperedBody = () => new Webhook(secret).verify(body.replace('yes', 'no'), { ...headers });
    const otherId = () => new Webhook(secret).verify(body, { ...headers, 'webhook-id': `${id}X` });
    const otherSecret = () => new Webhook(newWebhookSecret()).verify(body, { ...headers });

    // Assess
    expect(tamperedBody).toThrow('No matching signature found');
    expect(otherId).toThrow('No matching signature found');
    expect(otherSecret).toThrow('No matching signature found');
  });

  it('refuses to sign with no secret, a secret not in whsec_ form, or an id holding a "."', () => {
    const timestamp = new Date();

    expect(() => signWebhook({ id, body, timestamp }, [])).toThrow('No secret');
    expect(() => signWebhook({ id, body, timestamp }, ['c2VjcmV0c2VjcmV0'])).toThrow('whsec_');
    expect(() => signWebhook({ id: 'a.b', body, timestamp }, [newWebhookSecret()])).toThrow('"."');
  });

  it('makes new secrets of 32 random bytes in whsec_<base64> form', () => {
    const secrets = [newWebhookSecret(), newWebhookSecret()];

    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    }
    expect(secrets[0]).not.toBe(secrets[1]);
  });
});

describe('webhook signing during a secret rotation', () => {
  const oldSecret = newWebhookSecret();
  const newSecret = newWebhookSecret();
  const endpointRotatedAt = (rotatedAt: number): WebhookSecret[] =>
    rotateWebhookSecrets([{ secret: oldSecret, createdAt: rotatedAt - 90 * 24 * hour }], newSecret, rotatedAt);

  it('carries two space-separated signatures within 24 hours, each verified by its own secret', () => {
    // Prepare
    const now = Date.now();
    const secrets = endpointRotatedAt(now - 23 * hour);

    // Act
    const headers = signWebhookForEndpoint({ id, body }, secrets, now);

    // Assess
    expect(headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
    expect(new Webhook(newSecret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(new Webhook(oldSecret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('carries only the new signature after 24 hours: the old secret no longer verifies', () => {
    // Prepare
    const now = Date.now();
    const secrets = endpointRotatedAt(now - 24 * hour - 1_000);

    // Act
    const headers = signWebhookForEndpoint({ id, body }, secrets, now);

    // Assess
    expect(headers['webhook-signature']).toMatch(/^v1,\S+$/);
    expect(new Webhook(newSecret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(oldSecret).verify(body, { ...headers })).toThrow('No matching signature found');
  });
});
