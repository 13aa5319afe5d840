import { callbackQuerySchema, callbackUpdateSchema } from '../domain/conversation-schemas.ts';
import { closeCallback, listCallbacks } from '../domain/escalation.ts';
import { parseWith } from '../domain/schemas.ts';
import { createEscalation } from './chat/escalation-wiring.ts';
import { json, requirePrincipal } from './http/http-handler.ts';
import { type Route, readPage, routedHandler } from './http/router.ts';

const { deps } = createEscalation();

/** GET /v1/callbacks?status=requested: the callback queue, newest first, paged. */
const list: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  const query = parseWith(callbackQuerySchema, request.event.queryStringParameters ?? {}, 'query');
  const page = await readPage('cursor', () => listCallbacks(deps, { tenantId, ...query }));
  return json(200, { callbacks: page.items, ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }) });
};

/** PATCH /v1/callbacks/{callbackId}: completed or cancelled, with an optional note. */
const update: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  const change = parseWith(callbackUpdateSchema, request.body ?? {});
  const callbackId = request.event.pathParameters?.callbackId ?? '';
  return json(200, await closeCallback(deps, { tenantId, callbackId, ...change }));
};

export const handler = routedHandler('callbacks', {
  'GET /v1/callbacks': list,
  'PATCH /v1/callbacks/{callbackId}': update,
});
