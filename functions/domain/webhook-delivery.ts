/**
 * Delivering an event to the tenant's webhooks (DESIGN section 15), the part the AWS sender (handlers/webhook-sender.ts)
 * and the local runtime (local/webhook-dispatcher.ts) share: which endpoints an event goes to, the order key, and one
 * attempt (URL checked again, signed, POSTed, recorded) with what to do next. Each runtime keeps its own queue: SQS
 * FIFO with visibility timeouts on AWS, timers locally.
 */
import { createHash } from 'node:crypto';
import type { ParleyEvent } from './events.ts';
import type { Clock } from './ports.ts';
import type { WebhookAttempt, WebhookEndpoint, WebhookStore } from './webhook-registry.ts';
import {
  classifyWebhookAttempt,
  parseRetryAfter,
  serializeWebhookBody,
  type WebhookAttemptResult,
  type WebhookSecret,
  webhookMaxAttempts,
  webhookMessageId,
  webhookRetryDelay,
  webhookTimeoutMs,
} from './webhooks.ts';

/** One event on its way to one endpoint. */
export interface WebhookDelivery {
  tenantId: string;
  webhookId: string;
  /** The `webhook-id` of every attempt. */
  deliveryId: string;
  event: ParleyEvent;
}

/** The deliveries an event makes: one per enabled endpoint of its tenant subscribed to its type. */
export const deliveriesFor = (event: ParleyEvent, endpoints: readonly WebhookEndpoint[]): WebhookDelivery[] =>
  endpoints
    .filter((e) => e.status === 'enabled' && e.tenantId === event.detail.tenantId && e.events.includes(event.type))
    .map((e) => ({
      tenantId: e.tenantId,
      webhookId: e.webhookId,
      deliveryId: webhookMessageId(event, e.webhookId),
      event,
    }));

/**
 * What orders deliveries: one endpoint's events about one customer go one at a time, in order, so a later event
 * waits until the earlier one is delivered or given up. Other customers and other endpoints are not held up. The
 * customer id is hashed: it may be an address, and SQS group ids are visible to operators and capped at 128.
 */
export const deliveryOrderKey = (delivery: Pick<WebhookDelivery, 'webhookId' | 'event'>): string =>
  `${delivery.webhookId}.${createHash('sha256').update(delivery.event.detail.customerId).digest('base64url').slice(0, 32)}`;

/** The answer of one POST: a status (with its `Retry-After`), or none. */
export type WebhookPostResult = { status: number; retryAfter?: string } | { error: 'timeout' | 'connection' };

export interface WebhookDeliveryDeps {
  store: Pick<WebhookStore, 'getWebhook' | 'recordAttempt' | 'replaceWebhook'>;
  /**
   * The URL policy with DNS, again at each attempt (a name's answers change); `target` is what `post` connects to
   * (the addresses checked), so the connection goes where the check looked.
   */
  resolveUrl(url: string): Promise<{ ok: true; target: unknown } | { ok: false; reason: string }>;
  post(request: {
    url: string;
    target: unknown;
    body: string;
    headers: Record<string, string>;
    timeoutMs: number;
  }): Promise<WebhookPostResult>;
  sign(delivery: { id: string; body: string }, secrets: readonly WebhookSecret[], now: number): Record<string, string>;
  clock: Clock;
  /** In [0, 1): the retry jitter. */
  random(): number;
}

export type WebhookDeliveryOutcome =
  | { kind: 'delivered' }
  /** Try again after `delayMs` (scaled by the local runtime, exact on AWS). */
  | { kind: 'retry'; delayMs: number }
  /** Given up (the schedule is spent, or the endpoint answered 410): to the dead-letter queue. */
  | { kind: 'dead_letter'; reason: string }
  /** The endpoint was deleted or disabled before this attempt: nothing to send, nothing to keep. */
  | { kind: 'dropped'; reason: string };

const errorOf = (result: WebhookPostResult): string | undefined => {
  if ('error' in result) return result.error;
  return result.status >= 200 && result.status <= 299 ? undefined : result.status === 410 ? 'gone' : 'http_status';
};

/**
 * Attempt number `attempt` (1-based) of a delivery: the endpoint read, its URL checked, the body signed with the
 * secrets that sign now (both for 24 h after a rotation) and POSTed with a 5 s timeout, the attempt recorded.
 */
export const attemptWebhookDelivery = async (
  deps: WebhookDeliveryDeps,
  delivery: WebhookDelivery,
  attempt: number,
): Promise<WebhookDeliveryOutcome> => {
  const endpoint = await deps.store.getWebhook(delivery.tenantId, delivery.webhookId);
  if (!endpoint) return { kind: 'dropped', reason: 'webhook_deleted' };
  if (endpoint.status !== 'enabled') return { kind: 'dropped', reason: 'webhook_disabled' };

  const started = deps.clock.now();
  const target = await deps.resolveUrl(endpoint.url);
  let result: WebhookPostResult;
  let refusal: string | undefined;
  if (target.ok) {
    const body = serializeWebhookBody(delivery.event);
    const headers = deps.sign({ id: delivery.deliveryId, body }, endpoint.secrets, started);
    result = await deps.post({
      url: endpoint.url,
      target: target.target,
      body,
      headers: { 'content-type': 'application/json', 'user-agent': 'Parley-Webhooks/1', ...headers },
      timeoutMs: webhookTimeoutMs,
    });
  } else {
    refusal = `url_refused: ${target.reason}`;
    result = { error: 'connection' };
  }
  const finished = deps.clock.now();
  const outcome = classifyWebhookAttempt(result as WebhookAttemptResult);

  let next: WebhookDeliveryOutcome;
  if (outcome.kind === 'delivered') next = { kind: 'delivered' };
  else if (outcome.kind === 'disable_endpoint') next = { kind: 'dead_letter', reason: 'endpoint answered 410 Gone' };
  else {
    const retryAfterMs = 'status' in result ? parseRetryAfter(result.retryAfter, finished) : undefined;
    const delay = webhookRetryDelay(attempt, {
      random: deps.random(),
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    });
    next =
      delay === 'give_up'
        ? { kind: 'dead_letter', reason: `no 2xx after ${webhookMaxAttempts} attempts` }
        : { kind: 'retry', delayMs: delay };
  }

  const record: WebhookAttempt = {
    tenantId: delivery.tenantId,
    webhookId: delivery.webhookId,
    deliveryId: delivery.deliveryId,
    eventType: delivery.event.type,
    attempt,
    attemptedAt: new Date(started).toISOString(),
    durationMs: finished - started,
    outcome: next.kind === 'delivered' ? 'delivered' : next.kind === 'retry' ? 'retrying' : 'failed',
    ...('status' in result && { statusCode: result.status }),
    ...(refusal !== undefined ? { error: refusal } : errorOf(result) !== undefined && { error: errorOf(result) }),
    ...(next.kind === 'retry' && { nextAttemptAt: new Date(finished + next.delayMs).toISOString() }),
  };
  await deps.store.recordAttempt(record);

  if (outcome.kind === 'disable_endpoint') {
    // 410: the receiver wants no more. Lost to a concurrent change, the next 410 disables it.
    await deps.store.replaceWebhook(
      { ...endpoint, status: 'disabled', disabledReason: 'The endpoint answered 410 Gone' },
      endpoint.version,
    );
  }
  return next;
};
