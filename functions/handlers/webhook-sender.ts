import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { SqsWebhookQueue } from '../adapters/webhooks/sqs-delivery-queue.ts';
import { sendWebhooks } from '../adapters/webhooks/sqs-webhook-sender.ts';
import { requireEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { logger } from './http/observability.ts';
import { createWebhookDeps } from './webhooks-wiring.ts';

const { registry, delivery } = createWebhookDeps(requireEnv(envNames.tableName));
const queue = new SqsWebhookQueue(
  requireEnv(envNames.webhookDeliveryQueueUrl),
  requireEnv(envNames.webhookDeadLetterQueueUrl),
);

/**
 * Signed webhooks on AWS (DESIGN section 15): Parley's events from the bus rule's queue are fanned out to the
 * tenants' endpoints on a FIFO queue, and each FIFO message is one delivery attempt, retried through visibility
 * timeouts (adapters/webhooks/sqs-webhook-sender.ts).
 */
const send = async (event: SQSEvent, _context: Context): Promise<SQSBatchResponse> =>
  sendWebhooks(
    {
      store: registry.store,
      delivery,
      queue,
      log: (message, fields) => logger.info(message, fields),
    },
    event.Records,
  );

export const handler = middy(send).use(injectLambdaContext(logger, { resetKeys: true }));
