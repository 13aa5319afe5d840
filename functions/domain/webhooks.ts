import { createHash } from 'node:crypto';
import type { ParleyEvent } from './events.ts';
import { fingerprint, randomBase32 } from './ids.ts';

/**
 * Signed webhooks (DESIGN section 15), the pure half: what is POSTed, under which id, when a failed delivery is
 * tried again, what an answer means, and which secrets sign. Signing itself is adapters/webhooks/signer.ts (the
 * Standard Webhooks library); URL checks are ./webhook-url-policy.ts.
 */

/** The body of a delivery, as the Standard Webhooks specification shapes a payload. */
export interface WebhookBody {
  /** The event's detail-type, e.g. `message.delivered`. */
  type: ParleyEvent['type'];
  /** When the event occurred (its `occurredAt`), not when this attempt is made: that is `webhook-timestamp`. */
  timestamp: string;
  /** The event detail, exactly as EventBridge carries it. */
  data: ParleyEvent['detail'];
}

/** The delivery body of an event of the catalogue. */
export const webhookBody = (event: ParleyEvent): WebhookBody => ({
  type: event.type,
  timestamp: event.detail.occurredAt,
  data: event.detail,
});

/**
 * The body as sent and signed: minified JSON, serialised once. The signature covers these exact bytes, so the
 * delivery must send this string, never re-serialise the object.
 */
export const serializeWebhookBody = (event: ParleyEvent): string => JSON.stringify(webhookBody(event));

/**
 * The `webhook-id` of an event's delivery to one endpoint: derived from the endpoint and the event's content, so
 * every retry, and a second run of a handler that republished the same event, carries the same id and the consumer
 * can dedupe on it. Prefixed `whmsg_` rather than the specification's example `msg_`, which is Parley's own
 * message-id prefix (`data.messageId`); base32 has no `.`, which the signed `id.timestamp.body` must not hold.
 */
export const webhookMessageId = (event: ParleyEvent, endpointId: string): string => {
  const digest = createHash('sha256')
    .update(`${endpointId}\n${fingerprint({ type: event.type, detail: event.detail })}`)
    .digest();
  return `whmsg_${randomBase32(digest, 26)}`;
};

/** An attempt gets no answer within this long: it counts as a failure and is retried (DESIGN section 15). */
export const webhookTimeoutMs = 5_000;

/**
 * The wait after each failed attempt: the Standard Webhooks example schedule cut after 10 hours, so the last attempt
 * is 17 h 35 min 5 s after the first (about a day, DESIGN section 15), seven attempts in all. Attempt 1 is
 * immediate; the delay at index n-1 follows the failure of attempt n.
 */
export const webhookRetryDelaysMs = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
] as const;

/** Attempts in all before a delivery goes to the dead-letter queue. */
export const webhookMaxAttempts = webhookRetryDelaysMs.length + 1;

/**
 * How long to wait after attempt `failedAttempt` (1-based) failed, or `give_up` once the schedule is spent (the
 * delivery goes to the dead-letter queue with an alarm). `random` in [0, 1) spreads the wait by ±10% so endpoints
 * that failed together are not retried together (the specification recommends jitter); 0.5 gives the exact
 * schedule. A `Retry-After` the endpoint sent is honoured when it asks for longer, up to the schedule's longest step.
 */
export const webhookRetryDelay = (
  failedAttempt: number,
  options: { random?: number; retryAfterMs?: number } = {},
): number | 'give_up' => {
  if (!Number.isInteger(failedAttempt) || failedAttempt < 1) throw new RangeError(`Invalid attempt ${failedAttempt}`);
  const scheduled = webhookRetryDelaysMs[failedAttempt - 1];
  if (scheduled === undefined) return 'give_up';
  const jittered = Math.round(scheduled * (0.9 + 0.2 * (options.random ?? 0.5)));
  const longest = webhookRetryDelaysMs[webhookRetryDelaysMs.length - 1] as number;
  return Math.max(jittered, Math.min(options.retryAfterMs ?? 0, longest));
};

/** How one attempt ended: an HTTP status, or no answer at all. */
export type WebhookAttemptResult = { status: number } | { error: 'timeout' | 'connection' };

/**
 * What an attempt's outcome means:
 * - `delivered`: a 2xx.
 * - `disable_endpoint`: 410 Gone, the specification's signal that the receiver wants no more webhooks. The endpoint
 *   is disabled and this delivery is not retried; it goes to the dead-letter queue like a spent one, since an event
 *   is never lost (DESIGN section 6).
 * - `retry`: anything else. DESIGN section 15 retries every non-2xx answer, as the specification treats them as
 *   failures: a 3xx (redirects are not followed), a 4xx (a 400/401/404 is often a receiver's deploy or a secret not
 *   yet rolled out, which a later attempt survives), 408, 429, 5xx, a timeout or a dropped connection. `throttle`
 *   marks 429, 502, 503 and 504, which the specification says to answer by slowing down.
 */
export type WebhookAttemptOutcome =
  | { kind: 'delivered' }
  | { kind: 'disable_endpoint' }
  | { kind: 'retry'; throttle: boolean };

const throttlingStatuses = new Set([429, 502, 503, 504]);

export const classifyWebhookAttempt = (result: WebhookAttemptResult): WebhookAttemptOutcome => {
  if ('error' in result) return { kind: 'retry', throttle: false };
  if (result.status >= 200 && result.status <= 299) return { kind: 'delivered' };
  if (result.status === 410) return { kind: 'disable_endpoint' };
  return { kind: 'retry', throttle: throttlingStatuses.has(result.status) };
};

/**
 * A `Retry-After` header in milliseconds: delta-seconds or an HTTP date (RFC 9110); undefined when absent, invalid
 * or in the past.
 */
export const parseRetryAfter = (header: string | undefined, now: number): number | undefined => {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) || at <= now ? undefined : at - now;
};

/** Both the old and the new secret sign for this long after a rotation (DESIGN section 15). */
export const webhookSecretOverlapMs = 24 * 3_600_000;

/** One signing secret of an endpoint, `whsec_<base64>`. Times are epoch milliseconds. */
export interface WebhookSecret {
  secret: string;
  createdAt: number;
  /** Set by a rotation: the secret signs until then, not after. */
  retiresAt?: number;
}

/**
 * The secrets that sign a delivery made at `now`, newest first: every secret created by then that has not retired.
 * Rotation gives the old secret `retiresAt` = rotation + 24 h, so for a day a delivery carries both signatures and
 * the receiver can move to the new secret without losing one.
 */
export const signingSecrets = (secrets: readonly WebhookSecret[], now: number): WebhookSecret[] =>
  secrets
    .filter((s) => s.createdAt <= now && (s.retiresAt === undefined || now < s.retiresAt))
    .sort((a, b) => b.createdAt - a.createdAt);

/**
 * The endpoint's secrets after rotating to `secret` at `now`: the new one added, each one still signing retired 24 h
 * from now (an earlier retirement kept), and the already retired ones dropped.
 */
export const rotateWebhookSecrets = (
  secrets: readonly WebhookSecret[],
  secret: string,
  now: number,
): WebhookSecret[] => [
  { secret, createdAt: now },
  ...signingSecrets(secrets, now).map((s) => ({
    ...s,
    retiresAt: Math.min(s.retiresAt ?? Number.POSITIVE_INFINITY, now + webhookSecretOverlapMs),
  })),
];
