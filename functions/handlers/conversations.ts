import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { ApiGatewayPusher } from '../adapters/chat/api-gateway-pusher.ts';
import { SesEmailSender } from '../adapters/email/ses-email-sender.ts';
import { SnsSmsSender } from '../adapters/sms/sns-sms-sender.ts';
import { loadTokenSecret } from '../adapters/token-secret.ts';
import { requireEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { idempotencyKeySchema } from '../domain/content-schemas.ts';
import {
  chatSessionRequestSchema,
  conversationsQuerySchema,
  replyRequestSchema,
} from '../domain/conversation-schemas.ts';
import { NotFoundError } from '../domain/errors.ts';
import { listNeedingAttention, replyToCustomer, startChat } from '../domain/escalation.ts';
import { customerIdSchema, parseWith } from '../domain/schemas.ts';
import { createEscalation } from './chat/escalation-wiring.ts';
import { type HttpRequest, json, requirePrincipal } from './http/http-handler.ts';
import { type Route, readPage, routedHandler } from './http/router.ts';

const escalation = createEscalation({
  tokenSecret: await loadTokenSecret(),
  sms: new SnsSmsSender(),
  email: new SesEmailSender(requireEnv(envNames.sesConfigurationSet), () => ({ SESClient, SendRawEmailCommand })),
  pusher: (endpoint) => new ApiGatewayPusher(endpoint),
});
const { deps } = escalation;

const customerIdOf = (request: HttpRequest): string =>
  parseWith(customerIdSchema, request.event.pathParameters?.customerId ?? '', 'customerId');

const tenantOf = async (request: HttpRequest) => {
  const { tenantId } = requirePrincipal(request);
  const tenant = await escalation.tenant(tenantId);
  if (!tenant) throw new NotFoundError('Tenant');
  return tenant;
};

/** POST /v1/customers/{id}/messages: goes out on the channel the customer is on now, and says which. */
const reply: Route = async (request) => {
  const tenant = await tenantOf(request);
  const customerId = customerIdOf(request);
  const rawKey = request.header('idempotency-key');
  const idempotencyKey =
    rawKey === undefined ? undefined : parseWith(idempotencyKeySchema, rawKey, 'headers.Idempotency-Key');
  const body = parseWith(replyRequestSchema, request.body ?? {});
  escalation.useHttpEvent(request.event.requestContext);
  const { replayed, ...result } = await replyToCustomer(deps, {
    tenant,
    customerId,
    body: body.body,
    channel: body.channel,
    ...(idempotencyKey !== undefined && { idempotencyKey }),
  });
  return json(202, { ...result, customerId }, replayed ? { 'idempotent-replayed': 'true' } : {});
};

/** POST /v1/customers/{id}/chat-sessions: a signed, expiring link, optionally texted to the customer. */
const startChatSession: Route = async (request) => {
  const tenant = await tenantOf(request);
  const customerId = customerIdOf(request);
  const body = parseWith(chatSessionRequestSchema, request.body ?? {});
  escalation.useHttpEvent(request.event.requestContext);
  return json(201, await startChat(deps, { tenant, customerId, sendLink: body.sendLink }));
};

/** GET /v1/conversations?needs=attention: open callbacks, active chats and unanswered free text, most recent first. */
const needingAttention: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  const { limit, cursor } = parseWith(conversationsQuerySchema, request.event.queryStringParameters ?? {}, 'query');
  const page = await readPage('cursor', () =>
    listNeedingAttention(deps, { tenantId, limit, ...(cursor !== undefined && { cursor }) }),
  );
  return json(200, page);
};

export const handler = routedHandler('conversations', {
  'POST /v1/customers/{customerId}/messages': reply,
  'POST /v1/customers/{customerId}/chat-sessions': startChatSession,
  'GET /v1/conversations': needingAttention,
});
