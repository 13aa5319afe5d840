import { loadTokenSecret } from '../adapters/token-secret.ts';
import { connectChat } from '../domain/escalation.ts';
import { createEscalation } from './chat/escalation-wiring.ts';
import { webSocketHandler } from './chat/websocket-event.ts';
import { logger } from './http/observability.ts';

const escalation = createEscalation({ tokenSecret: await loadTokenSecret() });

/**
 * `$connect`: the chat token (query parameter `token`) must name an open session of its tenant and customer. A
 * refusal is a bare 403 that does not say which check failed.
 */
export const handler = webSocketHandler(async (event) => {
  escalation.useWebSocketEvent(event.requestContext);
  const result = await connectChat(escalation.deps, {
    connectionId: event.requestContext.connectionId,
    token: event.queryStringParameters?.token ?? '',
  });
  if (!result.connected) {
    logger.info('chat connection refused');
    return { statusCode: 403, body: 'Forbidden' };
  }
  logger.info('chat connected', { tenantId: result.session.tenantId, sessionId: result.session.sessionId });
  return { statusCode: 200 };
});
