import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { ParleyEvent } from '../../domain/events.ts';
import {
  attemptWebhookDelivery,
  deliveriesFor,
  type WebhookDelivery,
  type WebhookDeliveryDeps,
} from '../../domain/webhook-delivery.ts';
import type { WebhookStore } from '../../domain/webhook-registry.ts';

/** The longest visibility timeout SQS accepts (12 h): the schedule's longest wait, 10 h, fits. */
export const maxVisibilityTimeoutSeconds = 43_200;

/** What the sender does with its queues (adapters/webhooks/sqs-delivery-queue.ts on AWS). */
export interface WebhookQueue {
  /** Puts each delivery on the FIFO queue, grouped by its order key, deduplicated by its id. */
  enqueue(deliveries: readonly WebhookDelivery[]): Promise<void>;
  /** Keeps the message out of sight for this long: its group (one endpoint, one customer) waits with it. */
  delay(receiptHandle: string, seconds: number): Promise<void>;
  /** Keeps a delivery given up on, with why, on the webhook dead-letter queue (alarmed on). */
  deadLetter(delivery: WebhookDelivery, reason: string): Promise<void>;
}

export interface WebhookSenderDeps {
  store: Pick<WebhookStore, 'listWebhooks'>;
  delivery: WebhookDeliveryDeps;
  queue: WebhookQueue;
  /** Ids, types and outcomes only: never a URL, an address or a body. */
  log(message: string, fields: Record<string, unknown>): void;
}

/** The EventBridge event the rule puts on the event queue, as much of it as the sender reads. */
interface BusEvent {
  source?: string;
  'detail-type'?: string;
  detail?: ParleyEvent['detail'];
}

const isFifo = (record: SQSRecord) => record.eventSourceARN.endsWith('.fifo');

/**
 * The `webhook-sender` function's work, for both of its queues, with partial batch failures:
 * - an event from the rule's queue is fanned out to the tenant's subscribed endpoints, one FIFO message each;
 * - a FIFO message (batch size 1) is one attempt: delivered or dropped is done; a failure keeps the message out
 *   of sight for the schedule's wait (its group, one endpoint and one customer, waits behind it, which keeps the
 *   order) and reports it failed; a spent schedule or a 410 goes to the dead-letter queue and is done. The attempt
 *   number is SQS's receive count.
 */
export const sendWebhooks = async (
  deps: WebhookSenderDeps,
  records: readonly SQSRecord[],
): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of records) {
    try {
      const done = isFifo(record) ? await attempt(deps, record) : await fanOut(deps, record);
      if (!done) batchItemFailures.push({ itemIdentifier: record.messageId });
    } catch (error) {
      deps.log('webhook record failed', { messageId: record.messageId, error: (error as Error).name });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};

const fanOut = async (deps: WebhookSenderDeps, record: SQSRecord): Promise<boolean> => {
  const bus = JSON.parse(record.body) as BusEvent;
  const detail = bus.detail;
  if (bus.source !== 'parley' || !bus['detail-type'] || typeof detail?.tenantId !== 'string') {
    deps.log('not a Parley event, skipped', { messageId: record.messageId });
    return true;
  }
  const event = { type: bus['detail-type'], detail } as ParleyEvent;
  const deliveries = deliveriesFor(event, await deps.store.listWebhooks(detail.tenantId));
  if (deliveries.length > 0) await deps.queue.enqueue(deliveries);
  return true;
};

const attempt = async (deps: WebhookSenderDeps, record: SQSRecord): Promise<boolean> => {
  const delivery = JSON.parse(record.body) as WebhookDelivery;
  const attemptNumber = Math.max(1, Number(record.attributes.ApproximateReceiveCount) || 1);
  const outcome = await attemptWebhookDelivery(deps.delivery, delivery, attemptNumber);
  const fields = {
    webhookId: delivery.webhookId,
    deliveryId: delivery.deliveryId,
    type: delivery.event.type,
    attempt: attemptNumber,
    outcome: outcome.kind,
  };
  switch (outcome.kind) {
    case 'delivered':
      return true;
    case 'dropped':
      deps.log('webhook delivery dropped', { ...fields, reason: outcome.reason });
      return true;
    case 'dead_letter':
      deps.log('webhook delivery given up', { ...fields, reason: outcome.reason });
      await deps.queue.deadLetter(delivery, outcome.reason);
      return true;
    case 'retry': {
      const seconds = Math.min(maxVisibilityTimeoutSeconds, Math.ceil(outcome.delayMs / 1000));
      deps.log('webhook delivery failed, retrying', { ...fields, delaySeconds: seconds });
      await deps.queue.delay(record.receiptHandle, seconds);
      return false;
    }
  }
};
