import type { SQSRecord } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { signWebhookForEndpoint } from '../../functions/adapters/webhooks/signer.ts';
import { sendWebhooks, type WebhookQueue } from '../../functions/adapters/webhooks/sqs-webhook-sender.ts';
import { parleyEvent } from '../../functions/domain/events.ts';
import {
  attemptWebhookDelivery,
  deliveriesFor,
  deliveryOrderKey,
  type WebhookDelivery,
  type WebhookDeliveryDeps,
  type WebhookPostResult,
} from '../../functions/domain/webhook-delivery.ts';
import {
  listWebhookAttempts,
  readWebhook,
  registerWebhook,
  rotateWebhookSecret,
  type WebhookRegistryDeps,
} from '../../functions/domain/webhook-registry.ts';
import { FakeClock, InMemoryWebhookStore, ScriptedWebhookEndpoint, tenantId } from './fakes.ts';

const secretA = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const secretB = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
const hour = 3_600_000;

const sent = (customerId = 'cust-42', messageId = 'msg_01J9Z8Q4W6X7Y8Z9A0B1C2D3E4') =>
  parleyEvent('message.sent', {
    tenantId,
    customerId,
    occurredAt: '2025-06-02T12:00:00.000Z',
    messageId,
    channel: 'sms',
  });

const setup = (results: WebhookPostResult[] = [], resolveOk = true) => {
  const clock = new FakeClock();
  const store = new InMemoryWebhookStore();
  const endpoint = new ScriptedWebhookEndpoint(results);
  const secrets = [secretA, secretB];
  const registry: WebhookRegistryDeps = {
    store,
    clock,
    newSecret: () => secrets.shift() ?? secretB,
    checkUrl: async (url) => (url.includes('10.0.0.1') ? { ok: false, reason: 'a private address' } : { ok: true }),
  };
  const delivery: WebhookDeliveryDeps = {
    store,
    clock,
    random: () => 0.5,
    resolveUrl: async () => (resolveOk ? { ok: true, target: [] } : { ok: false, reason: 'resolves to 10.0.0.1' }),
    post: endpoint.post,
    sign: (d, s, now) => ({ ...signWebhookForEndpoint(d, s, now) }),
  };
  return { clock, store, endpoint, registry, delivery };
};

afterEach(() => {
  vi.useRealTimers();
});

/**
 * Verifies with the Standard Webhooks library as a receiver would at the time of the attempt (the library refuses
 * timestamps more than 5 minutes from its clock): the parsed body, or false when no signature is the secret's.
 */
const verifyAt = (secret: string, request: { body: string; headers: Record<string, string> } | undefined) => {
  vi.setSystemTime(Number(request?.headers['webhook-timestamp']) * 1000);
  try {
    return new Webhook(secret).verify(request?.body ?? '', request?.headers ?? {});
  } catch {
    return false;
  } finally {
    vi.useRealTimers();
  }
};

const registered = async (deps: ReturnType<typeof setup>, events = ['message.sent']) =>
  registerWebhook(deps.registry, tenantId, { url: 'https://hooks.bank.example/parley', events });

const deliveryOf = async (deps: ReturnType<typeof setup>, event = sent()): Promise<WebhookDelivery> => {
  const [delivery] = deliveriesFor(event, await deps.store.listWebhooks(tenantId));
  if (!delivery) throw new Error('no delivery');
  return delivery;
};

