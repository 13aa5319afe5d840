import type { DeadLetterSink } from '../functions/adapters/dead-letters/sqs-dead-letters.ts';
import type { ParleyEvent } from '../functions/domain/events.ts';
import {
  attemptWebhookDelivery,
  deliveriesFor,
  deliveryOrderKey,
  type WebhookDelivery,
  type WebhookDeliveryDeps,
} from '../functions/domain/webhook-delivery.ts';
import type { WebhookStore } from '../functions/domain/webhook-registry.ts';
import type { AwsEdges } from './edges/aws-edges.ts';

export interface WebhookDispatcherOptions {
  /**
   * The retry schedule's waits are multiplied by this (default 0.01: 5 s becomes 50 ms, 10 h six minutes), so a
   * failing endpoint is seen retried, and given up on, while you watch. 1 is AWS's schedule.
   */
  retryScale?: number;
}

/**
 * The local stand-in for the EventBridge rule, the FIFO queue and the `webhook-sender` function: every event the
 * emulated EventBridge captures is fanned out to the tenant's webhooks and delivered by the same domain code the
 * sender runs (URL check, signature, 5 s timeout, recorded attempts). One endpoint's events about one customer go
 * one at a time and in order, as the FIFO queue's message groups keep them on AWS; a failed attempt waits its
 * (scaled) backoff while later events of that customer wait behind it; a spent schedule goes to the emulated
 * dead-letter queue.
 */
export const startWebhookDispatcher = (
  edges: AwsEdges,
  deps: {
    registry: { store: Pick<WebhookStore, 'listWebhooks'> };
    delivery: WebhookDeliveryDeps;
    deadLetters: DeadLetterSink;
  },
  options: WebhookDispatcherOptions = {},
) => {
  const scale = options.retryScale ?? 0.01;
  const queues = new Map<string, WebhookDelivery[]>();
  const seen = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  const waiting = new Set<() => void>();
  let stopped = false;
  // Fan-out in arrival order, so deliveries join their customer's queue in the order the events came.
  let fanOut: Promise<void> = Promise.resolve();

  const sleep = (ms: number) =>
    new Promise<void>((done) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        done();
      }, ms);
      timers.add(timer);
    });

  const settleIfIdle = () => {
    if (queues.size > 0) return;
    for (const done of waiting) done();
    waiting.clear();
  };

  const drain = async (key: string) => {
    const queue = queues.get(key);
    let attempt = 1;
    while (queue && queue.length > 0 && !stopped) {
      const delivery = queue[0] as WebhookDelivery;
      let outcome: Awaited<ReturnType<typeof attemptWebhookDelivery>>;
      try {
        outcome = await attemptWebhookDelivery(deps.delivery, delivery, attempt);
      } catch (error) {
        // The store failed, not the endpoint: the same attempt again shortly, as SQS would redeliver it.
        console.error('[parley] webhook attempt failed', (error as Error).message);
        await sleep(1000);
        continue;
      }
      if (outcome.kind === 'retry') {
        attempt += 1;
        await sleep(Math.round(outcome.delayMs * scale));
        continue;
      }
      if (outcome.kind === 'dead_letter') {
        await deps.deadLetters
          .send({ reason: outcome.reason, source: 'webhook-sender', payload: JSON.stringify(delivery) })
          .catch((error: unknown) => console.error('[parley] webhook dead letter failed', (error as Error).message));
      }
      queue.shift();
      attempt = 1;
    }
    queues.delete(key);
    settleIfIdle();
  };

  const enqueue = (delivery: WebhookDelivery) => {
    if (seen.has(delivery.deliveryId)) return; // a redelivered event, as the FIFO queue's deduplication drops it
    seen.add(delivery.deliveryId);
    const key = deliveryOrderKey(delivery);
    const queue = queues.get(key);
    if (queue) {
      queue.push(delivery);
      return;
    }
    queues.set(key, [delivery]);
    void drain(key);
  };

  const unsubscribe = edges.events.onEvent((captured) => {
    if (captured.source !== 'parley') return;
    const event = { type: captured.type, detail: captured.detail } as ParleyEvent;
    if (typeof event.detail?.tenantId !== 'string' || typeof event.detail.customerId !== 'string') return;
    fanOut = fanOut
      .then(async () => {
        if (stopped) return;
        for (const delivery of deliveriesFor(event, await deps.registry.store.listWebhooks(event.detail.tenantId))) {
          enqueue(delivery);
        }
      })
      .catch((error: unknown) => console.error('[parley] webhook fan-out failed', (error as Error).message));
  });

  return {
    /** Resolves once every delivery under way is delivered or given up (tests). */
    async idle(): Promise<void> {
      await fanOut;
      if (queues.size === 0) return;
      await new Promise<void>((done) => waiting.add(done));
    },
    stop(): void {
      stopped = true;
      unsubscribe();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const done of waiting) done();
    },
  };
};
