import { requireEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { parseWith } from '../domain/schemas.ts';
import type { WebhookAttempt } from '../domain/webhook-registry.ts';
import {
  deleteWebhook,
  listWebhookAttempts,
  listWebhooks,
  readWebhook,
  registerWebhook,
  rotateWebhookSecret,
} from '../domain/webhook-registry.ts';
import {
  createWebhookRequestSchema,
  webhookDeliveriesQuerySchema,
  webhookIdSchema,
} from '../domain/webhook-schemas.ts';
import { type HttpRequest, json, requirePrincipal } from './http/http-handler.ts';
import { type Route, readPage, routedHandler } from './http/router.ts';
import { createWebhookDeps } from './webhooks-wiring.ts';

const { registry: deps } = createWebhookDeps(requireEnv(envNames.tableName));

/** A malformed id can name no webhook: 404, as a foreign one. */
const idOf = (request: HttpRequest): string => {
  const id = request.event.pathParameters?.webhookId ?? '';
  return webhookIdSchema.safeParse(id).success ? id : 'wh_none';
};

const create: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  const body = parseWith(createWebhookRequestSchema, request.body ?? {});
  return json(201, await registerWebhook(deps, tenantId, body));
};

const list: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  return json(200, { webhooks: await listWebhooks(deps, tenantId) });
};

const read: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  return json(200, await readWebhook(deps, tenantId, idOf(request)));
};

const remove: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  const webhookId = idOf(request);
  await deleteWebhook(deps, tenantId, webhookId);
  return json(200, { webhookId, deleted: true });
};

const rotate: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  return json(200, await rotateWebhookSecret(deps, tenantId, idOf(request)));
};

const attemptView = ({ tenantId: _tenant, webhookId: _webhook, ...attempt }: WebhookAttempt) => attempt;

const deliveries: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  const query = parseWith(webhookDeliveriesQuerySchema, request.event.queryStringParameters ?? {}, 'query');
  const page = await readPage('cursor', () => listWebhookAttempts(deps, tenantId, idOf(request), query));
  return json(200, {
    deliveries: page.items.map(attemptView),
    ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }),
  });
};

export const handler = routedHandler('webhooks', {
  'POST /v1/webhooks': create,
  'GET /v1/webhooks': list,
  'GET /v1/webhooks/{webhookId}': read,
  'DELETE /v1/webhooks/{webhookId}': remove,
  'POST /v1/webhooks/{webhookId}/rotate-secret': rotate,
  'GET /v1/webhooks/{webhookId}/deliveries': deliveries,
});
