import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { signingSecrets, type WebhookSecret } from '../../domain/webhooks.ts';

/** The headers that carry a delivery's signature, as the Standard Webhooks specification names them. */
export interface WebhookSignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** A secret's prefix: the specification's serialisation of a symmetric (HMAC-SHA256) key. */
const secretPrefix = 'whsec_';

/** Bytes of a new secret: 32, SHA-256's size; the specification asks for 24 to 64. */
const secretBytes = 32;

/** A new endpoint secret, `whsec_<base64 of 32 random bytes>`, shown to the tenant once. */
export const newWebhookSecret = (): string => `${secretPrefix}${randomBytes(secretBytes).toString('base64')}`;

/**
 * Signs a delivery with every secret given, with the Standard Webhooks library (the specification's own, so its
 * verifiers in every language agree): `webhook-signature` holds one `v1,<base64>` per secret, space-separated, which
 * a receiver tries in turn. `timestamp` is the attempt's time, not the event's: each retry is signed anew.
 */
export const signWebhook = (
  delivery: { id: string; body: string; timestamp: Date },
  secrets: readonly string[],
): WebhookSignatureHeaders => {
  if (secrets.length === 0) throw new Error('No secret to sign the webhook with');
  if (delivery.id.includes('.')) throw new Error('A webhook id must not hold a "."');
  const signatures = secrets.map((secret) => {
    if (!secret.startsWith(secretPrefix)) throw new Error(`A webhook secret starts with ${secretPrefix}`);
    return new Webhook(secret).sign(delivery.id, delivery.timestamp, delivery.body);
  });
  return {
    'webhook-id': delivery.id,
    'webhook-timestamp': String(Math.floor(delivery.timestamp.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
};

/** Signs a delivery made at `now` with the endpoint's secrets that sign then: both, for 24 h after a rotation. */
export const signWebhookForEndpoint = (
  delivery: { id: string; body: string },
  secrets: readonly WebhookSecret[],
  now: number,
): WebhookSignatureHeaders =>
  signWebhook(
    { ...delivery, timestamp: new Date(now) },
    signingSecrets(secrets, now).map((s) => s.secret),
  );