describe('webhook registry', () => {
  it('refuses a URL the policy refuses with 400 on url, and stores nothing', async () => {
    const deps = setup();

    await expect(
      registerWebhook(deps.registry, tenantId, { url: 'https://10.0.0.1/', events: ['message.sent'] }),
    ).rejects.toMatchObject({ code: 'invalid_request', details: [{ path: 'url', message: 'a private address' }] });
    expect(deps.store.endpoints.size).toBe(0);
  });

  it('shows the secret once: reads carry no secret', async () => {
    const deps = setup();

    const created = await registered(deps);

    expect(created.secret).toBe(secretA);
    const read = await readWebhook(deps.registry, tenantId, created.webhookId);
    expect(read).not.toHaveProperty('secret');
    expect(JSON.stringify(read)).not.toContain('whsec_');
  });

  it("answers 404 for another tenant's webhook", async () => {
    const deps = setup();
    const created = await registered(deps);

    await expect(readWebhook(deps.registry, 'beta-bank', created.webhookId)).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(rotateWebhookSecret(deps.registry, 'beta-bank', created.webhookId)).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(
      listWebhookAttempts(deps.registry, 'beta-bank', created.webhookId, { limit: 10 }),
    ).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses an eleventh webhook', async () => {
    const deps = setup();
    for (let i = 0; i < 10; i++) await registered(deps);

    await expect(registered(deps)).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('rotates again when a concurrent change took the version first', async () => {
    const deps = setup();
    const created = await registered(deps);
    let raced = false;
    deps.store.beforeReplace = () => {
      if (raced) return;
      raced = true;
      const key = `${tenantId}\n${created.webhookId}`;
      const current = deps.store.endpoints.get(key);
      if (current) deps.store.endpoints.set(key, { ...current, version: current.version + 1 });
    };

    const rotated = await rotateWebhookSecret(deps.registry, tenantId, created.webhookId);

    expect(rotated.secret).toBe(secretB);
    expect((await deps.store.getWebhook(tenantId, created.webhookId))?.secrets.map((s) => s.secret)).toEqual([
      secretB,
      secretA,
    ]);
  });
});

describe('webhook delivery attempt', () => {
  it('goes only to enabled endpoints of the same tenant subscribed to the type', async () => {
    const deps = setup();
    await registered(deps, ['message.sent']);
    await registered(deps, ['prompt.answered']);
    const endpoints = await deps.store.listWebhooks(tenantId);

    expect(deliveriesFor(sent(), endpoints)).toHaveLength(1);
    expect(
      deliveriesFor(
        sent(),
        endpoints.map((e) => ({ ...e, tenantId: 'beta-bank' })),
      ),
    ).toEqual([]);
    expect(
      deliveriesFor(
        sent(),
        endpoints.map((e) => ({ ...e, status: 'disabled' as const })),
      ),
    ).toEqual([]);
  });

  it('orders by endpoint and customer, never by address in clear', async () => {
    const deps = setup();
    await registered(deps);
    const one = await deliveryOf(deps, sent('ana@example.com', 'msg_01J9Z8Q4W6X7Y8Z9A0B1C2D3E4'));
    const two = await deliveryOf(deps, sent('ana@example.com', 'msg_01J9Z8Q4W6X7Y8Z9A0B1C2D3E5'));
    const other = await deliveryOf(deps, sent('cust-43'));

    expect(deliveryOrderKey(one)).toBe(deliveryOrderKey(two));
    expect(deliveryOrderKey(one)).not.toBe(deliveryOrderKey(other));
    expect(deliveryOrderKey(one)).not.toContain('ana');
    expect(deliveryOrderKey(one).length).toBeLessThanOrEqual(128);
  });

  it('POSTs the body signed, verifiable with the Standard Webhooks library, and records the attempt', async () => {
    const deps = setup();
    const created = await registered(deps);
    const delivery = await deliveryOf(deps);

    const outcome = await attemptWebhookDelivery(deps.delivery, delivery, 1);

    expect(outcome).toEqual({ kind: 'delivered' });
    const [request] = deps.endpoint.requests;
    expect(request?.url).toBe('https://hooks.bank.example/parley');
    expect(verifyAt(created.secret, request)).toEqual({
      type: 'message.sent',
      timestamp: '2025-06-02T12:00:00.000Z',
      data: sent().detail,
    });
    expect(deps.store.attempts).toEqual([
      expect.objectContaining({ deliveryId: delivery.deliveryId, attempt: 1, outcome: 'delivered', statusCode: 200 }),
    ]);
  });

  it('signs with both secrets for 24 hours after a rotation, then with the new one only', async () => {
    const deps = setup();
    const created = await registered(deps);
    const rotated = await rotateWebhookSecret(deps.registry, tenantId, created.webhookId);
    const delivery = await deliveryOf(deps);

    deps.clock.advance(23 * hour);
    await attemptWebhookDelivery(deps.delivery, delivery, 1);
    deps.clock.advance(2 * hour);
    await attemptWebhookDelivery(deps.delivery, delivery, 1);

    const [within, after] = deps.endpoint.requests;
    expect(within?.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(verifyAt(rotated.secret, within)).toBeTruthy();
    expect(verifyAt(created.secret, within)).toBeTruthy();
    expect(after?.headers['webhook-signature']?.split(' ')).toHaveLength(1);
    expect(verifyAt(rotated.secret, after)).toBeTruthy();
    expect(verifyAt(created.secret, after)).toBeFalsy();
  });

  it('retries a 500 after the schedule, gives up after the seventh attempt', async () => {
    const deps = setup(Array(7).fill({ status: 500 }));
    await registered(deps);
    const delivery = await deliveryOf(deps);

    const outcomes = [];
    for (let attempt = 1; attempt <= 7; attempt++) {
      outcomes.push(await attemptWebhookDelivery(deps.delivery, delivery, attempt));
    }

    expect(outcomes.slice(0, 6).map((o) => (o.kind === 'retry' ? o.delayMs : o.kind))).toEqual([
      5_000,
      300_000,
      1_800_000,
      2 * hour,
      5 * hour,
      10 * hour,
    ]);
    expect(outcomes[6]).toEqual({ kind: 'dead_letter', reason: 'no 2xx after 7 attempts' });
    expect(deps.store.attempts.map((a) => a.outcome)).toEqual([...Array(6).fill('retrying'), 'failed']);
    expect(deps.store.attempts[0]).toMatchObject({ statusCode: 500, error: 'http_status' });
  });

  it('honours a longer Retry-After on a 503', async () => {
    const deps = setup([{ status: 503, retryAfter: '120' }]);
    await registered(deps);

    const outcome = await attemptWebhookDelivery(deps.delivery, await deliveryOf(deps), 1);

    expect(outcome).toEqual({ kind: 'retry', delayMs: 120_000 });
  });

  it('disables the endpoint and dead-letters the delivery on 410 Gone', async () => {
    const deps = setup([{ status: 410 }]);
    const created = await registered(deps);
    const delivery = await deliveryOf(deps);

    expect(await attemptWebhookDelivery(deps.delivery, delivery, 1)).toMatchObject({ kind: 'dead_letter' });
    expect((await deps.store.getWebhook(tenantId, created.webhookId))?.status).toBe('disabled');
    expect(await attemptWebhookDelivery(deps.delivery, delivery, 1)).toEqual({
      kind: 'dropped',
      reason: 'webhook_disabled',
    });
  });

  it('checks the URL again at each attempt: a name now resolving to a private address is not called', async () => {
    const deps = setup([], false);
    await registered(deps);

    const outcome = await attemptWebhookDelivery(deps.delivery, await deliveryOf(deps), 1);

    expect(outcome).toEqual({ kind: 'retry', delayMs: 5_000 });
    expect(deps.endpoint.requests).toEqual([]);
    expect(deps.store.attempts[0]).toMatchObject({ outcome: 'retrying', error: 'url_refused: resolves to 10.0.0.1' });
  });

  it('drops a delivery to a deleted endpoint without calling anything', async () => {
    const deps = setup();
    const created = await registered(deps);
    const delivery = await deliveryOf(deps);
    await deps.store.deleteWebhook(tenantId, created.webhookId);

    expect(await attemptWebhookDelivery(deps.delivery, delivery, 1)).toEqual({
      kind: 'dropped',
      reason: 'webhook_deleted',
    });
    expect(deps.endpoint.requests).toEqual([]);
    expect(deps.store.attempts).toEqual([]);
  });
});

class RecordingQueue implements WebhookQueue {
  readonly enqueued: WebhookDelivery[] = [];
  readonly delayed: { receiptHandle: string; seconds: number }[] = [];
  readonly deadLettered: { delivery: WebhookDelivery; reason: string }[] = [];
  async enqueue(deliveries: readonly WebhookDelivery[]) {
    this.enqueued.push(...deliveries);
  }
  async delay(receiptHandle: string, seconds: number) {
    this.delayed.push({ receiptHandle, seconds });
  }
  async deadLetter(delivery: WebhookDelivery, reason: string) {
    this.deadLettered.push({ delivery, reason });
  }
}

const record = (body: unknown, options: { fifo?: boolean; receiveCount?: number; id?: string } = {}) =>
  ({
    messageId: options.id ?? 'm-1',
    receiptHandle: `rh-${options.id ?? 'm-1'}`,
    body: JSON.stringify(body),
    attributes: { ApproximateReceiveCount: String(options.receiveCount ?? 1) },
    eventSourceARN: `arn:aws:sqs:eu-west-1:123456789012:${options.fifo ? 'deliveries.fifo' : 'events'}`,
  }) as unknown as SQSRecord;

describe('webhook-sender on SQS', () => {
  const senderOf = (deps: ReturnType<typeof setup>) => {
    const queue = new RecordingQueue();
    const logs: Record<string, unknown>[] = [];
    const senderDeps = {
      store: deps.store,
      delivery: deps.delivery,
      queue,
      log: (message: string, fields: Record<string, unknown>) => logs.push({ message, ...fields }),
    };
    return { queue, logs, send: (records: SQSRecord[]) => sendWebhooks(senderDeps, records) };
  };

  it('fans a bus event out to the FIFO queue, one message per subscribed endpoint', async () => {
    const deps = setup();
    await registered(deps);
    await registered(deps);
    const { queue, send } = senderOf(deps);
    const event = sent();

    const answer = await send([record({ source: 'parley', 'detail-type': event.type, detail: event.detail })]);

    expect(answer).toEqual({ batchItemFailures: [] });
    expect(queue.enqueued).toHaveLength(2);
    expect(new Set(queue.enqueued.map((d) => d.deliveryId)).size).toBe(2);
  });

  it("delays a failed attempt for the schedule's wait and reports it failed; the receive count is the attempt", async () => {
    const deps = setup([{ status: 500 }]);
    await registered(deps);
    const { queue, send } = senderOf(deps);

    const answer = await send([record(await deliveryOf(deps), { fifo: true, receiveCount: 2, id: 'm-2' })]);

    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-2' }] });
    expect(queue.delayed).toEqual([{ receiptHandle: 'rh-m-2', seconds: 300 }]);
    expect(deps.store.attempts[0]?.attempt).toBe(2);
  });

  it('dead-letters after the last attempt and reports the message done', async () => {
    const deps = setup([{ error: 'timeout' }]);
    await registered(deps);
    const { queue, send, logs } = senderOf(deps);

    const answer = await send([record(await deliveryOf(deps), { fifo: true, receiveCount: 7 })]);

    expect(answer).toEqual({ batchItemFailures: [] });
    expect(queue.deadLettered).toHaveLength(1);
    expect(queue.delayed).toEqual([]);
    expect(JSON.stringify(logs)).not.toContain('hooks.bank.example');
  });

  it('reports a record it could not read as failed, and goes on with the others', async () => {
    const deps = setup();
    await registered(deps);
    const { send } = senderOf(deps);
    const broken = { ...record({}), body: 'not json', messageId: 'bad' } as SQSRecord;

    const answer = await send([broken, record(await deliveryOf(deps), { fifo: true, id: 'good' })]);

    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
    expect(deps.endpoint.requests).toHaveLength(1);
  });
});
