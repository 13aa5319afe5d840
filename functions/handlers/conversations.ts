import { ApiGatewayPusher } from '../adapters/chat/api-gateway-pusher.ts';
import { SesEmailSender } from '../adapters/email/ses-email-sender.ts';
import { SnsSmsSender } from '../adapters/sms/sns-sms-sender.ts';
import { loadTokenSecret } from '../adapters/token-secret.ts';
import { requireEnv } from '../config/env.ts';
import { NotFoundError } from '../domain/errors.ts';
import { replyToCustomer, startChatSession } from '../domain/escalation.ts';
import {
  chatSessionRequestSchema,
  conversationsQuerySchema,
  customerIdSchema,
  parseWith,
  replyRequestSchema,
} from '../domain/schemas.ts';
import { createEscalation } from './chat/escalation-wiring.ts';
import { type HttpRequest, type HttpResult, httpHandler, json, requirePrincipal } from './http/http-handler.ts';

const escalation = createEscalation({
  tokenSecret: await loadTokenSecret(),
  sms: new SnsSmsSender(),
  email: new SesEmailSender(requireEnv('PARLEY_SES_CONFIGURATION_SET')),
  pusher: (endpoint) => new ApiGatewayPusher(endpoint),
});
const { deps, store } = escalation;

const customerIdOf = (request: HttpRequest): string =>
  parseWith(customerIdSchema, request.event.pathParameters?.customerId ?? '', 'customerId');

const tenantOf = async (request: HttpRequest) => {
  const { tenantId } = requirePrincipal(request);
  const tenant = await escalation.tenant(tenantId);
  if (!tenant) throw new NotFoundError('Tenant');
  return tenant;
};

/** POST /v1/customers/{id}/messages: goes out on the channel the customer is on now, and says which. */
const reply = async (request: HttpRequest) => {
  const tenant = await tenantOf(request);
  const customerId = customerIdOf(request);
  const body = parseWith(replyRequestSchema, request.body ?? {});
  escalation.useHttpEvent(request.event.requestContext);
  const result = await replyToCustomer(deps, { tenant, customerId, body: body.body, channel: body.channel });
  return json(202, { ...result, customerId });
};

/** POST /v1/customers/{id}/chat-sessions: a signed, expiring link, optionally texted to the customer. */
const startChat = async (request: HttpRequest) => {
  const tenant = await tenantOf(request);
  const customerId = customerIdOf(request);
  const body = parseWith(chatSessionRequestSchema, request.body ?? {});
  const customer = await store.getCustomer(tenant.tenantId, customerId);
  if (!customer) throw new NotFoundError('Customer');
  escalation.useHttpEvent(request.event.requestContext);
  const session = await startChatSession(deps, { tenant, customerId });
  let linkSent: string | undefined;
  if (body.sendLink) {
    const sent = await replyToCustomer(deps, {
      tenant,
      customerId,
      body: `${tenant.name}: chat with us here: ${session.url}`,
      channel: 'auto',
    });
    linkSent = sent.messageId;
  }
  return json(201, {
    sessionId: session.sessionId,
    url: session.url,
    expiresAt: session.expiresAt,
    ...(linkSent && { linkMessageId: linkSent }),
  });
};

/** GET /v1/conversations?needs=attention: open callbacks, active chats and unanswered free text, newest first. */
const needingAttention = async (request: HttpRequest) => {
  const tenant = await tenantOf(request);
  parseWith(conversationsQuerySchema, request.event.queryStringParameters ?? {}, 'query');
  const entries = await store.listAttention(tenant.tenantId);
  return json(200, {
    conversations: entries.map((entry) => ({
      customerId: entry.customerId,
      since: entry.since,
      lastMessageAt: entry.lastMessageAt,
      reasons: [
        ...(entry.callbackId ? ['callback'] : []),
        ...(entry.chatSessionId ? ['chat'] : []),
        ...(entry.freeTextAt ? ['free_text'] : []),
      ],
      ...(entry.summary !== undefined && { summary: entry.summary }),
      ...(entry.callbackId !== undefined && { callbackId: entry.callbackId }),
    })),
  });
};

const routes: Record<string, (request: HttpRequest) => Promise<HttpResult>> = {
  'POST /v1/customers/{customerId}/messages': reply,
  'POST /v1/customers/{customerId}/chat-sessions': startChat,
  'GET /v1/conversations': needingAttention,
};

export const handler = httpHandler(async (request) => {
  const route = routes[request.routeKey];
  if (!route) throw new NotFoundError('Route');
  return route(request);
});
