import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoWebhookStore } from '../adapters/dynamo/webhook-store.ts';
import { postWebhook } from '../adapters/webhooks/http-poster.ts';
import { resolveAndCheckWebhookUrl } from '../adapters/webhooks/resolve-and-check.ts';
import { newWebhookSecret, signWebhookForEndpoint } from '../adapters/webhooks/signer.ts';
import { optionalEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { systemClock } from '../domain/ports.ts';
import type { WebhookDeliveryDeps } from '../domain/webhook-delivery.ts';
import type { WebhookRegistryDeps } from '../domain/webhook-registry.ts';

/**
 * What the webhook routes, the AWS sender and the local runtime build their webhook dependencies from: the same
 * store, URL policy (loopback and http:// only where `PARLEY_WEBHOOKS_ALLOW_LOOPBACK=true`, which only the local
 * runtime sets), signer and HTTP client.
 */
export const webhookUrlOptions = () => ({ local: optionalEnv(envNames.webhooksAllowLoopback) === 'true' });

export const createWebhookDeps = (
  tableName: string,
  db?: DynamoDBDocumentClient,
): { registry: WebhookRegistryDeps; delivery: WebhookDeliveryDeps } => {
  const store = new DynamoWebhookStore(tableName, db);
  const options = webhookUrlOptions();
  return {
    registry: {
      store,
      clock: systemClock,
      newSecret: newWebhookSecret,
      checkUrl: async (url) => {
        const verdict = await resolveAndCheckWebhookUrl(url, options);
        return verdict.ok ? { ok: true } : verdict;
      },
    },
    delivery: {
      store,
      clock: systemClock,
      random: Math.random,
      resolveUrl: async (url) => {
        const verdict = await resolveAndCheckWebhookUrl(url, options);
        return verdict.ok ? { ok: true, target: verdict.addresses } : verdict;
      },
      post: postWebhook,
      sign: (delivery, secrets, now) => ({ ...signWebhookForEndpoint(delivery, secrets, now) }),
    },
  };
};
