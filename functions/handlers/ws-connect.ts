import { loadTokenSecret } from '../adapters/token-secret.ts';
import { customerTagOf, verifyChatToken } from '../domain/chat-tokens.ts';
import { createEscalation } from './chat/escalation-wiring.ts';
import { webSocketHandler } from './chat/websocket-event.ts';
import { logger } from './http/observability.ts';

const escalation = createEscalation({ tokenSecret: await loadTokenSecret() });
const { deps, store } = escalation;

/**
 * `$connect`: the chat token (query parameter `token`) must be well signed, unexpired, and name an open session of
 * that tenant and customer. A refusal is a bare 403 that does not say which check failed.
 */
export const handler = webSocketHandler(async (event) => {
  const { connectionId } = event.requestContext;
  const token = event.queryStringParameters?.token ?? '';
  const now = deps.clock.now();
  const claims = verifyChatToken(escalation.tokenSecret(), token, now);
  const session = claims && (await store.getChatSession(claims.tenantId, claims.sessionId));
  if (
    !claims ||
    !session ||
    session.status !== 'open' ||
    customerTagOf(session.customerId) !== claims.customerTag ||
    Date.parse(session.expiresAt) <= now
  ) {
    logger.info('chat connection refused');
    return { statusCode: 403, body: 'Forbidden' };
  }
  escalation.useWebSocketEvent(event.requestContext);
  const at = new Date(now).toISOString();
  const chat = { sessionId: session.sessionId, connectionId, since: at };
  await store.putConnection({
    connectionId,
    tenantId: session.tenantId,
    customerId: session.customerId,
    sessionId: session.sessionId,
    connectedAt: at,
  });
  await store.setChatSessionState(session.tenantId, session.sessionId, { connectionId });
  await store.setCustomerChat(session.tenantId, session.customerId, chat);
  await store.setAttentionReason(session.tenantId, session.customerId, 'chatSessionId', session.sessionId, at);
  await deps.events.publish([
    {
      type: 'chat.started',
      detail: {
        tenantId: session.tenantId,
        customerId: session.customerId,
        occurredAt: at,
        sessionId: session.sessionId,
      },
    },
  ]);
  logger.info('chat connected', { tenantId: session.tenantId, sessionId: session.sessionId });
  return { statusCode: 200 };
});
