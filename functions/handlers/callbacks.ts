import { DynamoStore } from '../adapters/dynamo/dynamo-store.ts';
import { EventBridgePublisher } from '../adapters/events/eventbridge-publisher.ts';
import { requireEnv } from '../config/env.ts';
import { NotFoundError, ParleyError } from '../domain/errors.ts';
import { callbackQuerySchema, callbackUpdateSchema, parseWith } from '../domain/schemas.ts';
import { reportingPublisher } from './http/events.ts';
import { type HttpRequest, type HttpResult, httpHandler, json, requirePrincipal } from './http/http-handler.ts';

const store = new DynamoStore(requireEnv('PARLEY_TABLE_NAME'));
const events = reportingPublisher(new EventBridgePublisher(requireEnv('PARLEY_EVENT_BUS_NAME')));

const listCallbacks = async (request: HttpRequest) => {
  const { tenantId } = requirePrincipal(request);
  const query = parseWith(callbackQuerySchema, request.event.queryStringParameters ?? {}, 'query');
  return json(200, { callbacks: await store.listCallbacks(tenantId, query.status) });
};

const updateCallback = async (request: HttpRequest) => {
  const { tenantId } = requirePrincipal(request);
  const callbackId = request.event.pathParameters?.callbackId ?? '';
  const change = parseWith(callbackUpdateSchema, request.body ?? {});
  const existing = /^cb_[0-9A-Z]{26}$/.test(callbackId) ? await store.getCallback(tenantId, callbackId) : undefined;
  if (!existing) throw new NotFoundError('Callback');
  const at = new Date().toISOString();
  const closed = await store.closeCallback(tenantId, callbackId, {
    status: change.status,
    at,
    ...(change.note !== undefined && { note: change.note }),
  });
  if (!closed) throw new ParleyError('invalid_request', `The callback is already ${existing.status}`);
  await store.setAttentionReason(tenantId, closed.customerId, 'callbackId', null, at);
  if (closed.status === 'completed') {
    await events.publish([
      {
        type: 'callback.completed',
        detail: {
          tenantId,
          customerId: closed.customerId,
          occurredAt: at,
          callbackId,
          ...(closed.context.references[0] !== undefined && { reference: closed.context.references[0] }),
          ...(closed.note !== undefined && { note: closed.note }),
          context: closed.context,
        },
      },
    ]);
  }
  return json(200, closed);
};

const routes: Record<string, (request: HttpRequest) => Promise<HttpResult>> = {
  'GET /v1/callbacks': listCallbacks,
  'PATCH /v1/callbacks/{callbackId}': updateCallback,
};

export const handler = httpHandler(async (request) => {
  const route = routes[request.routeKey];
  if (!route) throw new NotFoundError('Route');
  return route(request);
});
